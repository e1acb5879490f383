/*
 * example_plugin.c - a deliberately simple channel implementation built
 * outside chanlab and loaded at run time (chan_impl_load, --impl-lib,
 * CHANLAB_IMPLS). It uses only the public headers (chan/impl.h).
 *
 * Design: the textbook monitor. One pthread mutex per channel guards
 * everything: a ring buffer of `capacity` values, a closed flag and two
 * FIFO queues of blocked operations (struct chan_waiter, on the blocked
 * caller's stack). A blocked caller sleeps on its own parker, asking for
 * CHAN_PARK_CONDVAR (a condition variable private to that waiter, so one
 * wake-up signals exactly one sleeper); on a fiber the parker parks the
 * fiber instead, so the implementation works under chanlab's fibers too.
 *
 * Going through the parker rather than a per-channel condition variable is
 * what lets chan_select mix this channel with any other: a select queues a
 * waiter here and on its other channels, all sharing one parker, and
 * whoever claims the parker first (chan_parker_claim) completes that case.
 *
 * Every operation that finds a counterpart completes it itself, under the
 * lock (direct handoff: a sender copies straight into a blocked receiver's
 * destination, and the reverse), then wakes it after unlocking. So blocked
 * callers are served first come, first served, renotify is not needed, and
 * Go's happens-before rules follow from the one lock plus the parker's
 * release (wake) / acquire (wait).
 *
 * Built with -DCHAN_EXAMPLE_BUGGY_CLOSE, close forgets the blocked senders
 * (they stay asleep forever): a planted bug the core tests must catch.
 */
#include <chan/impl.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct queue {
  struct chan_waiter *head, *tail;
  size_t length;
};

struct example {
  struct chan base; /* first: the core sees a struct chan */
  pthread_mutex_t mu;
  _Atomic uint64_t changes; /* written under mu, read without it */
  size_t count, head;       /* buffered values; index of the oldest */
  bool closed;
  struct queue sendq, recvq;
  unsigned char *buf; /* capacity * elem_size bytes */
};

static struct example *to_example(const struct chan *ch) {
  return (struct example *)ch;
}

/* ---- waiter queues (under mu) ------------------------------------------ */

static void queue_push(struct queue *q, struct chan_waiter *w) {
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

static void queue_remove(struct queue *q, struct chan_waiter *w) {
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

/* Removes and returns the first waiter we win the claim of, skipping those
 * of `self` (a select never pairs with itself) and dropping stale ones
 * (claimed elsewhere: fired on another channel or timed out). */
static struct chan_waiter *queue_claim(struct queue *q,
                                       const struct chan_parker *self) {
  for (struct chan_waiter *w = q->head, *next; w; w = next) {
    next = w->next;
    if (w->parker == self)
      continue;
    queue_remove(q, w);
    if (chan_parker_claim(w->parker, w->case_index + 1))
      return w;
  }
  return NULL;
}

static bool queue_has_other(const struct queue *q,
                            const struct chan_parker *self) {
  for (const struct chan_waiter *w = q->head; w; w = w->next)
    if (w->parker != self)
      return true;
  return false;
}

/* ---- the operations ---------------------------------------------------- */

static void copy(void *dst, const void *src, size_t size) {
  if (dst && size)
    memcpy(dst, src, size);
}

static void changed(struct example *c) {
  atomic_fetch_add_explicit(&c->changes, 1, memory_order_release);
}

static unsigned char *slot(struct example *c, size_t i) {
  return c->buf + i * c->base.elem_size;
}

/* Under mu: completes a send now if it can; *wake gets a claimed receiver
 * to wake after unlocking. Returns CHAN_OK, CHAN_CLOSED or
 * CHAN_WOULD_BLOCK. */
static int try_send(struct example *c, const void *elem,
                    const struct chan_parker *self, struct chan_waiter **wake) {
  if (c->closed)
    return CHAN_CLOSED;
  struct chan_waiter *r = queue_claim(&c->recvq, self);
  if (r) { /* only when the buffer is empty: receivers queue only then */
    copy(r->elem, elem, c->base.elem_size);
    *wake = r;
    return CHAN_OK;
  }
  if (c->count < c->base.capacity) {
    copy(slot(c, (c->head + c->count) % c->base.capacity), elem,
         c->base.elem_size);
    c->count++;
    changed(c);
    return CHAN_OK;
  }
  return CHAN_WOULD_BLOCK;
}

/* Under mu: completes a receive now if it can; as try_send. */
static int try_recv(struct example *c, void *elem,
                    const struct chan_parker *self, struct chan_waiter **wake) {
  size_t size = c->base.elem_size;
  if (c->count > 0) {
    copy(elem, slot(c, c->head), size);
    /* A full buffer may have blocked senders: the first one's value takes
     * the freed slot, at the tail, so order is kept. */
    struct chan_waiter *s = c->count == c->base.capacity
                                ? queue_claim(&c->sendq, self)
                                : NULL;
    if (s) {
      copy(slot(c, c->head), s->elem, size);
      *wake = s;
    } else {
      c->count--;
    }
    c->head = (c->head + 1) % c->base.capacity;
    changed(c);
    return CHAN_OK;
  }
  if (c->closed) {
    if (elem && size)
      memset(elem, 0, size);
    return CHAN_CLOSED;
  }
  struct chan_waiter *s = queue_claim(&c->sendq, self);
  if (s) { /* unbuffered: take the value straight from the sender */
    copy(elem, s->elem, size);
    *wake = s;
    return CHAN_OK;
  }
  return CHAN_WOULD_BLOCK;
}

/* Under mu, after an attempt failed: queue, unlock, sleep. */
static int block(struct example *c, enum chan_dir dir, void *elem,
                 int64_t deadline) {
  struct chan_parker p;
  chan_parker_init(&p, c->base.park_kind, c->base.park_spin);
  struct chan_waiter w = {.parker = &p, .elem = elem, .dir = dir};
  struct queue *q = dir == CHAN_SEND ? &c->sendq : &c->recvq;
  queue_push(q, &w);
  changed(c);
  pthread_mutex_unlock(&c->mu);

  int rc;
  if (chan_parker_wait(&p, deadline)) {
    rc = p.outcome; /* our claimer took w off the queue */
  } else {
    pthread_mutex_lock(&c->mu);
    if (w.queued)
      queue_remove(q, &w);
    pthread_mutex_unlock(&c->mu);
    rc = CHAN_TIMEOUT;
  }
  chan_parker_destroy(&p);
  return rc;
}

static int example_send(struct chan *ch, const void *elem, int64_t deadline) {
  struct example *c = to_example(ch);
  struct chan_waiter *wake = NULL;
  pthread_mutex_lock(&c->mu);
  int rc = try_send(c, elem, NULL, &wake);
  if (rc == CHAN_WOULD_BLOCK && deadline != CHAN_DEADLINE_POLL)
    return block(c, CHAN_SEND, (void *)elem, deadline); /* unlocks */
  pthread_mutex_unlock(&c->mu);
  if (wake)
    chan_parker_wake(wake->parker, CHAN_OK); /* our last touch of it */
  return rc;
}

static int example_recv(struct chan *ch, void *elem, int64_t deadline) {
  struct example *c = to_example(ch);
  struct chan_waiter *wake = NULL;
  pthread_mutex_lock(&c->mu);
  int rc = try_recv(c, elem, NULL, &wake);
  if (rc == CHAN_WOULD_BLOCK && deadline != CHAN_DEADLINE_POLL)
    return block(c, CHAN_RECV, elem, deadline); /* unlocks */
  pthread_mutex_unlock(&c->mu);
  if (wake)
    chan_parker_wake(wake->parker, CHAN_OK);
  return rc;
}

static int example_close(struct chan *ch) {
  struct example *c = to_example(ch);
  pthread_mutex_lock(&c->mu);
  if (c->closed) {
    pthread_mutex_unlock(&c->mu);
    return CHAN_EALREADY_CLOSED;
  }
  c->closed = true;
  changed(c);
  /* Claim every blocked caller under the lock; wake them after it. A
   * claimed waiter is off its queue, so its `next` is ours to chain. */
  struct chan_waiter *woken = NULL, *w;
  while ((w = queue_claim(&c->recvq, NULL))) {
    if (w->elem && c->base.elem_size)
      memset(w->elem, 0, c->base.elem_size); /* Go's zero value */
    w->next = woken;
    woken = w;
  }
#ifndef CHAN_EXAMPLE_BUGGY_CLOSE
  while ((w = queue_claim(&c->sendq, NULL))) {
    w->next = woken;
    woken = w;
  }
#endif
  pthread_mutex_unlock(&c->mu);
  while (woken) {
    w = woken;
    woken = w->next; /* read before the wake: then w may vanish */
    chan_parker_wake(w->parker, CHAN_CLOSED);
  }
  return CHAN_OK;
}

static size_t example_len(const struct chan *ch) {
  struct example *c = to_example(ch);
  pthread_mutex_lock(&c->mu);
  size_t n = c->count;
  pthread_mutex_unlock(&c->mu);
  return n;
}

static uint64_t example_change_count(const struct chan *ch) {
  return atomic_load_explicit(&to_example(ch)->changes, memory_order_seq_cst);
}

static size_t example_waiters(const struct chan *ch, enum chan_dir dir,
                              bool asleep) {
  struct example *c = to_example(ch);
  pthread_mutex_lock(&c->mu);
  const struct queue *q = dir == CHAN_SEND ? &c->sendq : &c->recvq;
  size_t n = 0;
  if (!asleep)
    n = q->length;
  else
    for (const struct chan_waiter *w = q->head; w; w = w->next)
      n += atomic_load_explicit(&w->parker->state, memory_order_relaxed) ==
           CHAN_PARKER_SLEEPING;
  pthread_mutex_unlock(&c->mu);
  return n;
}

static enum chan_enqueue_result example_select_enqueue(struct chan *ch,
                                                       struct chan_waiter *w) {
  struct example *c = to_example(ch);
  struct chan_parker *self = w->parker;
  pthread_mutex_lock(&c->mu);
  bool ready = w->dir == CHAN_SEND
                   ? c->closed || c->count < c->base.capacity ||
                         queue_has_other(&c->recvq, self)
                   : c->closed || c->count > 0 ||
                         queue_has_other(&c->sendq, self);
  if (!ready) {
    queue_push(w->dir == CHAN_SEND ? &c->sendq : &c->recvq, w);
    changed(c);
    pthread_mutex_unlock(&c->mu);
    return CHAN_ENQ_QUEUED;
  }
  /* Ready: claim our own parker before consuming anything, since another
   * case of the same select may have fired already. */
  if (!chan_parker_claim(self, w->case_index + 1)) {
    pthread_mutex_unlock(&c->mu);
    return CHAN_ENQ_OTHER_FIRED;
  }
  struct chan_waiter *wake = NULL;
  int rc = w->dir == CHAN_SEND ? try_send(c, w->elem, self, &wake)
                               : try_recv(c, w->elem, self, &wake);
  pthread_mutex_unlock(&c->mu);
  if (wake)
    chan_parker_wake(wake->parker, CHAN_OK);
  /* WOULD_BLOCK: every counterpart we saw was stale; select polls again. */
  self->outcome = rc == CHAN_WOULD_BLOCK ? CHAN_PARKER_RETRY : rc;
  return CHAN_ENQ_SELF_FIRED;
}

static void example_select_dequeue(struct chan *ch, struct chan_waiter *w) {
  struct example *c = to_example(ch);
  pthread_mutex_lock(&c->mu);
  if (w->queued)
    queue_remove(w->dir == CHAN_SEND ? &c->sendq : &c->recvq, w);
  pthread_mutex_unlock(&c->mu);
}

static void example_destroy(struct chan *ch) {
  struct example *c = to_example(ch);
  pthread_mutex_destroy(&c->mu);
  free(c);
}

static const struct chan_ops example_ops = {
    .send = example_send,
    .recv = example_recv,
    .close = example_close,
    .len = example_len,
    .change_count = example_change_count,
    .waiters = example_waiters,
    .destroy = example_destroy,
    .select_enqueue = example_select_enqueue,
    .select_dequeue = example_select_dequeue,
    .renotify = NULL, /* always completes its counterpart; never "retry" */
};

static struct chan *example_create(const struct chan_impl *impl,
                                   size_t elem_size, size_t capacity) {
  (void)impl;
  /* One allocation, the only one: the channel, then its buffer (the core
   * checked that capacity * elem_size does not overflow). */
  struct example *c = calloc(1, sizeof *c + capacity * elem_size);
  if (!c)
    return NULL;
  if (pthread_mutex_init(&c->mu, NULL) != 0) {
    free(c);
    return NULL;
  }
  c->buf = (unsigned char *)(c + 1);
  /* The core fills ops, impl, elem_size and capacity; how our blocked
   * threads sleep is ours to say. */
  c->base.elem_size = elem_size;
  c->base.capacity = capacity;
  c->base.park_kind = CHAN_PARK_CONDVAR;
  c->base.park_spin = 0;
  return &c->base;
}

#ifndef CHAN_EXAMPLE_NAME
#define CHAN_EXAMPLE_NAME "example"
#endif

static const struct chan_impl_def example_def = {
    .abi_version = CHAN_IMPL_ABI_VERSION,
    .name = CHAN_EXAMPLE_NAME,
#ifdef CHAN_EXAMPLE_BUGGY_CLOSE
    .summary = "example plugin with a planted bug: close forgets blocked "
               "senders",
#else
    .summary = "example plugin: one pthread mutex per channel, a condition "
               "variable per waiter",
#endif
    .create = example_create,
    .ops = &example_ops,
};

/* The entry chan_impl_load() looks up. Visible even when the object is
 * built with -fvisibility=hidden. */
__attribute__((visibility("default"))) const struct chan_impl_def *
chan_impl_plugin(void) {
  return &example_def;
}
