/*
 * parker.h - where a blocked waiter sleeps, and the claim that decides who
 * wakes it. One parker serves a plain blocking operation or all the cases of
 * one select (Go's sudog.g plus g.selectDone). The waiter is a thread or a
 * fiber (fiber.h); the channels never need to know which.
 *
 * Protocol (checked by the spin model in stress/model/):
 *   1. The owner initializes the parker on its own stack and queues one
 *      waiter per case on the channels (waitq.h), each pointing here.
 *   2. Whoever wants to act on a queued waiter (a counterpart operation, a
 *      close, a notification, or the owner itself) must first win
 *      cl_parker_claim(): a compare-and-swap of `claim` from 0. Exactly one
 *      party wins, so exactly one case of a select fires. A timed-out owner
 *      claims CL_PARKER_TIMED_OUT, after which nobody else can.
 *   3. The winner (if not the owner) writes the value and `outcome`, then
 *      calls cl_parker_wake(), its last touch of the parker: the owner may
 *      return and reuse its stack as soon as it sees the wake-up.
 *   4. The owner, after cl_parker_wait(), dequeues its waiters from every
 *      channel (under each channel's lock) before returning.
 *
 * Three ways to sleep. A thread sleeps as the channel asks
 * (struct chan.park_kind); a fiber always parks in user space:
 *   CL_PARK_FUTEX    spin briefly on `state`, then futex-wait on it.
 *   CL_PARK_CONDVAR  a pthread mutex + CLOCK_MONOTONIC condition variable
 *                    private to this parker (the mutex implementation's
 *                    textbook monitor; private so that any channel's
 *                    thread can signal it without a thundering herd).
 *   CL_PARK_FIBER    the fiber switches to its worker's scheduler, which
 *                    commits the sleep; a wake-up pushes it on a run queue
 *                    and a deadline is a timer on its worker (fiber/).
 *
 * `state` goes RUNNING -> SLEEPING (the sleeper commits: futex, condvar or
 * scheduler) and -> WOKEN (the claimer's last touch). A waker that finds
 * SLEEPING must wake the sleeper (FUTEX_WAKE, signal, or ready the fiber);
 * one that finds RUNNING need not, because the sleeper's commit will fail.
 *
 * Waiting is never a cancellation point (chan.h): the owner's waiters stay
 * queued while it sleeps, so it must not unwind from there. The futex wait
 * is none; the condition-variable wait runs with cancellation disabled.
 *
 * Synchronization: `claim` is written once by CAS (acq_rel); `outcome` and
 * the waiter's value are written by the winner before the release in
 * cl_parker_wake() and read by the owner after the acquire in
 * cl_parker_wait().
 */
#ifndef CL_COMMON_PARKER_H
#define CL_COMMON_PARKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/impl.h"

/* claim values: 0 open; 1 + case index when a case fired; or this. */
#define CL_PARKER_TIMED_OUT UINT32_MAX

/* Outcomes beyond CHAN_OK / CHAN_CLOSED, set by the claimer. */
enum {
  CL_OUTCOME_NOTIFIED = 100, /* woken to retry (no value was moved) */
  CL_OUTCOME_RETRY = 101,    /* owner claimed itself; readiness vanished */
};

enum { CL_PARKER_RUNNING = 0, CL_PARKER_SLEEPING = 1, CL_PARKER_WOKEN = 2 };

struct cl_parker {
  _Atomic uint32_t claim; /* see above */
  _Atomic uint32_t state; /* futex word: CL_PARKER_RUNNING, ... */
  int outcome;            /* written by the claimer before waking */
  enum cl_park_kind kind;
  unsigned spin;
  struct chan_fiber *fiber; /* CL_PARK_FIBER: the owner */
  pthread_mutex_t mu;       /* CL_PARK_CONDVAR only: guards state's changes */
  pthread_cond_t cv;
};

/* kind and spin say how a thread sleeps; on a fiber, the parker parks the
 * fiber whatever they say. */
void cl_parker_init(struct cl_parker *p, enum cl_park_kind kind, unsigned spin);
void cl_parker_destroy(struct cl_parker *p);

/* Wins the right to complete this parker's operation (see protocol). */
static inline bool cl_parker_claim(struct cl_parker *p, uint32_t value) {
  uint32_t open = 0;
  return atomic_compare_exchange_strong_explicit(
      &p->claim, &open, value, memory_order_acq_rel, memory_order_acquire);
}

/* The winner's last touch: publishes outcome and wakes the owner. */
void cl_parker_wake(struct cl_parker *p, int outcome);

/* Sleeps until woken or the deadline passes. Returns true when woken (then
 * claim names the fired case and outcome is valid), false when the owner
 * won the claim for CL_PARKER_TIMED_OUT. A deadline that passes after
 * someone else won the claim is ignored: the owner waits for the wake-up,
 * which is imminent. */
bool cl_parker_wait(struct cl_parker *p, int64_t deadline);

/* ---- the fiber half (fiber/) ------------------------------------------- */

/* The fiber running on this thread, or NULL on a plain thread. Never
 * inlined: a fiber may resume on another worker after any switch, so the
 * thread-local must be read afresh each time. */
struct chan_fiber *cl_fiber_current(void);

/* For CL_PARK_FIBER: cl_fiber_wait parks the calling fiber until its parker
 * is woken or the deadline passes (its timer then claims the parker for
 * CL_PARKER_TIMED_OUT and wakes it), returning as cl_parker_wait does;
 * cl_fiber_ready makes a parked fiber runnable. */
bool cl_fiber_wait(struct cl_parker *p, int64_t deadline);
void cl_fiber_ready(struct chan_fiber *f);

#endif /* CL_COMMON_PARKER_H */
