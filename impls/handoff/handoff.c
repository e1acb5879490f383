/*
 * handoff.c - the lock-based handoff engine, after Go's runtime/chan.go,
 * and the two implementations that are configurations of it: "futex" and
 * "mutex" (like SQLite's unix VFS variants, one engine, a row each).
 *
 * Algorithm (Go's hchan; see runtime/chan.go and runtime/select.go):
 *   One lock guards the channel: a ring buffer of `capacity` values and two
 *   FIFO queues of blocked waiters (waitq.h), senders and receivers.
 *   - send: if the channel is closed, fail. If a receiver waits, claim it and
 *     copy the value straight into its destination (direct handoff, no trip
 *     through the buffer). Else if the buffer has room, append. Else queue
 *     a waiter and park.
 *   - recv: if the buffer holds values, take the oldest; if it was full and
 *     a sender waits, claim that sender and append its value (so FIFO order
 *     holds). Else if closed, return the zero value. Else if a sender waits
 *     (unbuffered), claim it and take its value directly. Else queue and park.
 *   - close: mark closed; claim every queued waiter and wake it with
 *     CHAN_CLOSED (receivers get the zero value; senders deliver nothing).
 *   - select: select.c queues one waiter per case, all sharing one parker;
 *     whoever claims the parker first (parker.h) decides the case.
 *
 * The variants (rows at the end of this file) differ only in the lock and
 * in how a blocked thread sleeps:
 *   futex  Drepper's three-state futex mutex ("Futexes Are Tricky", 2011)
 *          spinning briefly before it sleeps (common/sync.h); a futex word
 *          per blocked thread, spun on for ~FUTEX_PARK_SPIN pauses before
 *          FUTEX_WAIT, so a counterpart arriving within a microsecond costs
 *          no syscall (Go spins similarly, in lock_futex.go and proc.go),
 *          and FUTEX_WAKE only when the waiter really sleeps.
 *   mutex  the textbook monitor: a default pthread_mutex_t per channel, and
 *          a CLOCK_MONOTONIC condition variable private to each blocked
 *          thread, signalled exactly once by whoever completes its
 *          operation (the "specific notification" form of a monitor: no
 *          broadcast, no thundering herd; Lampson & Redell, "Experience
 *          with Processes and Monitors in Mesa", 1980). No spinning: the
 *          baseline that shows what the POSIX primitives cost. A condition
 *          variable per waiter rather than per channel is what lets a
 *          select wait on many channels at once.
 * A fiber (fiber.h) parks in user space whatever the variant (parker.h).
 *
 * Invariants (under the lock):
 *   I1  0 <= count <= capacity.
 *   I2  A live (unclaimed) receiver is queued only while count == 0, and a
 *       live sender only while count == capacity: whoever changes count
 *       first serves the queued counterparts. Queues may also hold stale
 *       waiters (claimed by another case or timed out); they are dropped
 *       when met and removed by their owners.
 *   I3  After close, no waiter is queued that was queued before the close,
 *       and no new waiter is queued (every operation sees `closed`).
 *   I4  A queued waiter's memory is valid: its owner removes it under this
 *       lock before returning.
 *
 * Synchronization table (which operations may run concurrently):
 *                 send   recv   close  len   select  destroy
 *   send           L      L      L      L     L       no
 *   recv           L      L      L      L     L       no
 *   close          L      L      L(1)   L     L       no
 *   len/waiters    L      L      L      L     L       no
 *   L: serialized by the channel lock, so each operation is atomic with
 *   respect to the others. (1) the second close fails. Wake-ups
 *   (cl_parker_wake) happen after unlocking. destroy REQUIRES exclusive
 *   use.
 *
 * Happens-before (Go's memory model, chan.h; tests/core_memory_model.c):
 * all four rules come from the lock, because every operation that moves a
 * value, observes a close or frees a slot does so under it, after the
 * operation it is ordered after released it. A parked waiter is completed
 * by its claimer under the lock and learns of it through its parker: the
 * claimer writes the value (or the zero value of a close) and the outcome,
 * then releases in cl_parker_wake; the owner acquires in cl_parker_wait.
 * Nothing is observed without the lock except `changes` (select.c's
 * validation of a CHAN_POLL pass, which orders no data).
 */
#include "handoff/handoff.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "common/parker.h"
#include "common/sync.h"
#include "common/waitq.h"

struct handoff {
  struct chan base;
  enum cl_handoff_lock lock_kind;
  struct cl_futex_lock futex_lock; /* CL_HANDOFF_LOCK_FUTEX */
  pthread_mutex_t mutex;           /* CL_HANDOFF_LOCK_PTHREAD */

  /* Written under the lock, read without it (select.c). */
  _Atomic uint64_t changes;

  /* The lock protects everything below. */
  size_t count; /* buffered values */
  size_t head;  /* index of the oldest buffered value */
  bool closed;
  struct cl_waitq sendq, recvq;
  unsigned char *buf; /* capacity * elem_size bytes */
};

static struct handoff *to_handoff(const struct chan *ch) {
  return (struct handoff *)ch;
}

static void handoff_lock(struct handoff *c) {
  if (c->lock_kind == CL_HANDOFF_LOCK_FUTEX)
    cl_futex_lock(&c->futex_lock);
  else
    pthread_mutex_lock(&c->mutex);
}

static void handoff_unlock(struct handoff *c) {
  if (c->lock_kind == CL_HANDOFF_LOCK_FUTEX)
    cl_futex_unlock(&c->futex_lock);
  else
    pthread_mutex_unlock(&c->mutex);
}

/* Under the lock: the channel may have become ready for someone. */
static void count_change(struct handoff *c) {
  uint64_t v = atomic_load_explicit(&c->changes, memory_order_relaxed);
  atomic_store_explicit(&c->changes, v + 1, memory_order_release);
}

static unsigned char *slot(struct handoff *c, size_t index) {
  return c->buf + index * c->base.elem_size;
}

/* Under the lock: completes a send now if it can. Returns CHAN_OK,
 * CHAN_CLOSED or CHAN_WOULD_BLOCK. *wake receives a claimed receiver to wake
 * after unlocking. `self` is the caller's own parker when it is a select
 * (never pair with ourselves), else NULL. */
static int send_locked(struct handoff *c, const void *elem,
                       const struct cl_parker *self, struct cl_waiter **wake) {
  if (c->closed)
    return CHAN_CLOSED;
  struct cl_waiter *r = cl_waitq_claim_first(&c->recvq, self);
  if (r) {
    CL_CHAOS_POINT("hchan.send.handoff");
    cl_elem_copy(r->elem, elem, c->base.elem_size);
    *wake = r;
    return CHAN_OK;
  }
  if (c->count < c->base.capacity) {
    size_t tail = (c->head + c->count) % c->base.capacity;
    cl_elem_copy(slot(c, tail), elem, c->base.elem_size);
    c->count++;
    count_change(c);
    return CHAN_OK;
  }
  return CHAN_WOULD_BLOCK;
}

/* Under the lock: completes a receive now if it can; as send_locked. */
static int recv_locked(struct handoff *c, void *elem,
                       const struct cl_parker *self, struct cl_waiter **wake) {
  size_t size = c->base.elem_size;
  if (c->count > 0) {
    cl_elem_copy(elem, slot(c, c->head), size);
    struct cl_waiter *s = c->count == c->base.capacity
                              ? cl_waitq_claim_first(&c->sendq, self)
                              : NULL;
    if (s) {
      /* Full buffer: the freed head slot is the tail; the sender's value
       * goes there, behind everything already buffered. */
      cl_elem_copy(slot(c, c->head), s->elem, size);
      *wake = s;
    } else {
      c->count--;
    }
    count_change(c);
    c->head = (c->head + 1) % c->base.capacity;
    return CHAN_OK;
  }
  if (c->closed) {
    cl_elem_zero(elem, size);
    return CHAN_CLOSED;
  }
  struct cl_waiter *s = cl_waitq_claim_first(&c->sendq, self);
  if (s) {
    CL_CHAOS_POINT("hchan.recv.handoff");
    cl_elem_copy(elem, s->elem, size);
    *wake = s;
    return CHAN_OK;
  }
  return CHAN_WOULD_BLOCK;
}

/* Called with the lock held after an attempt failed: queues a waiter on the
 * stack, unlocks, parks. Returns the outcome or CHAN_TIMEOUT. */
static int park(struct handoff *c, enum chan_dir dir, void *elem,
                int64_t deadline) {
  struct cl_parker p;
  cl_parker_init(&p, c->base.park_kind, c->base.park_spin);
  struct cl_waiter w = {.parker = &p, .elem = elem, .dir = dir};
  cl_waitq_push(dir == CHAN_SEND ? &c->sendq : &c->recvq, &w);
  count_change(c);
  handoff_unlock(c);
  CL_CHAOS_POINT("hchan.queued_before_park");

  int rc;
  if (cl_parker_wait(&p, deadline)) {
    rc = p.outcome; /* the claimer removed w from the queue */
  } else {
    handoff_lock(c);
    if (w.queued)
      cl_waitq_remove(dir == CHAN_SEND ? &c->sendq : &c->recvq, &w);
    handoff_unlock(c);
    rc = CHAN_TIMEOUT;
  }
  cl_parker_destroy(&p);
  return rc;
}

static int handoff_send(struct chan *ch, const void *elem, int64_t deadline) {
  struct handoff *c = to_handoff(ch);
  struct cl_waiter *wake = NULL;
  handoff_lock(c);
  int rc = send_locked(c, elem, NULL, &wake);
  if (rc == CHAN_WOULD_BLOCK && deadline != CL_DEADLINE_POLL)
    return park(c, CHAN_SEND, (void *)elem, deadline); /* unlocks */
  handoff_unlock(c);
  if (wake)
    cl_parker_wake(wake->parker, CHAN_OK);
  return rc;
}

static int handoff_recv(struct chan *ch, void *elem, int64_t deadline) {
  struct handoff *c = to_handoff(ch);
  struct cl_waiter *wake = NULL;
  handoff_lock(c);
  int rc = recv_locked(c, elem, NULL, &wake);
  if (rc == CHAN_WOULD_BLOCK && deadline != CL_DEADLINE_POLL)
    return park(c, CHAN_RECV, elem, deadline); /* unlocks */
  handoff_unlock(c);
  if (wake)
    cl_parker_wake(wake->parker, CHAN_OK);
  return rc;
}

static int handoff_close(struct chan *ch) {
  struct handoff *c = to_handoff(ch);
  handoff_lock(c);
  if (c->closed) {
    handoff_unlock(c);
    return CHAN_EALREADY_CLOSED;
  }
  c->closed = true;
  count_change(c);
  CL_CHAOS_POINT("hchan.close.marked");
  /* Claim everyone under the lock, wake them after it (I3). The claimed
   * waiters are off their queues, so `next` is ours to chain them. */
  struct cl_waiter *woken = NULL, *w;
  while ((w = cl_waitq_claim_first(&c->recvq, NULL))) {
    cl_elem_zero(w->elem, c->base.elem_size);
    w->next = woken;
    woken = w;
  }
  while ((w = cl_waitq_claim_first(&c->sendq, NULL))) {
    w->next = woken;
    woken = w;
  }
  handoff_unlock(c);
  while (woken) {
    w = woken;
    woken = w->next; /* read before the wake: then w may vanish */
    cl_parker_wake(w->parker, CHAN_CLOSED);
  }
  return CHAN_OK;
}

static size_t handoff_len(const struct chan *ch) {
  struct handoff *c = to_handoff(ch);
  handoff_lock(c);
  size_t n = c->count;
  handoff_unlock(c);
  return n;
}

static uint64_t handoff_change_count(const struct chan *ch) {
  return atomic_load_explicit(&to_handoff(ch)->changes, memory_order_seq_cst);
}

static size_t handoff_waiters(const struct chan *ch, enum chan_dir dir,
                              bool asleep) {
  struct handoff *c = to_handoff(ch);
  handoff_lock(c);
  const struct cl_waitq *q = dir == CHAN_SEND ? &c->sendq : &c->recvq;
  size_t n = asleep ? cl_waitq_sleepers(q) : q->length;
  handoff_unlock(c);
  return n;
}

static enum cl_enqueue_result handoff_select_enqueue(struct chan *ch,
                                                     struct cl_waiter *w) {
  struct handoff *c = to_handoff(ch);
  struct cl_parker *self = w->parker;
  handoff_lock(c);
  bool ready = w->dir == CHAN_SEND ? c->closed || c->count < c->base.capacity ||
                                         cl_waitq_has_other(&c->recvq, self)
                                   : c->count > 0 || c->closed ||
                                         cl_waitq_has_other(&c->sendq, self);
  if (!ready) {
    cl_waitq_push(w->dir == CHAN_SEND ? &c->sendq : &c->recvq, w);
    count_change(c);
    handoff_unlock(c);
    return CL_ENQ_QUEUED;
  }
  /* Claim ourselves before a counterpart: if another case of this select
   * already fired we must not consume anything here. */
  if (!cl_parker_claim(self, w->case_index + 1)) {
    handoff_unlock(c);
    return CL_ENQ_OTHER_FIRED;
  }
  struct cl_waiter *wake = NULL;
  int rc = w->dir == CHAN_SEND ? send_locked(c, w->elem, self, &wake)
                               : recv_locked(c, w->elem, self, &wake);
  handoff_unlock(c);
  if (wake)
    cl_parker_wake(wake->parker, CHAN_OK);
  /* WOULD_BLOCK: every counterpart we saw was stale; try again. */
  self->outcome = rc == CHAN_WOULD_BLOCK ? CL_OUTCOME_RETRY : rc;
  return CL_ENQ_SELF_FIRED;
}

static void handoff_select_dequeue(struct chan *ch, struct cl_waiter *w) {
  struct handoff *c = to_handoff(ch);
  handoff_lock(c);
  if (w->queued)
    cl_waitq_remove(w->dir == CHAN_SEND ? &c->sendq : &c->recvq, w);
  handoff_unlock(c);
}

static void handoff_destroy(struct chan *ch) {
  struct handoff *c = to_handoff(ch);
  if (c->lock_kind == CL_HANDOFF_LOCK_PTHREAD)
    pthread_mutex_destroy(&c->mutex);
  free(c);
}

static const struct cl_ops handoff_ops = {
    .send = handoff_send,
    .recv = handoff_recv,
    .close = handoff_close,
    .len = handoff_len,
    .change_count = handoff_change_count,
    .waiters = handoff_waiters,
    .destroy = handoff_destroy,
    .select_enqueue = handoff_select_enqueue,
    .select_dequeue = handoff_select_dequeue,
    .renotify = NULL, /* always hands off; never wakes anyone to retry */
};

struct chan *cl_handoff_create(const struct cl_impl *impl, size_t elem_size,
                               size_t capacity,
                               const struct cl_handoff_config *config) {
  /* One allocation: the channel, then its buffer (api.c checked that
   * capacity * elem_size does not overflow). */
  struct handoff *c = calloc(1, sizeof *c + capacity * elem_size);
  if (!c)
    return NULL;
  c->base = (struct chan){.ops = &handoff_ops,
                          .impl = impl,
                          .elem_size = elem_size,
                          .capacity = capacity,
                          .park_kind = config->park,
                          .park_spin = config->park_spin};
  c->lock_kind = config->lock;
  if (c->lock_kind == CL_HANDOFF_LOCK_PTHREAD)
    pthread_mutex_init(&c->mutex, NULL);
  c->buf = (unsigned char *)(c + 1);
  return &c->base;
}

/* ---- the variants ------------------------------------------------------ */

/* ~1-2 us of pause instructions: about one cross-core cache-line round
 * trip's worth a few times over, far less than a futex round trip. */
#define FUTEX_PARK_SPIN 200

static struct chan *variant_create(const struct cl_impl *impl, size_t elem_size,
                                   size_t capacity) {
  return cl_handoff_create(impl, elem_size, capacity, impl->config);
}

const struct cl_impl cl_impl_futex = {
    .name = "futex",
    .summary = "Go runtime design: futex lock, FIFO waiter queues, direct "
               "handoff, spin then park",
    .create = variant_create,
    .config = &(const struct cl_handoff_config){CL_HANDOFF_LOCK_FUTEX,
                                                CL_PARK_FUTEX, FUTEX_PARK_SPIN},
};

const struct cl_impl cl_impl_mutex = {
    .name = "mutex",
    .summary = "textbook monitor: pthread mutex, a condition variable per "
               "waiter, FIFO handoff",
    .create = variant_create,
    .config = &(const struct cl_handoff_config){CL_HANDOFF_LOCK_PTHREAD,
                                                CL_PARK_CONDVAR, 0},
};
