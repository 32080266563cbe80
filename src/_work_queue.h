/* A task queue that is one shared counter: ccq_take returns the counter's
 * value and adds one, atomically, so every index is handed out once, to
 * whichever thread asks first. The weight gradient's threads each drain the
 * queue of their own half of the Winograd positions first (its data is in
 * their core's cache), then help with the other half's, so a thread that
 * the OS deschedules does not hold up the call. */
#ifndef CCONV_WORK_QUEUE_H
#define CCONV_WORK_QUEUE_H
#include <stddef.h>

static inline ptrdiff_t ccq_take(ptrdiff_t *next)
{
    ptrdiff_t taken;
#ifdef _OPENMP
#pragma omp atomic capture
#endif
    taken = (*next)++;
    return taken;
}
#endif
