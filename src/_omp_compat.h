/* OpenMP when the compiler has it, a serial stand-in when it does not.
 * setup.py probes for OpenMP; without it the kernels build as serial code. */
#ifndef CCONV_OMP_COMPAT_H
#define CCONV_OMP_COMPAT_H
#ifdef _OPENMP
#include <omp.h>
#define CCONV_OPENMP 1
#else
#define CCONV_OPENMP 0
static inline int omp_get_max_threads(void) { return 1; }
#endif
#endif
