/*
 * hchan.c - the lock-based handoff engine, after Go's runtime/chan.go.
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
 *   (chan_parker_wake) happen after unlocking. destroy REQUIRES exclusive
 *   use.
 *
 * The lock is a futex lock or a pthread mutex, and parking is a futex or a
 * private condition variable, as the implementation chooses.
 */
#include "common/hchan.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "common/parker.h"
#include "common/sync.h"
#include "common/waitq.h"

struct hchan {
  struct chan base;
  enum hchan_lock_kind lock_kind;
  struct chan_futex_lock futex_lock; /* HCHAN_LOCK_FUTEX */
  pthread_mutex_t mutex;             /* HCHAN_LOCK_PTHREAD */

  /* Written under the lock, read without it (select.c). */
  _Atomic uint64_t version;

  /* The lock protects everything below. */
  size_t count; /* buffered values */
  size_t head;  /* index of the oldest buffered value */
  bool closed;
  struct chan_waitq sendq, recvq;
  unsigned char *buf; /* capacity * elem_size bytes */
};

/* Stress self-check only: true when planted bug `bug` is switched on and c
 * belongs to implementation `which` (hchan serves futex, mutex and ring's
 * capacity 0). Constant false unless built with CHAN_PLANTED_BUGS. */
#define HCHAN_PLANTED(c, which, bug)                                           \
  (CHAN_PLANTED(bug) && strcmp((c)->base.impl->name, which) == 0)

static struct hchan *to_hchan(const struct chan *ch) {
  return (struct hchan *)ch;
}

static void hchan_lock(struct hchan *c) {
  if (c->lock_kind == HCHAN_LOCK_FUTEX)
    chan_futex_lock(&c->futex_lock);
  else
    pthread_mutex_lock(&c->mutex);
}

static void hchan_unlock(struct hchan *c) {
  if (c->lock_kind == HCHAN_LOCK_FUTEX)
    chan_futex_unlock(&c->futex_lock);
  else
    pthread_mutex_unlock(&c->mutex);
}

/* Under the lock: the channel may have become ready for someone. */
static void bump_version(struct hchan *c) {
  uint64_t v = atomic_load_explicit(&c->version, memory_order_relaxed);
  atomic_store_explicit(&c->version, v + 1, memory_order_release);
}

static unsigned char *slot(struct hchan *c, size_t index) {
  return c->buf + index * c->base.elem_size;
}

/* Under the lock: completes a send now if it can. Returns CHAN_OK,
 * CHAN_CLOSED or CHAN_WOULD_BLOCK. *wake receives a claimed receiver to wake
 * after unlocking. `self` is the caller's own parker when it is a select
 * (never pair with ourselves), else NULL. */
static int send_locked(struct hchan *c, const void *elem,
                       const struct chan_parker *self,
                       struct chan_waiter **wake) {
  if (c->closed)
    return CHAN_CLOSED;
  struct chan_waiter *r = chan_waitq_claim_first(&c->recvq, self);
  if (r) {
    CHAN_CHAOS_POINT("hchan.send.handoff");
    chan_elem_copy(r->elem, elem, c->base.elem_size);
    *wake = r;
    return CHAN_OK;
  }
  if (c->count < c->base.capacity) {
    size_t tail = (c->head + c->count) % c->base.capacity;
    if (c->count > 0 && HCHAN_PLANTED(c, "futex", "futex.buffer_lifo")) {
      /* PLANTED BUG: push in front of the buffered values (breaks FIFO). */
      c->head = (c->head + c->base.capacity - 1) % c->base.capacity;
      tail = c->head;
    }
    chan_elem_copy(slot(c, tail), elem, c->base.elem_size);
    c->count++;
    bump_version(c);
    return CHAN_OK;
  }
  return CHAN_WOULD_BLOCK;
}

/* Under the lock: completes a receive now if it can; as send_locked. */
static int recv_locked(struct hchan *c, void *elem,
                       const struct chan_parker *self,
                       struct chan_waiter **wake) {
  size_t size = c->base.elem_size;
  if (c->count > 0) {
    chan_elem_copy(elem, slot(c, c->head), size);
    /* PLANTED BUG mutex.recv_forgets_blocked_sender: a slot frees up but
     * the blocked sender is not let in (lost wake-up). */
    struct chan_waiter *s =
        c->count == c->base.capacity &&
                !HCHAN_PLANTED(c, "mutex", "mutex.recv_forgets_blocked_sender")
            ? chan_waitq_claim_first(&c->sendq, self)
            : NULL;
    if (s) {
      /* Full buffer: the freed head slot is the tail; the sender's value
       * goes there, behind everything already buffered. */
      chan_elem_copy(slot(c, c->head), s->elem, size);
      *wake = s;
    } else {
      c->count--;
    }
    bump_version(c);
    c->head = (c->head + 1) % c->base.capacity;
    return CHAN_OK;
  }
  if (c->closed) {
    chan_elem_zero(elem, size);
    return CHAN_CLOSED;
  }
  struct chan_waiter *s = chan_waitq_claim_first(&c->sendq, self);
  if (s) {
    CHAN_CHAOS_POINT("hchan.recv.handoff");
    chan_elem_copy(elem, s->elem, size);
    *wake = s;
    return CHAN_OK;
  }
  return CHAN_WOULD_BLOCK;
}

/* Called with the lock held after an attempt failed: queues a waiter on the
 * stack, unlocks, parks. Returns the outcome or CHAN_TIMEOUT. */
static int park(struct hchan *c, enum chan_dir dir, void *elem,
                int64_t deadline) {
  struct chan_parker p;
  chan_parker_init(&p, c->base.park_kind, c->base.park_spin);
  struct chan_waiter w = {.parker = &p, .elem = elem, .dir = dir};
  chan_waitq_push(dir == CHAN_SEND ? &c->sendq : &c->recvq, &w);
  bump_version(c);
  hchan_unlock(c);
  CHAN_CHAOS_POINT("hchan.queued_before_park");

  int rc;
  if (chan_parker_wait(&p, deadline)) {
    rc = p.outcome; /* the claimer removed w from the queue */
  } else {
    hchan_lock(c);
    /* PLANTED BUG futex.timeout_stays_queued: leave the dead waiter
     * linked. */
    if (w.queued && !HCHAN_PLANTED(c, "futex", "futex.timeout_stays_queued"))
      chan_waitq_remove(dir == CHAN_SEND ? &c->sendq : &c->recvq, &w);
    hchan_unlock(c);
    rc = CHAN_TIMEOUT;
  }
  chan_parker_destroy(&p);
  return rc;
}

static int hchan_send(struct chan *ch, const void *elem, int64_t deadline) {
  struct hchan *c = to_hchan(ch);
  struct chan_waiter *wake = NULL;
  hchan_lock(c);
  int rc = send_locked(c, elem, NULL, &wake);
  if (rc == CHAN_WOULD_BLOCK && deadline != CHAN_DEADLINE_POLL)
    return park(c, CHAN_SEND, (void *)elem, deadline); /* unlocks */
  hchan_unlock(c);
  if (wake)
    chan_parker_wake(wake->parker, CHAN_OK);
  return rc;
}

static int hchan_recv(struct chan *ch, void *elem, int64_t deadline) {
  struct hchan *c = to_hchan(ch);
  struct chan_waiter *wake = NULL;
  hchan_lock(c);
  int rc = recv_locked(c, elem, NULL, &wake);
  if (rc == CHAN_WOULD_BLOCK && deadline != CHAN_DEADLINE_POLL)
    return park(c, CHAN_RECV, elem, deadline); /* unlocks */
  hchan_unlock(c);
  if (wake)
    chan_parker_wake(wake->parker, CHAN_OK);
  return rc;
}

static int hchan_close(struct chan *ch) {
  struct hchan *c = to_hchan(ch);
  hchan_lock(c);
  if (c->closed) {
    hchan_unlock(c);
    return CHAN_EALREADY_CLOSED;
  }
  c->closed = true;
  bump_version(c);
  CHAN_CHAOS_POINT("hchan.close.marked");
  /* Claim everyone under the lock, wake them after it (I3). The claimed
   * waiters are off their queues, so `next` is ours to chain them. */
  struct chan_waiter *woken = NULL, *w;
  while ((w = chan_waitq_claim_first(&c->recvq, NULL))) {
    chan_elem_zero(w->elem, c->base.elem_size);
    w->next = woken;
    woken = w;
  }
  /* PLANTED BUG futex.close_skips_senders: blocked senders never learn of
   * the close (missing wake-up). */
  while (!HCHAN_PLANTED(c, "futex", "futex.close_skips_senders") &&
         (w = chan_waitq_claim_first(&c->sendq, NULL))) {
    w->next = woken;
    woken = w;
  }
  hchan_unlock(c);
  while (woken) {
    w = woken;
    woken = w->next; /* read before the wake: then w may vanish */
    chan_parker_wake(w->parker, CHAN_CLOSED);
  }
  return CHAN_OK;
}

static size_t hchan_len(const struct chan *ch) {
  struct hchan *c = to_hchan(ch);
  hchan_lock(c);
  size_t n = c->count;
  hchan_unlock(c);
  return n;
}

static uint64_t hchan_version(const struct chan *ch) {
  return atomic_load_explicit(&to_hchan(ch)->version, memory_order_seq_cst);
}

static size_t hchan_waiters(const struct chan *ch, enum chan_dir dir) {
  struct hchan *c = to_hchan(ch);
  hchan_lock(c);
  size_t n = dir == CHAN_SEND ? c->sendq.length : c->recvq.length;
  hchan_unlock(c);
  return n;
}

static enum chan_enqueue_result hchan_select_enqueue(struct chan *ch,
                                                     struct chan_waiter *w) {
  struct hchan *c = to_hchan(ch);
  struct chan_parker *self = w->parker;
  /* PLANTED BUG mutex.select_unlocked_ready: judge readiness before taking
   * the lock, then queue on what may be stale. */
  bool unlocked = HCHAN_PLANTED(c, "mutex", "mutex.select_unlocked_ready");
  if (!unlocked)
    hchan_lock(c);
  bool ready = w->dir == CHAN_SEND ? c->closed || c->count < c->base.capacity ||
                                         chan_waitq_has_other(&c->recvq, self)
                                   : c->count > 0 || c->closed ||
                                         chan_waitq_has_other(&c->sendq, self);
  if (unlocked)
    hchan_lock(c);
  if (!ready) {
    chan_waitq_push(w->dir == CHAN_SEND ? &c->sendq : &c->recvq, w);
    bump_version(c);
    hchan_unlock(c);
    return CHAN_ENQ_QUEUED;
  }
  /* Claim ourselves before a counterpart: if another case of this select
   * already fired we must not consume anything here. */
  if (!chan_parker_claim(self, w->case_index + 1)) {
    hchan_unlock(c);
    return CHAN_ENQ_OTHER_FIRED;
  }
  struct chan_waiter *wake = NULL;
  int rc = w->dir == CHAN_SEND ? send_locked(c, w->elem, self, &wake)
                               : recv_locked(c, w->elem, self, &wake);
  hchan_unlock(c);
  if (wake)
    chan_parker_wake(wake->parker, CHAN_OK);
  /* WOULD_BLOCK: every counterpart we saw was stale; try again. */
  self->outcome = rc == CHAN_WOULD_BLOCK ? CHAN_OUTCOME_RETRY : rc;
  return CHAN_ENQ_SELF_FIRED;
}

static void hchan_select_dequeue(struct chan *ch, struct chan_waiter *w) {
  struct hchan *c = to_hchan(ch);
  hchan_lock(c);
  if (w->queued)
    chan_waitq_remove(w->dir == CHAN_SEND ? &c->sendq : &c->recvq, w);
  hchan_unlock(c);
}

static void hchan_destroy(struct chan *ch) {
  struct hchan *c = to_hchan(ch);
  if (c->lock_kind == HCHAN_LOCK_PTHREAD)
    pthread_mutex_destroy(&c->mutex);
  /* PLANTED BUG mutex.destroy_leaks: the channel is never freed. */
  if (!HCHAN_PLANTED(c, "mutex", "mutex.destroy_leaks"))
    free(c);
}

static const struct chan_ops hchan_ops = {
    .send = hchan_send,
    .recv = hchan_recv,
    .close = hchan_close,
    .len = hchan_len,
    .version = hchan_version,
    .waiters = hchan_waiters,
    .destroy = hchan_destroy,
    .select_enqueue = hchan_select_enqueue,
    .select_dequeue = hchan_select_dequeue,
    .renotify = NULL, /* always hands off; never wakes anyone to retry */
};

struct chan *chan_hchan_create(const struct chan_impl *impl, size_t elem_size,
                               size_t capacity, enum hchan_lock_kind lock,
                               enum chan_park_kind park_kind,
                               unsigned park_spin) {
  /* One allocation: the channel, then its buffer (api.c checked that
   * capacity * elem_size does not overflow). */
  struct hchan *c = calloc(1, sizeof *c + capacity * elem_size);
  if (!c)
    return NULL;
  c->base = (struct chan){.ops = &hchan_ops,
                          .impl = impl,
                          .elem_size = elem_size,
                          .capacity = capacity,
                          .park_kind = park_kind,
                          .park_spin = park_spin};
  c->lock_kind = lock;
  if (lock == HCHAN_LOCK_PTHREAD)
    pthread_mutex_init(&c->mutex, NULL);
  c->buf = (unsigned char *)(c + 1);
  return &c->base;
}
