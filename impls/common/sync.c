/* sync.c - futex calls, the futex lock's slow path, backoff, clocks. */
#include "common/sync.h"
#include "common/impl.h"

#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int64_t cl_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t cl_deadline_after(int64_t timeout_ns) {
  int64_t now = cl_now_ns();
  /* Saturate: a timeout of centuries is "none". */
  return timeout_ns >= CL_DEADLINE_NONE - now ? CL_DEADLINE_NONE
                                              : now + timeout_ns;
}

bool cl_futex_wait(_Atomic uint32_t *word, uint32_t expected,
                   int64_t deadline_ns) {
  struct timespec ts, *abs = NULL;
  if (deadline_ns != INT64_MAX) {
    if (deadline_ns <= cl_now_ns())
      return false;
    ts.tv_sec = (time_t)(deadline_ns / 1000000000);
    ts.tv_nsec = (long)(deadline_ns % 1000000000);
    abs = &ts;
  }
  /* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC deadline, so a
   * wait interrupted and resumed never stretches the timeout. */
  long rc = syscall(SYS_futex, (uint32_t *)word,
                    FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, expected, abs, NULL,
                    FUTEX_BITSET_MATCH_ANY);
  return !(rc == -1 && errno == ETIMEDOUT);
}

void cl_futex_wake(_Atomic uint32_t *word, int n) {
  syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, n, NULL,
          NULL, 0);
}

void cl_backoff_spin(struct cl_backoff *b) {
  unsigned step =
      b->step < CL_BACKOFF_SPIN_LIMIT ? b->step : CL_BACKOFF_SPIN_LIMIT;
  for (unsigned i = 0; i < (1u << step); i++)
    cl_cpu_relax();
  if (b->step <= CL_BACKOFF_SPIN_LIMIT)
    b->step++;
}

void cl_backoff_snooze(struct cl_backoff *b) {
  if (b->step <= CL_BACKOFF_SPIN_LIMIT) {
    for (unsigned i = 0; i < (1u << b->step); i++)
      cl_cpu_relax();
  } else {
    sched_yield();
  }
  if (b->step <= CL_BACKOFF_YIELD_LIMIT)
    b->step++;
}

void cl_futex_lock_slow(struct cl_futex_lock *l) {
  /* Spin briefly: critical sections are a few dozen instructions. */
  for (int i = 0; i < 64; i++) {
    uint32_t unlocked = 0;
    if (atomic_load_explicit(&l->word, memory_order_relaxed) == 0 &&
        atomic_compare_exchange_weak_explicit(
            &l->word, &unlocked, 1, memory_order_acquire, memory_order_relaxed))
      return;
    cl_cpu_relax();
  }
  /* Mark the lock contended (2) so the holder wakes us on unlock. */
  uint32_t c = atomic_exchange_explicit(&l->word, 2, memory_order_acquire);
  while (c != 0) {
    cl_futex_wait(&l->word, 2, INT64_MAX);
    c = atomic_exchange_explicit(&l->word, 2, memory_order_acquire);
  }
}
