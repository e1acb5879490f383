/*
 * alloc_wrap.h - the allocation counters of alloc_wrap.c: per thread, and
 * summed over every thread chanlab code started (see alloc_wrap.c).
 */
#ifndef CHAN_BENCH_ALLOC_WRAP_H
#define CHAN_BENCH_ALLOC_WRAP_H

#include <stdatomic.h>
#include <stdint.h>

/* Allocation calls (and bytes asked for) by chanlab code on this thread;
 * written by this thread only. */
extern _Thread_local _Atomic uint64_t alloc_wrap_calls;
extern _Thread_local _Atomic uint64_t alloc_wrap_bytes;

/* The calling thread's jemalloc thread.allocated counter (bytes it ever
 * allocated, through any code), or NULL with the system allocator. */
uint64_t *alloc_jemalloc_counter(void);

struct alloc_total {
  uint64_t bytes; /* jemalloc's thread.allocated, else the wrapped bytes */
  uint64_t calls; /* allocation calls from chanlab code */
};

/* Sums the counters of every thread chanlab code started (running or
 * ended) since the process began; the main thread is not included. */
void alloc_threads_total(struct alloc_total *out);

#endif /* CHAN_BENCH_ALLOC_WRAP_H */
