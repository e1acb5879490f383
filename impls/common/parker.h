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

/* The parker and its protocol constants are public (chan/impl.h) so that
 * implementations outside the tree can take part in select and fibers;
 * the in-tree code uses them under these names. */
#define cl_parker chan_parker
#define CL_PARKER_TIMED_OUT CHAN_PARKER_TIMED_OUT
#define CL_OUTCOME_NOTIFIED CHAN_PARKER_NOTIFIED
#define CL_OUTCOME_RETRY CHAN_PARKER_RETRY
#define CL_PARKER_RUNNING CHAN_PARKER_RUNNING
#define CL_PARKER_SLEEPING CHAN_PARKER_SLEEPING
#define CL_PARKER_WOKEN CHAN_PARKER_WOKEN
#define cl_parker_init chan_parker_init
#define cl_parker_destroy chan_parker_destroy
#define cl_parker_claim chan_parker_claim
#define cl_parker_wake chan_parker_wake
#define cl_parker_wait chan_parker_wait

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
