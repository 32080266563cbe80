/*
 * _cpu_features.h -- one place that says whether this CPU runs the AVX2+FMA
 * builds of cconv's direct kernels. CCONV_AVX2 marks a function to be
 * compiled for AVX2+FMA; cconv_use_avx2() says at run time whether to call it.
 */
#ifndef CCONV_CPU_FEATURES_H
#define CCONV_CPU_FEATURES_H

#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
#define CCONV_X86 1
#define CCONV_AVX2 __attribute__((target("avx2,fma")))
/* AVX2 and FMA both, checked once (a benign race: every thread agrees). */
static inline int cconv_use_avx2(void)
{
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    return cached;
}
#else
#define CCONV_X86 0
#define CCONV_AVX2
static inline int cconv_use_avx2(void) { return 0; }
#endif

#endif
