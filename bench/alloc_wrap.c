/*
 * alloc_wrap.c - counts allocation calls made by chanlab code, and keeps
 * every thread's allocation counters where they can be summed.
 *
 * The benchmark binary is linked with -Wl,--wrap for the malloc family, so
 * every call from chanlab's own objects (the channel library and the
 * scenarios, not libstdc++ or Google Benchmark) comes here first, bumps a
 * per-thread counter and goes on to the real allocator (jemalloc or glibc).
 * jemalloc's thread.allocated counter gives the bytes; this gives the calls,
 * and the bytes too when the system allocator is used.
 *
 * Per-thread counters measure a role thread, but not a fiber: a fiber moves
 * between the runtime's worker threads whenever it parks. So pthread_create
 * is wrapped too: every thread chanlab code starts (role threads, pattern
 * threads, the fiber runtime's workers) registers its counters (these two
 * and jemalloc's thread.allocated) on a list for as long as it runs, and a
 * thread that ends adds its final counts to a retired total.
 * alloc_threads_total() sums the list and the retired total: over a fiber
 * round, the difference of two sums is what every worker allocated.
 *
 * Synchronization: each counter has one writer, its thread, which stores it
 * with relaxed atomics (no read-modify-write: as cheap as a plain
 * increment); a reader on another thread loads it relaxed. The list and the
 * retired total are guarded by a mutex taken only when a thread starts or
 * ends and when the totals are read (between rounds).
 */
#include "alloc_wrap.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#ifdef CHAN_BENCH_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

_Thread_local _Atomic uint64_t alloc_wrap_calls;
_Thread_local _Atomic uint64_t alloc_wrap_bytes;

/* Bumps one of the calling thread's counters (its only writer). */
static inline void bump(_Atomic uint64_t *c, uint64_t by) {
  atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + by,
                        memory_order_relaxed);
}

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__real_aligned_alloc(size_t align, size_t n);
int __real_posix_memalign(void **p, size_t align, size_t n);
int __real_pthread_create(pthread_t *t, const pthread_attr_t *attr,
                          void *(*fn)(void *), void *arg);

void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_aligned_alloc(size_t align, size_t n);
int __wrap_posix_memalign(void **p, size_t align, size_t n);
int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *attr,
                          void *(*fn)(void *), void *arg);

void *__wrap_malloc(size_t n) {
  bump(&alloc_wrap_calls, 1);
  bump(&alloc_wrap_bytes, n);
  return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size) {
  bump(&alloc_wrap_calls, 1);
  bump(&alloc_wrap_bytes, n * size);
  return __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n) {
  bump(&alloc_wrap_calls, 1);
  bump(&alloc_wrap_bytes, n);
  return __real_realloc(p, n);
}

void *__wrap_aligned_alloc(size_t align, size_t n) {
  bump(&alloc_wrap_calls, 1);
  bump(&alloc_wrap_bytes, n);
  return __real_aligned_alloc(align, n);
}

int __wrap_posix_memalign(void **p, size_t align, size_t n) {
  bump(&alloc_wrap_calls, 1);
  bump(&alloc_wrap_bytes, n);
  return __real_posix_memalign(p, align, n);
}

/* ---- every thread's counters --------------------------------------------- */

uint64_t *alloc_jemalloc_counter(void) {
#ifdef CHAN_BENCH_JEMALLOC
  uint64_t *p = NULL;
  size_t sz = sizeof p;
  if (mallctl("thread.allocatedp", &p, &sz, NULL, 0) == 0)
    return p;
#endif
  return NULL;
}

/* A running thread's counters, on its own stack for as long as it runs. */
struct counted_thread {
  _Atomic uint64_t *calls, *bytes;
  const uint64_t *je_allocated; /* jemalloc's, or NULL */
  struct counted_thread *prev, *next;
};

static pthread_mutex_t threads_mu = PTHREAD_MUTEX_INITIALIZER;
static struct counted_thread *threads; /* threads_mu */
static struct alloc_total retired;     /* threads_mu */

static void read_thread(const struct counted_thread *t,
                        struct alloc_total *into) {
  into->calls += atomic_load_explicit(t->calls, memory_order_relaxed);
  /* jemalloc's counter is written by its thread alone; a load of an
   * aligned 64-bit word between rounds reads a value it had. */
  into->bytes += t->je_allocated
                     ? *(const volatile uint64_t *)t->je_allocated
                     : atomic_load_explicit(t->bytes, memory_order_relaxed);
}

void alloc_threads_total(struct alloc_total *out) {
  pthread_mutex_lock(&threads_mu);
  *out = retired;
  for (const struct counted_thread *t = threads; t; t = t->next)
    read_thread(t, out);
  pthread_mutex_unlock(&threads_mu);
}

static void thread_ended(void *p) {
  struct counted_thread *t = p;
  pthread_mutex_lock(&threads_mu);
  read_thread(t, &retired);
  if (t->prev)
    t->prev->next = t->next;
  else
    threads = t->next;
  if (t->next)
    t->next->prev = t->prev;
  pthread_mutex_unlock(&threads_mu);
}

struct start {
  void *(*fn)(void *);
  void *arg;
};

static void *counted_main(void *p) {
  struct start s = *(struct start *)p;
  free(p); /* not counted: free is not wrapped */
  struct counted_thread t = {&alloc_wrap_calls, &alloc_wrap_bytes,
                             alloc_jemalloc_counter(), NULL, NULL};
  pthread_mutex_lock(&threads_mu);
  t.next = threads;
  if (threads)
    threads->prev = &t;
  threads = &t;
  pthread_mutex_unlock(&threads_mu);
  void *ret;
  /* Also when the thread calls pthread_exit. */
  pthread_cleanup_push(thread_ended, &t);
  ret = s.fn(s.arg);
  pthread_cleanup_pop(1);
  return ret;
}

int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *attr,
                          void *(*fn)(void *), void *arg) {
  /* The real allocator, uncounted: this is the benchmark's bookkeeping. */
  struct start *s = __real_malloc(sizeof *s);
  if (!s)
    return EAGAIN; /* as pthread_create reports a lack of resources */
  s->fn = fn;
  s->arg = arg;
  int rc = __real_pthread_create(t, attr, counted_main, s);
  if (rc != 0)
    free(s);
  return rc;
}
