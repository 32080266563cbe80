/*
 * _copy_run.h -- copy a short run of elements without a library call (and
 * add one, for col2im).
 *
 * im2col copies one run per kernel row and output pixel. With few channels
 * (LeNet's C = 1: 5 floats) a memcpy call costs more than the copy itself, so
 * runs of up to 64 bytes are copied with fixed-size moves that the compiler
 * inlines: two overlapping moves of the largest power-of-two size that fits
 * (the same trick C libraries use for their small-size memcpy paths). Runs up
 * to 256 bytes (LeNet's second layer: 5 taps x 6 channels = 120 bytes; a 7x7
 * RGB stem: 84) take two or four 64-byte moves, the first and last
 * overlapping: perf showed the memcpy calls of those runs at about half of
 * lenet-conv2's im2col time.
 */
#ifndef CCONV_COPY_RUN_H
#define CCONV_COPY_RUN_H

#include <stddef.h>
#include <string.h>

/* Copy n bytes, 0 <= n <= 64, by fixed-size (inlined) moves. */
static inline void cconv_copy_small(void *dst, const void *src, size_t n)
{
    unsigned char *d = (unsigned char *)dst;
    const unsigned char *s = (const unsigned char *)src;
    if (n >= 32) {
        unsigned char a[32], b[32];
        memcpy(a, s, 32); memcpy(b, s + n - 32, 32);
        memcpy(d, a, 32); memcpy(d + n - 32, b, 32);
    } else if (n >= 16) {
        unsigned char a[16], b[16];
        memcpy(a, s, 16); memcpy(b, s + n - 16, 16);
        memcpy(d, a, 16); memcpy(d + n - 16, b, 16);
    } else if (n >= 8) {
        unsigned char a[8], b[8];
        memcpy(a, s, 8); memcpy(b, s + n - 8, 8);
        memcpy(d, a, 8); memcpy(d + n - 8, b, 8);
    } else if (n >= 4) {
        unsigned char a[4], b[4];
        memcpy(a, s, 4); memcpy(b, s + n - 4, 4);
        memcpy(d, a, 4); memcpy(d + n - 4, b, 4);
    } else {
        for (size_t i = 0; i < n; i++) d[i] = s[i];
    }
}

/* Copy n bytes, 64 < n <= 256, as two (n <= 128) or four 64-byte moves; the
 * last ones end at n and may overlap the first (dst and src do not overlap). */
static inline void cconv_copy_medium(void *dst, const void *src, size_t n)
{
    unsigned char *d = (unsigned char *)dst;
    const unsigned char *s = (const unsigned char *)src;
    if (n > 128) {
        memcpy(d, s, 64); memcpy(d + 64, s + 64, 64);
        memcpy(d + n - 128, s + n - 128, 64);
    }
    else memcpy(d, s, 64);
    memcpy(d + n - 64, s + n - 64, 64);
}

static inline void cconv_copy_run(void *dst, const void *src, size_t nbytes)
{
    if (nbytes <= 64) cconv_copy_small(dst, src, nbytes);
    else if (nbytes <= 256) cconv_copy_medium(dst, src, nbytes);
    else memcpy(dst, src, nbytes);
}

static inline void cconv_zero_run(void *dst, size_t nbytes)
{
    static const unsigned char zeros[64] = {0};
    if (nbytes <= 64) cconv_copy_small(dst, zeros, nbytes);
    else memset(dst, 0, nbytes);
}

/* dst[i] += src[i] for i < n: col2im adds one run per kernel row (or tap)
 * and output pixel; as a C loop over restrict pointers the compiler
 * vectorises it, which the Cython loop it replaces was not. */
static inline void cconv_add_run_f(float *restrict dst, const float *restrict src, size_t n)
{
    for (size_t i = 0; i < n; i++) dst[i] += src[i];
}

static inline void cconv_add_run_d(double *restrict dst, const double *restrict src, size_t n)
{
    for (size_t i = 0; i < n; i++) dst[i] += src[i];
}

#endif
