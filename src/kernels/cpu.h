/*
 * cpu.h -- the one CPU detector: which ISA levels of the kernel table this
 * CPU (and its OS, which must save the wider registers) can run. Asked once,
 * by cconv._kernels at import; nothing below the table asks again.
 */
#ifndef CCK_CPU_H
#define CCK_CPU_H

/* Feature bits reported by cck_cpu_features(). */
enum {
    CCK_F_SSE2 = 1 << 0,
    CCK_F_AVX = 1 << 1,
    CCK_F_AVX2 = 1 << 2,
    CCK_F_FMA = 1 << 3,
    CCK_F_AVX512F = 1 << 4,
    CCK_F_AVX512BW = 1 << 5,
    CCK_F_AVX512DQ = 1 << 6,
    CCK_F_AVX512VL = 1 << 7,
    CCK_F_AVX512VNNI = 1 << 8,
    CCK_F_AVX512BF16 = 1 << 9,
    CCK_F_COUNT = 10
};

/* The names of the bits above, in bit order (as /proc/cpuinfo spells them). */
extern const char *const cck_feature_names[CCK_F_COUNT];

/* The features this CPU has (0 on a non-x86 build). */
int cck_cpu_features(void);

/* The highest table level these features can run (cck table.h levels). */
int cck_max_level(int features);

#endif
