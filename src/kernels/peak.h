/*
 * peak.h -- the core's peak floating-point throughput at one ISA level: a
 * loop of independent multiply-adds on vectors of CCK_VBYTES bytes that
 * never touches memory. With the ISA's FMA the compiler contracts each
 * a * m + c into one FMA. The benchmark divides every kernel's speed by it.
 */
#ifndef CCK_PEAK_H
#define CCK_PEAK_H

/* Independent chains: enough to cover FMA latency x 2 ports, few enough to
 * stay in registers with the two constants (16 vector registers below
 * AVX-512, 32 with it). */
#if CCK_VBYTES >= 64
#define CCK_PEAK_CHAINS 24
#else
#define CCK_PEAK_CHAINS 12
#endif
#define CCK_DEFINE_PEAK(T, S)                                                   \
typedef T cck_##S##_peak_v __attribute__((vector_size(CCK_VBYTES)));            \
static double cck_##S##_peak_loop(long long iters)                              \
{                                                                               \
    enum { L = CCK_VBYTES / sizeof(T) };                                        \
    cck_##S##_peak_v a[CCK_PEAK_CHAINS], m, c;                                               \
    for (int l = 0; l < L; l++) { m[l] = (T)0.999999; c[l] = (T)1e-7; }         \
    for (int i = 0; i < CCK_PEAK_CHAINS; i++)                                                \
        for (int l = 0; l < L; l++) a[i][l] = (T)(i + l);                       \
    for (long long it = 0; it < iters; it++) {                                  \
        _Pragma("GCC unroll 24")                                                \
        for (int i = 0; i < CCK_PEAK_CHAINS; i++) a[i] = a[i] * m + c;                       \
    }                                                                           \
    T sum = 0;                                                                  \
    for (int i = 0; i < CCK_PEAK_CHAINS; i++)                                                \
        for (int l = 0; l < L; l++) sum += a[i][l];                             \
    volatile T sink = sum; (void)sink;                                          \
    return 2.0 * CCK_PEAK_CHAINS * L * (double)iters;                                        \
}

CCK_DEFINE_PEAK(float, s)
CCK_DEFINE_PEAK(double, d)

/* Floating-point operations done by `iters` rounds of the loop. */
static double cck_peak_loop(int is_double, long long iters)
{
    return is_double ? cck_d_peak_loop(iters) : cck_s_peak_loop(iters);
}

#endif
