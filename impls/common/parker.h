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
 *                    and a deadline is a timer on its worker (fiber/),
 *                    all through park_seam.h (none in a CHAN_FIBERS=OFF
 *                    build: cl_fiber_current() is then always NULL).
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

/* The parker's types and constants are public (chan/impl.h); their in-tree
 * cl_ names, and the fiber side of parking (cl_fiber_current, cl_fiber_wait,
 * cl_fiber_ready), are the seam to the fiber runtime: park_seam.h. The
 * parker reaches fibers only through it. */
#include "common/park_seam.h"

#endif /* CL_COMMON_PARKER_H */
