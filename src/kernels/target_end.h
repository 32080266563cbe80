/* The end of the region that target_begin.h opened. */
#ifdef CCK_TARGET
#if defined(__clang__)
#pragma clang attribute pop
#elif defined(__GNUC__)
#pragma GCC pop_options
#endif
#endif
