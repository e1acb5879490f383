/*
 * waitq.h - a blocked operation's record (Go's sudog) and the FIFO queue of
 * them that a channel keeps per direction.
 *
 * A waiter lives on the blocked thread's stack; it is never allocated. It is
 * linked into exactly one channel queue while `queued`, and every field but
 * the links is constant while queued. All queue operations happen under the
 * owning channel's lock, which therefore protects `next`, `prev` and
 * `queued`. The owner removes its waiter (under that lock) before returning,
 * so a thread holding the lock may always dereference a queued waiter.
 */
#ifndef CL_COMMON_WAITQ_H
#define CL_COMMON_WAITQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/parker.h"

/* The waiter is public (chan/impl.h); in-tree code calls it cl_waiter. */
#define cl_waiter chan_waiter

struct cl_waitq {
  struct cl_waiter *head, *tail;
  size_t length;
};

static inline void cl_waitq_push(struct cl_waitq *q, struct cl_waiter *w) {
  w->next = NULL;
  w->prev = q->tail;
  if (q->tail)
    q->tail->next = w;
  else
    q->head = w;
  q->tail = w;
  w->queued = true;
  q->length++;
}

/* How many queued waiters have committed to sleep (their parker is
 * SLEEPING: past their last look at the channel). For chan_debug_sleepers;
 * the caller holds the lock that guards q, so every queued waiter's parker
 * is alive. */
static inline size_t cl_waitq_sleepers(const struct cl_waitq *q) {
  size_t n = 0;
  for (const struct cl_waiter *w = q->head; w; w = w->next)
    n += atomic_load_explicit(&w->parker->state, memory_order_relaxed) ==
         CL_PARKER_SLEEPING;
  return n;
}

static inline void cl_waitq_remove(struct cl_waitq *q, struct cl_waiter *w) {
  if (w->prev)
    w->prev->next = w->next;
  else
    q->head = w->next;
  if (w->next)
    w->next->prev = w->prev;
  else
    q->tail = w->prev;
  w->next = w->prev = NULL;
  w->queued = false;
  q->length--;
}

/* Removes and returns the first waiter whose parker this caller claims,
 * skipping (but keeping) waiters of `exclude` (a select must never pair
 * with itself) and dropping stale waiters whose parker someone else already
 * claimed (fired elsewhere or timed out; their owners find them unqueued).
 * The claimed waiter's case fires: the caller must complete it and then
 * cl_parker_wake() it. Returns NULL if no waiter could be claimed. */
static inline struct cl_waiter *
cl_waitq_claim_first(struct cl_waitq *q, const struct cl_parker *exclude) {
  struct cl_waiter *w = q->head;
  while (w) {
    struct cl_waiter *next = w->next;
    if (w->parker != exclude) {
      cl_waitq_remove(q, w);
      if (cl_parker_claim(w->parker, w->case_index + 1))
        return w;
    }
    w = next;
  }
  return NULL;
}

/* True if the queue holds a waiter of some other parker (which may be
 * stale: a hint for readiness, confirmed by claiming). */
static inline bool cl_waitq_has_other(const struct cl_waitq *q,
                                      const struct cl_parker *exclude) {
  for (const struct cl_waiter *w = q->head; w; w = w->next)
    if (w->parker != exclude)
      return true;
  return false;
}

#endif /* CL_COMMON_WAITQ_H */
