/*
 * park_seam.h - the seam between the parker (parker.c, the channel side)
 * and a runtime of user-space threads (fiber/): Go's gopark/goready split.
 * The parker calls only the three functions below to learn whether its
 * caller is a fiber, to park one and to make one runnable again; the fiber
 * runtime implements them and needs nothing of the channel core beyond the
 * public parker (chan/impl.h) and the few services listed at the end.
 *
 * Two sides, one set of names, chosen at build time (no indirect call):
 *   CHAN_FIBERS=ON   fiber/fiber.c defines them (the M:N runtime).
 *   CHAN_FIBERS=OFF  impls/common/park_stub.c defines them: there are no
 *                    fibers, cl_fiber_current() is always NULL, so every
 *                    parker parks a thread (futex or condvar) and the
 *                    other two are never called.
 *
 * Protocol (the parker's; checked by the spin model in stress/model/).
 * `claim` and `state` are struct chan_parker's (chan/impl.h):
 *   1. cl_parker_init() on a fiber stores cl_fiber_current() in p->fiber
 *      and sets kind CL_PARK_FIBER; state starts RUNNING.
 *   2. The owner queues its waiters, then cl_parker_wait() calls
 *      cl_fiber_wait(p, deadline). The runtime switches to the worker's
 *      scheduler and only there, off the fiber's stack, commits the sleep
 *      with CAS state RUNNING -> SLEEPING (acq_rel). If the CAS fails the
 *      state is WOKEN and the fiber resumes at once.
 *   3. A claimer (winner of cl_parker_claim) writes the value and outcome,
 *      reads p->fiber, then exchanges state to WOKEN (acq_rel): the release
 *      publishes the value and outcome, the acquire pairs with the commit
 *      CAS so the fiber's saved context is visible. Only if it saw SLEEPING
 *      does it call cl_fiber_ready(f), exactly once per park; it touches
 *      neither p nor the fiber's stack afterwards.
 *   4. A deadline is a timer on the fiber's worker: when it fires, the
 *      runtime claims CL_PARKER_TIMED_OUT and, if it won, wakes the parker
 *      with cl_parker_wake() like any claimer; cl_fiber_wait() then
 *      returns false. It returns true when someone else's claim woke it.
 *      Either way it returns with an acquire of state == WOKEN, as
 *      cl_parker_wait() does.
 *
 * Invariants: a fiber is readied at most once per committed sleep; the
 * runtime never reads a parker after the fiber it belongs to resumed; the
 * sanitizer fiber-switch annotations (fiber/switch.h) go with every switch.
 */
#ifndef CL_COMMON_PARK_SEAM_H
#define CL_COMMON_PARK_SEAM_H

#include <chan/chan.h>
#include <chan/impl.h>

#include <stdbool.h>
#include <stdint.h>

/* ---- what a runtime provides (fiber/fiber.c, or park_stub.c) ---------- */

/* The fiber running on this thread, or NULL on a plain thread. Never
 * inlined: a fiber may resume on another worker after any switch, so the
 * thread-local must be read afresh each time. */
struct chan_fiber *cl_fiber_current(void);

/* Parks the calling fiber (p->kind == CL_PARK_FIBER) until p is woken
 * (true) or the deadline passes and the timer won the claim (false). */
bool cl_fiber_wait(struct chan_parker *p, int64_t deadline);

/* Makes a fiber whose sleep was committed runnable (step 3). */
void cl_fiber_ready(struct chan_fiber *f);

/* ---- what the core provides the runtime ------------------------------ */

/* The public parker under its in-tree names (chan/impl.h). */
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
/* The same aliases as common/impl.h's (identical, so both may be seen). */
#define CL_PARK_FUTEX CHAN_PARK_FUTEX
#define CL_PARK_FIBER CHAN_PARK_FIBER
#define CL_DEADLINE_NONE CHAN_DEADLINE_NONE

/* api.c: the clock of every deadline, and chan_last_error()'s message. */
int64_t cl_now_ns(void);
int64_t cl_deadline_after(int64_t timeout_ns); /* timeout_ns > 0 */
int cl_set_error(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif /* CL_COMMON_PARK_SEAM_H */
