/*
 * sync.h - the primitives every implementation builds on: futex calls, a
 * small futex lock, spin-then-yield backoff, and a full fence.
 *
 * Happens-before is always carried by acquire/release atomics, never by the
 * futex syscall itself (ThreadSanitizer cannot see through it).
 */
#ifndef CL_COMMON_SYNC_H
#define CL_COMMON_SYNC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/sanitizers.h"

/* ---- futex ------------------------------------------------------------- */

/* Sleeps while *word == expected, until woken, a signal, or the absolute
 * CLOCK_MONOTONIC deadline in ns (INT64_MAX: none). Spurious returns are
 * allowed; callers re-check. Returns false only when the deadline passed. */
bool cl_futex_wait(_Atomic uint32_t *word, uint32_t expected,
                   int64_t deadline_ns);

/* Wakes up to n threads sleeping on word. */
void cl_futex_wake(_Atomic uint32_t *word, int n);

/* ---- pause ------------------------------------------------------------- */

static inline void cl_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

/* ---- full fence -------------------------------------------------------- */

/* A sequentially consistent fence. ThreadSanitizer does not model
 * standalone fences, so under it the same ordering comes from a seq_cst
 * read-modify-write on a dummy word, which it does model. */
static inline void cl_full_fence(void) {
#ifdef CL_TSAN
  static _Atomic int fence_word;
  atomic_fetch_add_explicit(&fence_word, 0, memory_order_seq_cst);
#else
  atomic_thread_fence(memory_order_seq_cst);
#endif
}

/* ---- backoff ----------------------------------------------------------- */

/* Exponential spinning, then yielding; after that the caller should park.
 * The limits are small: on two cores a spinning waiter steals the CPU its
 * counterpart needs. */
struct cl_backoff {
  unsigned step;
};

#define CL_BACKOFF_SPIN_LIMIT  6  /* up to 2^6 pauses per step */
#define CL_BACKOFF_YIELD_LIMIT 10 /* then a few sched_yield()s */

/* For retrying a lost compare-and-swap: spin only. */
void cl_backoff_spin(struct cl_backoff *b);
/* For waiting on another thread: spin, then yield. */
void cl_backoff_snooze(struct cl_backoff *b);
/* True once snoozing has run its course and it is time to park. */
static inline bool cl_backoff_done(const struct cl_backoff *b) {
  return b->step > CL_BACKOFF_YIELD_LIMIT;
}

/* ---- futex lock -------------------------------------------------------- */

/* Drepper's three-state mutex ("Futexes Are Tricky", mutex 3) with a short
 * spin before sleeping: 0 unlocked, 1 locked, 2 locked with sleepers. */
struct cl_futex_lock {
  _Atomic uint32_t word;
};

void cl_futex_lock_slow(struct cl_futex_lock *l);

static inline void cl_futex_lock(struct cl_futex_lock *l) {
  uint32_t unlocked = 0;
  if (!atomic_compare_exchange_strong_explicit(
          &l->word, &unlocked, 1, memory_order_acquire, memory_order_relaxed))
    cl_futex_lock_slow(l);
}

static inline void cl_futex_unlock(struct cl_futex_lock *l) {
  /* 1 -> 0 means nobody sleeps; from 2 someone may, so wake one. */
  if (atomic_fetch_sub_explicit(&l->word, 1, memory_order_release) != 1) {
    atomic_store_explicit(&l->word, 0, memory_order_release);
    cl_futex_wake(&l->word, 1);
  }
}

#endif /* CL_COMMON_SYNC_H */
