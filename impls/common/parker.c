/* parker.c - sleeping and waking one blocked waiter; see parker.h. */
#include "common/parker.h"
#include "common/sync.h"

#include <chan/fiber.h>

#include <errno.h>
#include <time.h>

enum {
  RUNNING = CL_PARKER_RUNNING,
  SLEEPING = CL_PARKER_SLEEPING,
  WOKEN = CL_PARKER_WOKEN
};

static pthread_condattr_t monotonic_attr;
static pthread_once_t monotonic_once = PTHREAD_ONCE_INIT;

static void monotonic_attr_init(void) {
  pthread_condattr_init(&monotonic_attr);
  pthread_condattr_setclock(&monotonic_attr, CLOCK_MONOTONIC);
}

void cl_parker_init(struct cl_parker *p, enum cl_park_kind kind,
                    unsigned spin) {
  atomic_init(&p->claim, 0);
  atomic_init(&p->state, RUNNING);
  p->outcome = CHAN_OK;
  p->fiber = cl_fiber_current();
  p->kind = p->fiber ? CL_PARK_FIBER : kind;
  p->spin = p->fiber ? 0 : spin; /* its counterpart may need this worker */
  if (p->kind == CL_PARK_CONDVAR) {
    pthread_once(&monotonic_once, monotonic_attr_init);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, &monotonic_attr);
  }
}

void cl_parker_destroy(struct cl_parker *p) {
  if (p->kind == CL_PARK_CONDVAR) {
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
  }
}

void cl_parker_wake(struct cl_parker *p, int outcome) {
  p->outcome = outcome;
  if (p->kind == CL_PARK_FIBER) {
    /* Read the fiber before the exchange: after it, the owner may be gone.
     * acq_rel: the acquire half pairs with the scheduler's SLEEPING CAS,
     * after which the fiber's saved context may be read to resume it. */
    struct chan_fiber *f = p->fiber;
    if (atomic_exchange_explicit(&p->state, WOKEN, memory_order_acq_rel) ==
        SLEEPING)
      cl_fiber_ready(f);
    return;
  }
  if (p->kind == CL_PARK_CONDVAR) {
    /* Under the parker's mutex, so the owner cannot check state and then
     * miss the signal; the owner cannot return before we unlock. */
    pthread_mutex_lock(&p->mu);
    atomic_store_explicit(&p->state, WOKEN, memory_order_release);
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return;
  }
  /* Release: outcome and the moved value are visible to the owner's
   * acquire. Only a sleeping owner costs a syscall. The owner may already
   * be gone when FUTEX_WAKE runs; waking a dead address is harmless (at
   * worst a spurious wake-up for a later parker there, which re-checks). */
  uint32_t was =
      atomic_exchange_explicit(&p->state, WOKEN, memory_order_release);
  if (was == SLEEPING)
    cl_futex_wake(&p->state, 1);
}

static bool woken(struct cl_parker *p) {
  return atomic_load_explicit(&p->state, memory_order_acquire) == WOKEN;
}

/* The deadline passed: take the claim so nobody can fire us any more. If
 * someone already has it, they are about to wake us; wait for that. */
static bool claim_timeout(struct cl_parker *p) {
  return cl_parker_claim(p, CL_PARKER_TIMED_OUT);
}

/* pthread_cond_(timed)wait is a cancellation point, and chan.h promises
 * that no channel function is one: a thread canceled in it would unwind
 * with its waiter still queued on the channel, on a stack that is gone,
 * and the next counterpart would claim it and write into that stack. So
 * cancellation is disabled while we sleep; a pending cancel acts at the
 * caller's next cancellation point, after the operation has completed.
 * (Only this path pays for it; the futex path makes no cancellation point:
 * syscall() is not one.) */
static bool wait_condvar(struct cl_parker *p, int64_t deadline) {
  struct timespec abs = {.tv_sec = (time_t)(deadline / 1000000000),
                         .tv_nsec = (long)(deadline % 1000000000)};
  bool ok = true;
  int cancel_state;
  pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);
  pthread_mutex_lock(&p->mu);
  /* Commit the sleep (RUNNING -> SLEEPING, as the other kinds do). Wakers
   * write WOKEN under the same mutex, so nothing races this store; it only
   * tells observers (chan_debug_sleepers) that we are past our last look. */
  if (!woken(p))
    atomic_store_explicit(&p->state, SLEEPING, memory_order_relaxed);
  while (!woken(p)) {
    int rc = deadline == CL_DEADLINE_NONE
                 ? pthread_cond_wait(&p->cv, &p->mu)
                 : pthread_cond_timedwait(&p->cv, &p->mu, &abs);
    if (rc == ETIMEDOUT && !woken(p)) {
      if (claim_timeout(p)) {
        ok = false;
        break;
      }
      deadline = CL_DEADLINE_NONE;
    }
  }
  pthread_mutex_unlock(&p->mu);
  pthread_setcancelstate(cancel_state, NULL);
  return ok;
}

bool cl_parker_wait(struct cl_parker *p, int64_t deadline) {
  CL_CHAOS_POINT("parker.before_wait");
  if (p->kind == CL_PARK_FIBER)
    return cl_fiber_wait(p, deadline);
  if (p->kind == CL_PARK_CONDVAR)
    return wait_condvar(p, deadline);

  /* Spin first: a counterpart on another core often arrives within a
   * microsecond, far sooner than a futex round trip. */
  for (unsigned i = 0; i < p->spin; i++) {
    if (woken(p))
      return true;
    cl_cpu_relax();
  }
  for (;;) {
    uint32_t s = RUNNING;
    if (!atomic_compare_exchange_strong_explicit(&p->state, &s, SLEEPING,
                                                 memory_order_acquire,
                                                 memory_order_acquire) &&
        s == WOKEN)
      return true;
    /* state is SLEEPING: the waker's exchange will see it and wake us. */
    CL_CHAOS_POINT("parker.sleeping");
    bool in_time = cl_futex_wait(&p->state, SLEEPING, deadline);
    if (woken(p))
      return true;
    if (!in_time) {
      if (claim_timeout(p))
        return false;
      deadline = CL_DEADLINE_NONE;
    }
  }
}

/* chan_fiber_sleep (chan/fiber.h), in both builds: a parker nobody else can
 * claim, so only the deadline ends the wait. On a thread it sleeps on its
 * futex word; on a fiber, on its worker's timer heap (the seam's
 * cl_fiber_wait); in a thread-only build always the former (the patterns
 * library sleeps this way). */
int chan_fiber_sleep(int64_t ns) {
  if (ns < 0)
    return cl_set_error(CHAN_EINVAL, "chan_fiber_sleep: negative time %lld",
                        (long long)ns);
  if (ns == 0)
    return CHAN_OK;
  struct cl_parker p;
  cl_parker_init(&p, CL_PARK_FUTEX, 0);
  cl_parker_wait(&p, cl_deadline_after(ns));
  cl_parker_destroy(&p);
  return CHAN_OK;
}
