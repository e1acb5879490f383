/*
 * select.c - select over any mix of implementations, after Go's
 * runtime/select.go, written once for all of them.
 *
 * Algorithm:
 *   1. Shuffle the non-NULL cases (uniform choice among ready ones).
 *   2. Poll pass: try each case without blocking, in that order; the first
 *      that completes wins. For CHAN_POLL, the pass is validated: it reads
 *      every channel's change count before and after, and repeats while any
 *      changed, so "no case ready" held at one instant for all cases at once
 *      (Go gets this by locking every channel; a lock-free ring has no lock
 *      to take). Go's TestNonblockSelectRace checks exactly this.
 *   3. Park pass: queue one waiter per case (each on its channel, which
 *      re-checks readiness atomically: select_enqueue), all sharing one
 *      parker on this stack, and sleep. The first party to claim the parker
 *      fires its case (parker.h): a handoff from a counterpart, a close, the
 *      deadline, or this thread itself when a channel was ready at enqueue.
 *   4. Dequeue every waiter, then act on the outcome: a completed case
 *      returns; NOTIFIED (a lock-free channel woke us to retry) or RETRY
 *      (readiness vanished) loops to step 2.
 *
 * A notification is a promise that a value or a slot is there for us. If we
 * were notified by case k and then return having done some other case, we
 * pass the notification on (renotify) so no other waiter misses it.
 *
 * Nothing here allocates: waiters and the parker live on this stack.
 */
#include <chan/chan.h>

#include <stdatomic.h>
#include <stdint.h>

#include "common/impl.h"
#include "common/parker.h"
#include "common/sync.h"
#include "common/waitq.h"

/* ---- per-thread random choice ------------------------------------------ */

static _Thread_local uint64_t select_rng;

void chan_select_seed(uint64_t seed) {
  select_rng = seed ? seed : 0x9e3779b97f4a7c15ull;
}

static uint32_t random_below(uint32_t bound) {
  if (!select_rng) /* unseeded thread: mix its stack address and the clock */
    chan_select_seed((uint64_t)(uintptr_t)&bound ^
                     (uint64_t)cl_now_ns() * 0xbf58476d1ce4e5b9ull);
  /* xorshift64*, then Lemire's multiply-shift onto [0, bound). */
  select_rng ^= select_rng >> 12;
  select_rng ^= select_rng << 25;
  select_rng ^= select_rng >> 27;
  uint64_t x = select_rng * 0x2545f4914f6cdd1dull;
  return (uint32_t)(((x >> 32) * (uint64_t)bound) >> 32);
}

/* ---- the passes -------------------------------------------------------- */

static int try_case(const struct chan_case *c) {
  return c->dir == CHAN_SEND
             ? c->chan->ops->send(c->chan, c->elem, CL_DEADLINE_POLL)
             : c->chan->ops->recv(c->chan, c->elem, CL_DEADLINE_POLL);
}

/* Step 2. Returns the position in order[] of the case that completed, or
 * -1; *status receives its result. */
static int poll_pass(const struct chan_case *cases, const uint8_t *order,
                     size_t active, int *status) {
  for (size_t k = 0; k < active; k++) {
    int rc = try_case(&cases[order[k]]);
    if (rc != CHAN_WOULD_BLOCK) {
      *status = rc;
      return (int)k;
    }
  }
  return -1;
}

static void read_change_counts(const struct chan_case *cases,
                               const uint8_t *order, size_t active,
                               uint64_t *counts) {
  for (size_t k = 0; k < active; k++) {
    const struct chan *ch = cases[order[k]].chan;
    counts[k] = ch->ops->change_count(ch);
  }
}

/* Step 2 for CHAN_POLL: repeat until a case completes or a whole pass saw
 * no channel change. Under a storm of changes that never leaves a case
 * ready for us, give up after many rounds rather than spin forever. */
static int validated_poll_pass(const struct chan_case *cases,
                               const uint8_t *order, size_t active,
                               int *status) {
  uint64_t before[CHAN_SELECT_MAX_CASES];
  for (int round = 0; round < 1000; round++) {
    read_change_counts(cases, order, active, before);
    int k = poll_pass(cases, order, active, status);
    if (k >= 0)
      return k;
    bool changed = false;
    for (size_t j = 0; j < active && !changed; j++) {
      const struct chan *ch = cases[order[j]].chan;
      changed = ch->ops->change_count(ch) != before[j];
    }
    if (!changed)
      return -1;
  }
  return -1;
}

/* Step 3 and 4. Returns the fired case's position in order[] with *status,
 * or -1 with *status CHAN_TIMEOUT or CL_OUTCOME_NOTIFIED/RETRY. */
static int park_pass(const struct chan_case *cases, const uint8_t *order,
                     size_t active, int64_t deadline, int *status) {
  /* Sleep on a condition variable only if every channel asks for one. */
  enum cl_park_kind kind = CL_PARK_CONDVAR;
  unsigned spin = 0;
  for (size_t k = 0; k < active; k++) {
    const struct chan *ch = cases[order[k]].chan;
    if (ch->park_kind == CL_PARK_FUTEX)
      kind = CL_PARK_FUTEX;
    if (ch->park_spin > spin)
      spin = ch->park_spin;
  }
  struct cl_parker p;
  cl_parker_init(&p, kind, spin);
  struct cl_waiter waiters[CHAN_SELECT_MAX_CASES];

  CL_CHAOS_POINT("select.polled_before_enqueue");
  size_t queued = 0;
  enum cl_enqueue_result res = CL_ENQ_QUEUED;
  for (; queued < active && res == CL_ENQ_QUEUED; queued++) {
    const struct chan_case *c = &cases[order[queued]];
    waiters[queued] = (struct cl_waiter){.parker = &p,
                                         .elem = c->elem,
                                         .case_index = order[queued],
                                         .dir = c->dir};
    res = c->chan->ops->select_enqueue(c->chan, &waiters[queued]);
  }

  bool timed_out = false;
  if (res == CL_ENQ_QUEUED)
    timed_out = !cl_parker_wait(&p, deadline);
  else if (res == CL_ENQ_OTHER_FIRED)
    cl_parker_wait(&p, CL_DEADLINE_NONE); /* its wake-up is imminent */

  for (size_t k = 0; k < queued; k++) {
    const struct chan_case *c = &cases[order[k]];
    c->chan->ops->select_dequeue(c->chan, &waiters[k]);
  }
  uint32_t claim = atomic_load_explicit(&p.claim, memory_order_acquire);
  *status = timed_out ? CHAN_TIMEOUT : p.outcome;
  cl_parker_destroy(&p);
  if (timed_out)
    return -1;
  /* claim is 1 + the case index; report its position in order[]. */
  for (size_t k = 0; k < active; k++)
    if (order[k] + 1u == claim)
      return (int)k;
  return -1; /* unreachable: a woken parker names one of our cases */
}

/* ---- chan_select ------------------------------------------------------- */

static int sleep_until(int64_t deadline) {
  struct cl_parker p; /* nobody can claim it: sleeps to the deadline */
  cl_parker_init(&p, CL_PARK_FUTEX, 0);
  cl_parker_wait(&p, deadline);
  cl_parker_destroy(&p);
  return CHAN_TIMEOUT;
}

int chan_select(struct chan_case *cases, size_t ncases, int64_t timeout_ns,
                size_t *chosen) {
  if (!chosen || (!cases && ncases))
    return cl_set_error(CHAN_EINVAL, "chan_select: NULL %s",
                        chosen ? "cases" : "chosen");
  if (ncases > CHAN_SELECT_MAX_CASES)
    return cl_set_error(CHAN_EINVAL,
                        "chan_select: %zu cases, at most %d are supported",
                        ncases, CHAN_SELECT_MAX_CASES);
  if (timeout_ns < CHAN_FOREVER)
    return cl_set_error(CHAN_EINVAL, "chan_select: negative timeout %lld",
                        (long long)timeout_ns);

  uint8_t order[CHAN_SELECT_MAX_CASES];
  size_t active = 0;
  for (size_t i = 0; i < ncases; i++) {
    const struct chan_case *c = &cases[i];
    if (c->dir != CHAN_SEND && c->dir != CHAN_RECV)
      return cl_set_error(CHAN_EINVAL,
                          "chan_select: case %zu has direction %d, not "
                          "CHAN_SEND or CHAN_RECV",
                          i, (int)c->dir);
    if (!c->chan)
      continue; /* a nil channel: never ready */
    if (c->dir == CHAN_SEND && !c->elem && c->chan->elem_size)
      return cl_set_error(CHAN_EINVAL, "chan_select: case %zu sends NULL", i);
    order[active++] = (uint8_t)i;
  }

  int64_t deadline = timeout_ns == CHAN_FOREVER ? CL_DEADLINE_NONE
                     : timeout_ns == 0          ? CL_DEADLINE_POLL
                                                : cl_deadline_after(timeout_ns);
  if (active == 0) {
    if (deadline == CL_DEADLINE_NONE)
      return cl_set_error(CHAN_EINVAL, "chan_select: every case is NULL and "
                                       "there is no timeout: it would block "
                                       "forever");
    return deadline == CL_DEADLINE_POLL ? CHAN_WOULD_BLOCK
                                        : sleep_until(deadline);
  }

  for (size_t k = active; k > 1; k--) { /* Fisher-Yates */
    size_t j = random_below((uint32_t)k);
    uint8_t t = order[k - 1];
    order[k - 1] = order[j];
    order[j] = t;
  }

  int notified = -1; /* position of a case whose channel woke us to retry */
  int status = CHAN_WOULD_BLOCK;
  int fired;
  for (;;) {
    fired = deadline == CL_DEADLINE_POLL
                ? validated_poll_pass(cases, order, active, &status)
                : poll_pass(cases, order, active, &status);
    if (fired >= 0)
      break;
    notified = -1; /* the poll saw it taken: someone used the notification */
    if (deadline == CL_DEADLINE_POLL) {
      status = CHAN_WOULD_BLOCK;
      break;
    }
    if (deadline != CL_DEADLINE_NONE && cl_now_ns() >= deadline) {
      status = CHAN_TIMEOUT;
      break;
    }
    fired = park_pass(cases, order, active, deadline, &status);
    if (status == CHAN_OK || status == CHAN_CLOSED || status == CHAN_TIMEOUT)
      break;
    if (status == CL_OUTCOME_NOTIFIED)
      notified = fired;
    /* NOTIFIED or RETRY: poll again, shuffled the same way. */
  }

  if (notified >= 0 && notified != fired) {
    const struct chan_case *n = &cases[order[notified]];
    n->chan->ops->renotify(n->chan, n->dir);
  }
  if (fired >= 0)
    *chosen = order[fired];
  return status;
}
