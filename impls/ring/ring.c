/*
 * ring - a lock-free bounded MPMC ring on the fast path, parking only when
 * it must.
 *
 * Algorithm: a bounded array queue with a sequence number ("stamp") per
 * slot, after Dmitry Vyukov's bounded MPMC queue (1024cores.net, 2010) as
 * refined by crossbeam-channel's array flavor (lap counters instead of a
 * power-of-two capacity; a mark bit in `tail` for closing):
 *   - Positions `head` and `tail` are {lap, index} pairs: index in the low
 *     bits, lap above them (one_lap = 2 * mark_bit, mark_bit the power of
 *     two above capacity). Moving past the last index adds one lap.
 *   - A slot is free for the sender at position t when stamp == t, and full
 *     for the receiver at position h when stamp == h + 1. The sender claims
 *     t by CAS on tail, writes, then publishes stamp = t + 1; the receiver
 *     claims h by CAS on head, reads, then frees the slot for the next lap
 *     with stamp = h + one_lap.
 *   - close sets mark_bit in tail: no sender can claim after that, and a
 *     receiver that finds head == tail (ignoring the mark) knows the channel
 *     is closed and drained. Values claimed before the close are delivered.
 *   - Capacity 0 has no buffer to be lock-free on: it is the handoff engine
 *     (handoff/handoff.h) with a futex lock and this file's spin, so a
 *     rendezvous is still a true rendezvous.
 *
 * Waiting: a thread spins, then yields (common/sync.h backoff, then yielding
 * for up to RING_YIELD_BUDGET_NS), then queues a waiter under a small lock
 * and parks (common/parker.h: on a futex); a fiber queues and parks at once
 * (in user space: its counterpart may be waiting for its worker). A
 * successful send notifies one parked receiver, a successful receive one parked
 * sender, close notifies everyone; a notified waiter retries (values never pass
 * through a waiter here). "No lost wake-up, no needless wake-up" is a
 * Dekker-style handshake on sequentially consistent operations:
 *     waiter:   store waiting count; load head/tail (is it ready now?)
 *     notifier: CAS head/tail;        load waiting count (anyone to wake?)
 * At least one side sees the other, so either the waiter does not sleep or
 * the notifier wakes it; and a notifier that sees no waiter takes no lock.
 * A notified waiter that does not take this channel passes the wake-up on
 * (select.c, renotify).
 *
 * Invariants:
 *   R1  head <= tail (as positions, ignoring the mark), and tail - head <=
 *       capacity; both only move forward.
 *   R2  The slot at index i holds a value exactly when its stamp equals
 *       (position of that value) + 1; it is free for position p when its
 *       stamp equals p.
 *   R3  Once the mark is in tail, tail never changes again.
 *   R4  If a waiter is queued and the ring is ready for it, a notification
 *       to it is in flight or it has not parked yet (the handshake above).
 *
 * Synchronization table:
 *                 send       recv       close      select      destroy
 *   send          CAS tail   lock-free  CAS/or     lock-free   no
 *   recv          lock-free  CAS head   lock-free  lock-free   no
 *   close         -          -          fetch_or   lock-free   no
 *   park/notify   wait_lock serializes the waiter queues only
 * Senders contend only on tail, receivers only on head (separate cache
 * lines); the wait lock is taken only by threads that park or wake.
 *
 * Happens-before (Go's memory model, chan.h; tests/core_memory_model.c):
 *   rule 1  a send before its receive completes: the sender's release store
 *           of the slot's stamp (t + 1) after writing the value, read by the
 *           receiver's acquire load of that stamp.
 *   rule 2  close before a receive that reports it: ring_close's fetch_or
 *           of the mark (seq_cst, so a release), read by try_recv's acquire
 *           load of tail that sees the mark.
 *   rule 4  the k-th receive before the (k+C)-th send completes: the
 *           receiver's release store of the stamp (h + one_lap) after
 *           copying the value out, read by the sender's acquire load of it.
 *   rule 3  (unbuffered) capacity 0 is the handoff engine.
 *   A notified waiter also synchronizes through its parker, but it does not
 *   rely on that: it retries the fast path, which carries the edge itself.
 *   Not ordered: a send that returns CHAN_CLOSED (try_send sees the mark
 *   through a relaxed load; Go panics there and promises nothing).
 */
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "common/impl.h"
#include "common/parker.h"
#include "common/sync.h"
#include "common/waitq.h"
#include "handoff/handoff.h"

/* Pauses a parked ring waiter spins before sleeping. */
#define RING_PARK_SPIN 100

/* How long a waiter keeps yielding, after its spin phase, before it parks.
 * Waking a parked thread costs a futex syscall on both sides and, on a VM
 * with idle vCPUs, tens of microseconds for the host to reschedule it; a
 * counterpart usually arrives sooner. sched_yield() hands the CPU to any
 * runnable thread, so this does not starve an oversubscribed counterpart. */
#ifndef RING_YIELD_BUDGET_NS
#define RING_YIELD_BUDGET_NS 20000
#endif

#define CACHE_LINE 64

struct ring_slot {
  _Atomic size_t stamp;
  unsigned char value[]; /* elem_size bytes */
};

struct ring {
  struct chan base;
  size_t mark_bit;  /* closed flag in tail; also 1 + the largest index */
  size_t one_lap;   /* added to a position to move to the next lap */
  size_t slot_size; /* bytes per slot, stamp included */
  unsigned char *slots;

  alignas(CACHE_LINE) _Atomic size_t head; /* receivers' position */
  alignas(CACHE_LINE) _Atomic size_t tail; /* senders' position | mark */

  alignas(CACHE_LINE) struct cl_futex_lock wait_lock; /* guards queues */
  struct cl_waitq sendq, recvq;
  /* The queues' lengths, stored under wait_lock, read without it. */
  _Atomic uint32_t send_waiting, recv_waiting;
};

static struct ring *to_ring(const struct chan *ch) {
  return (struct ring *)ch;
}

static struct ring_slot *slot_at(struct ring *r, size_t position) {
  size_t index = position & (r->mark_bit - 1);
  return (struct ring_slot *)(r->slots + index * r->slot_size);
}

/* The position after p: the next index, or index 0 of the next lap. */
static size_t next_position(const struct ring *r, size_t p) {
  size_t index = p & (r->mark_bit - 1);
  size_t lap = p & ~(r->one_lap - 1);
  return index + 1 < r->base.capacity ? p + 1 : lap + r->one_lap;
}

/* ---- waking ------------------------------------------------------------ */

static struct cl_waitq *queue(struct ring *r, enum chan_dir dir) {
  return dir == CHAN_SEND ? &r->sendq : &r->recvq;
}

static _Atomic uint32_t *waiting(struct ring *r, enum chan_dir dir) {
  return dir == CHAN_SEND ? &r->send_waiting : &r->recv_waiting;
}

/* Wakes one parked waiter of direction dir to retry. The seq_cst load is
 * the notifier's half of the handshake; no waiter, no lock. */
static void notify_one(struct ring *r, enum chan_dir dir) {
  if (atomic_load_explicit(waiting(r, dir), memory_order_seq_cst) == 0)
    return;
  cl_futex_lock(&r->wait_lock);
  struct cl_waiter *w = cl_waitq_claim_first(queue(r, dir), NULL);
  atomic_store_explicit(waiting(r, dir), (uint32_t)queue(r, dir)->length,
                        memory_order_seq_cst);
  cl_futex_unlock(&r->wait_lock);
  if (w)
    cl_parker_wake(w->parker, CL_OUTCOME_NOTIFIED);
}

static void notify_all(struct ring *r, enum chan_dir dir) {
  if (atomic_load_explicit(waiting(r, dir), memory_order_seq_cst) == 0)
    return;
  struct cl_waiter *woken = NULL, *w;
  cl_futex_lock(&r->wait_lock);
  while ((w = cl_waitq_claim_first(queue(r, dir), NULL))) {
    w->next = woken; /* off the queue: the link is ours */
    woken = w;
  }
  atomic_store_explicit(waiting(r, dir), 0, memory_order_seq_cst);
  cl_futex_unlock(&r->wait_lock);
  while (woken) {
    w = woken;
    woken = w->next; /* read before the wake: then w may vanish */
    cl_parker_wake(w->parker, CL_OUTCOME_NOTIFIED);
  }
}

/* ---- the lock-free fast path ------------------------------------------- */

static int try_send(struct ring *r, const void *elem) {
  struct cl_backoff backoff = {0};
  size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
  for (;;) {
    if (tail & r->mark_bit)
      return CHAN_CLOSED;
    struct ring_slot *s = slot_at(r, tail);
    size_t stamp = atomic_load_explicit(&s->stamp, memory_order_acquire);
    if (stamp == tail) {
      /* Free for us: claim the position. seq_cst because it is the
       * notifier's store in the handshake with parking receivers. */
      if (atomic_compare_exchange_weak_explicit(
              &r->tail, &tail, next_position(r, tail), memory_order_seq_cst,
              memory_order_relaxed)) {
        CL_CHAOS_POINT("ring.send.claimed_unpublished");
        cl_elem_copy(s->value, elem, r->base.elem_size);
        /* Release: the value is written before the receiver sees it. */
        atomic_store_explicit(&s->stamp, tail + 1, memory_order_release);
        notify_one(r, CHAN_RECV);
        return CHAN_OK;
      }
      cl_backoff_spin(&backoff);
    } else if (stamp + r->one_lap == tail + 1) {
      /* The slot still holds last lap's value: full, unless head moved.
       * The fence orders our stamp read before reading head. */
      cl_full_fence();
      size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
      if (head + r->one_lap == tail)
        return CHAN_WOULD_BLOCK;
      cl_backoff_spin(&backoff);
      tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    } else {
      /* Another sender claimed this position and moved on; catch up. */
      cl_backoff_snooze(&backoff);
      tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    }
  }
}

static int try_recv(struct ring *r, void *elem) {
  struct cl_backoff backoff = {0};
  size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
  for (;;) {
    struct ring_slot *s = slot_at(r, head);
    size_t stamp = atomic_load_explicit(&s->stamp, memory_order_acquire);
    if (stamp == head + 1) {
      if (atomic_compare_exchange_weak_explicit(
              &r->head, &head, next_position(r, head), memory_order_seq_cst,
              memory_order_relaxed)) {
        cl_elem_copy(elem, s->value, r->base.elem_size);
        /* Release: our read is done before a sender reuses the slot. */
        atomic_store_explicit(&s->stamp, head + r->one_lap,
                              memory_order_release);
        notify_one(r, CHAN_SEND);
        return CHAN_OK;
      }
      cl_backoff_spin(&backoff);
    } else if (stamp == head) {
      /* Nothing published here yet: empty, closed, or a sender between
       * claiming and publishing (then the value is committed; wait). The
       * fence orders our stamp read before reading tail. The load is an
       * acquire because it may see the close mark: it then reads from
       * ring_close's release (tail never changes after the mark, R3), so
       * the close happens before the CHAN_CLOSED we return (Go's rule 2).
       * A fence BEFORE a relaxed load is no acquire, in C11 or to TSan. */
      cl_full_fence();
      size_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
      if ((tail & ~r->mark_bit) == head) {
        if (tail & r->mark_bit) {
          cl_elem_zero(elem, r->base.elem_size);
          return CHAN_CLOSED;
        }
        return CHAN_WOULD_BLOCK;
      }
      cl_backoff_snooze(&backoff);
      head = atomic_load_explicit(&r->head, memory_order_relaxed);
    } else {
      cl_backoff_snooze(&backoff);
      head = atomic_load_explicit(&r->head, memory_order_relaxed);
    }
  }
}

/* The waiter's half of the handshake, after it published itself: could the
 * operation proceed now? seq_cst loads, ordered after the count store.
 *
 * The load order matters: load our own side's position first and the
 * counterpart's second, so that staleness can only make us answer "ready"
 * (a needless retry), never "not ready" beside a value or a slot. A
 * receiver loads head, then tail: tail can only have grown since, so
 * tail != head holds if the ring held anything at the first load. (Loading
 * tail first, a receiver could see an old tail and a head that another
 * receiver has just moved up to it, conclude "empty" beside a fresh value,
 * and park for good; the spin model in stress/model/ring_park.pml found
 * this.) A sender loads tail, then head, for the mirror reason. */
static bool ready(struct ring *r, enum chan_dir dir) {
  size_t head, tail;
  if (dir == CHAN_RECV) {
    head = atomic_load_explicit(&r->head, memory_order_seq_cst);
    CL_CHAOS_POINT("ring.ready.between_loads");
    tail = atomic_load_explicit(&r->tail, memory_order_seq_cst);
  } else {
    tail = atomic_load_explicit(&r->tail, memory_order_seq_cst);
    CL_CHAOS_POINT("ring.ready.between_loads");
    head = atomic_load_explicit(&r->head, memory_order_seq_cst);
  }
  if (tail & r->mark_bit)
    return true; /* closed: both sides have an answer */
  return dir == CHAN_RECV ? tail != head : head + r->one_lap != tail;
}

/* ---- parking ----------------------------------------------------------- */

static void enqueue(struct ring *r, struct cl_waiter *w) {
  cl_futex_lock(&r->wait_lock);
  cl_waitq_push(queue(r, w->dir), w);
  /* The waiter's store in the handshake. */
  atomic_store_explicit(waiting(r, w->dir), (uint32_t)queue(r, w->dir)->length,
                        memory_order_seq_cst);
  cl_futex_unlock(&r->wait_lock);
  CL_CHAOS_POINT("ring.enqueued_before_check");
}

static void dequeue(struct ring *r, struct cl_waiter *w) {
  cl_futex_lock(&r->wait_lock);
  if (w->queued) {
    cl_waitq_remove(queue(r, w->dir), w);
    atomic_store_explicit(waiting(r, w->dir),
                          (uint32_t)queue(r, w->dir)->length,
                          memory_order_seq_cst);
  }
  cl_futex_unlock(&r->wait_lock);
}

/* Try, spin, yield, then park until notified; repeat until done. */
static int ring_op(struct ring *r, enum chan_dir dir, void *elem,
                   int64_t deadline) {
  struct cl_backoff backoff = {0};
  int64_t yield_until = 0; /* set when the spin phase ends */
  /* A fiber parks at once: spinning or yielding its worker thread would
   * only delay the counterpart, which may be queued on the same worker. */
  bool fiber = false, checked = false;
  for (;;) {
    int rc = dir == CHAN_SEND ? try_send(r, elem) : try_recv(r, elem);
    if (rc != CHAN_WOULD_BLOCK || deadline == CL_DEADLINE_POLL)
      return rc;
    if (deadline != CL_DEADLINE_NONE && cl_now_ns() >= deadline)
      return CHAN_TIMEOUT;
    if (!checked) {
      fiber = cl_fiber_current() != NULL;
      checked = true;
    }
    if (fiber) {
      /* straight to parking */
    } else if (!cl_backoff_done(&backoff)) {
      cl_backoff_snooze(&backoff);
      continue;
    }
    if (!fiber && RING_YIELD_BUDGET_NS > 0) {
      int64_t now = cl_now_ns();
      if (!yield_until)
        yield_until = now + RING_YIELD_BUDGET_NS;
      if (now < yield_until) {
        sched_yield();
        continue;
      }
    }
    CL_CHAOS_POINT("ring.checked_before_enqueue");
    struct cl_parker p;
    cl_parker_init(&p, CL_PARK_FUTEX, RING_PARK_SPIN);
    struct cl_waiter w = {.parker = &p, .elem = elem, .dir = dir};
    enqueue(r, &w);
    bool timed_out = false;
    if (!ready(r, dir))
      timed_out = !cl_parker_wait(&p, deadline);
    else if (!cl_parker_claim(&p, 1)) /* a notifier beat us to it */
      cl_parker_wait(&p, CL_DEADLINE_NONE);
    dequeue(r, &w);
    cl_parker_destroy(&p);
    if (timed_out) /* nobody claimed us: no notification was lost */
      return CHAN_TIMEOUT;
    /* Notified (or ready on our own check): retry. A retry that fails
     * means someone else took what we were told about. */
  }
}

/* ---- operations -------------------------------------------------------- */

static int ring_send(struct chan *ch, const void *elem, int64_t deadline) {
  return ring_op(to_ring(ch), CHAN_SEND, (void *)elem, deadline);
}

static int ring_recv(struct chan *ch, void *elem, int64_t deadline) {
  return ring_op(to_ring(ch), CHAN_RECV, elem, deadline);
}

static int ring_close(struct chan *ch) {
  struct ring *r = to_ring(ch);
  size_t old =
      atomic_fetch_or_explicit(&r->tail, r->mark_bit, memory_order_seq_cst);
  if (old & r->mark_bit)
    return CHAN_EALREADY_CLOSED;
  CL_CHAOS_POINT("ring.close.marked");
  notify_all(r, CHAN_SEND);
  notify_all(r, CHAN_RECV);
  return CHAN_OK;
}

static size_t ring_len(const struct chan *ch) {
  struct ring *r = to_ring(ch);
  for (;;) {
    size_t tail = atomic_load_explicit(&r->tail, memory_order_seq_cst);
    size_t head = atomic_load_explicit(&r->head, memory_order_seq_cst);
    if (atomic_load_explicit(&r->tail, memory_order_seq_cst) != tail)
      continue; /* a consistent pair: tail did not move while reading head */
    size_t hix = head & (r->mark_bit - 1);
    size_t tix = tail & (r->mark_bit - 1);
    if (hix < tix)
      return tix - hix;
    if (hix > tix)
      return r->base.capacity - hix + tix;
    return (tail & ~r->mark_bit) == head ? 0 : r->base.capacity;
  }
}

static uint64_t ring_change_count(const struct chan *ch) {
  struct ring *r = to_ring(ch);
  /* Both positions only grow, so their sum changes with any operation. */
  return (uint64_t)atomic_load_explicit(&r->head, memory_order_seq_cst) +
         (uint64_t)atomic_load_explicit(&r->tail, memory_order_seq_cst);
}

static size_t ring_waiters(const struct chan *ch, enum chan_dir dir,
                           bool asleep) {
  struct ring *r = to_ring(ch);
  if (!asleep)
    return atomic_load_explicit(waiting(r, dir), memory_order_seq_cst);
  cl_futex_lock(&r->wait_lock);
  size_t n = cl_waitq_sleepers(queue(r, dir));
  cl_futex_unlock(&r->wait_lock);
  return n;
}

static enum cl_enqueue_result ring_select_enqueue(struct chan *ch,
                                                  struct cl_waiter *w) {
  struct ring *r = to_ring(ch);
  enqueue(r, w);
  if (!ready(r, w->dir))
    return CL_ENQ_QUEUED;
  if (!cl_parker_claim(w->parker, w->case_index + 1))
    return CL_ENQ_OTHER_FIRED;
  w->parker->outcome = CL_OUTCOME_RETRY;
  return CL_ENQ_SELF_FIRED;
}

static void ring_select_dequeue(struct chan *ch, struct cl_waiter *w) {
  dequeue(to_ring(ch), w);
}

static void ring_renotify(struct chan *ch, enum chan_dir dir) {
  notify_one(to_ring(ch), dir);
}

static void ring_destroy(struct chan *ch) {
  free(ch);
}

static const struct cl_ops ring_ops = {
    .send = ring_send,
    .recv = ring_recv,
    .close = ring_close,
    .len = ring_len,
    .change_count = ring_change_count,
    .waiters = ring_waiters,
    .destroy = ring_destroy,
    .select_enqueue = ring_select_enqueue,
    .select_dequeue = ring_select_dequeue,
    .renotify = ring_renotify,
};

static size_t round_up(size_t n, size_t to) {
  return (n + to - 1) / to * to;
}

/* Capacity 0: the handoff engine, parking as this file's waiters do. */
static const struct cl_handoff_config rendezvous = {
    CL_HANDOFF_LOCK_FUTEX, CL_PARK_FUTEX, RING_PARK_SPIN};

static struct chan *ring_create(const struct cl_impl *impl, size_t elem_size,
                                size_t capacity) {
  if (capacity == 0)
    return cl_handoff_create(impl, elem_size, 0, &rendezvous);
  size_t slot_size =
      round_up(sizeof(struct ring_slot) + elem_size, alignof(struct ring_slot));
  size_t header = round_up(sizeof(struct ring), CACHE_LINE);
  size_t bytes = round_up(header + capacity * slot_size, CACHE_LINE);
  struct ring *r = aligned_alloc(CACHE_LINE, bytes);
  if (!r)
    return NULL;
  memset(r, 0, header);
  r->base = (struct chan){.ops = &ring_ops,
                          .impl = impl,
                          .elem_size = elem_size,
                          .capacity = capacity,
                          .park_kind = CL_PARK_FUTEX,
                          .park_spin = RING_PARK_SPIN};
  size_t mark = 1;
  while (mark < capacity + 1)
    mark <<= 1;
  r->mark_bit = mark;
  r->one_lap = mark << 1;
  r->slot_size = slot_size;
  r->slots = (unsigned char *)r + header;
  for (size_t i = 0; i < capacity; i++) {
    struct ring_slot *s = (struct ring_slot *)(r->slots + i * slot_size);
    atomic_init(&s->stamp, i); /* free for position i of lap 0 */
    if (elem_size)
      memset(s->value, 0, elem_size);
  }
  atomic_init(&r->head, 0);
  atomic_init(&r->tail, 0);
  return &r->base;
}

const struct cl_impl cl_impl_ring = {
    .name = "ring",
    .summary = "lock-free MPMC ring (Vyukov/crossbeam stamps), spin-yield-"
               "park with futex waits; capacity 0 uses the handoff engine",
    .create = ring_create,
};
