/*
 * cpu.c -- the CPU detector behind cpu.h. On x86 with GCC or Clang it uses
 * __builtin_cpu_supports, which also checks (through XGETBV) that the OS
 * saves the AVX and AVX-512 register state; elsewhere it reports nothing,
 * and only the baseline level runs.
 */
#include "cpu.h"
#include "table.h"

const char *const cck_feature_names[CCK_F_COUNT] = {
    "sse2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512dq", "avx512vl",
    "avx512_vnni", "avx512_bf16",
};

int cck_cpu_features(void)
{
    int f = 0;
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
    __builtin_cpu_init();
    if (__builtin_cpu_supports("sse2")) f |= CCK_F_SSE2;
    if (__builtin_cpu_supports("avx")) f |= CCK_F_AVX;
    if (__builtin_cpu_supports("avx2")) f |= CCK_F_AVX2;
    if (__builtin_cpu_supports("fma")) f |= CCK_F_FMA;
    if (__builtin_cpu_supports("avx512f")) f |= CCK_F_AVX512F;
    if (__builtin_cpu_supports("avx512bw")) f |= CCK_F_AVX512BW;
    if (__builtin_cpu_supports("avx512dq")) f |= CCK_F_AVX512DQ;
    if (__builtin_cpu_supports("avx512vl")) f |= CCK_F_AVX512VL;
    if (__builtin_cpu_supports("avx512vnni")) f |= CCK_F_AVX512VNNI;
    if (__builtin_cpu_supports("avx512bf16")) f |= CCK_F_AVX512BF16;
#endif
    return f;
}

int cck_max_level(int f)
{
    const int avx2 = CCK_F_AVX | CCK_F_AVX2 | CCK_F_FMA;
    const int avx512 = avx2 | CCK_F_AVX512F | CCK_F_AVX512BW | CCK_F_AVX512DQ | CCK_F_AVX512VL;
    int level = CCK_BASELINE;
    if ((f & avx2) == avx2 && cck_row_for(CCK_AVX2)) level = CCK_AVX2;
    if ((f & avx512) == avx512 && cck_row_for(CCK_AVX512)) level = CCK_AVX512;
    return level;
}

const cck_row *cck_row_for(int level)
{
    switch (level) {
    case CCK_BASELINE: return cck_row_baseline();
    case CCK_AVX2: return cck_row_avx2();
    case CCK_AVX512: return cck_row_avx512();
    default: return 0;
    }
}
