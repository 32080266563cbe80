/*
 * target_begin.h / target_end.h -- compile everything between them for the
 * ISA named by CCK_TARGET (a GCC/Clang target string such as "avx2,fma"),
 * so one C body, included between them, becomes that ISA's kernels. Only
 * called after the CPU detector said the CPU has that ISA. Without
 * CCK_TARGET (the baseline), nothing changes.
 */
#ifdef CCK_TARGET
#if defined(__clang__)
#define CCK_PRAGMA_(x) _Pragma(#x)
#define CCK_PRAGMA(x) CCK_PRAGMA_(x)
CCK_PRAGMA(clang attribute push(__attribute__((target(CCK_TARGET))), apply_to = function))
#elif defined(__GNUC__)
#define CCK_PRAGMA_(x) _Pragma(#x)
#define CCK_PRAGMA(x) CCK_PRAGMA_(x)
#pragma GCC push_options
CCK_PRAGMA(GCC target(CCK_TARGET))
#endif
#endif
