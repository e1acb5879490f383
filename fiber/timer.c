/*
 * timer.c - timers: a min-heap of deadlines per worker, for channel and
 * select timeouts and chan_fiber_sleep.
 *
 * Algorithm: a pairing heap (Fredman, Sedgewick, Sleator and Tarjan, 1986)
 * whose nodes live in the fiber descriptors, so arming a timer never
 * allocates. A fiber has at most one armed timer (it waits for one thing at
 * a time). Insert melds a one-node heap; removing the minimum pairs its
 * children left to right, then melds the pairs right to left; removing an
 * arbitrary node (a fiber woken before its deadline) cuts it out and melds
 * its children back. prev points to the previous sibling, or to the parent
 * for a first child.
 *
 * Protocol with the parker (parker.h; fiber.c's cl_fiber_wait):
 *   arm      the parking fiber, on the worker it runs on, before it parks.
 *   fire     under the heap's lock, a worker pops a due node and claims the
 *            fiber's parker for CL_PARKER_TIMED_OUT. The lock keeps the
 *            parker alive for that CAS: its fiber cannot return from its
 *            wait before disarming, which takes the same lock. If the claim
 *            wins, the worker wakes the fiber after unlocking (its wake is
 *            the last touch, as for any claimer); if someone else claimed
 *            first, that one wakes it.
 *   disarm   the woken fiber removes its node if it is still in the heap.
 * Workers fire their own heaps' due timers when they look for work, and
 * an idle worker also fires other workers' due timers, so a timeout is not
 * held up by a worker busy running a long fiber.
 *
 * Synchronization: timer_lock (a futex lock) guards the heap and the
 * fibers' timer fields; timer_next mirrors the root's deadline for lock-free
 * peeks (relaxed: a stale peek only makes a worker look again or sleep
 * until an earlier deadline).
 */
#include "common/park_seam.h"
#include "fiber/internal.h"

static struct chan_fiber *meld(struct chan_fiber *a, struct chan_fiber *b) {
  if (!a)
    return b;
  if (!b)
    return a;
  if (b->deadline < a->deadline) {
    struct chan_fiber *t = a;
    a = b;
    b = t;
  }
  /* b becomes a's first child. */
  b->timer_prev = a;
  b->timer_next = a->timer_child;
  if (a->timer_child)
    a->timer_child->timer_prev = b;
  a->timer_child = b;
  a->timer_next = a->timer_prev = NULL;
  return a;
}

/* Melds a list of siblings into one heap (two passes). */
static struct chan_fiber *merge_pairs(struct chan_fiber *first) {
  struct chan_fiber *paired = NULL; /* pairs, in reverse order via next */
  while (first) {
    struct chan_fiber *a = first, *b = a->timer_next;
    first = b ? b->timer_next : NULL;
    a->timer_next = a->timer_prev = NULL;
    if (b)
      b->timer_next = b->timer_prev = NULL;
    struct chan_fiber *m = meld(a, b);
    m->timer_next = paired;
    paired = m;
  }
  struct chan_fiber *heap = NULL;
  while (paired) {
    struct chan_fiber *next = paired->timer_next;
    paired->timer_next = NULL;
    heap = meld(heap, paired);
    paired = next;
  }
  return heap;
}

static void publish_next(struct cl_worker *w) {
  atomic_store_explicit(&w->timer_next,
                        w->timer_root ? w->timer_root->deadline
                                      : CL_DEADLINE_NONE,
                        memory_order_relaxed);
}

/* Under the lock: unlinks f from w's heap. */
static void cut(struct cl_worker *w, struct chan_fiber *f) {
  struct chan_fiber *children = merge_pairs(f->timer_child);
  f->timer_child = NULL;
  if (f == w->timer_root) {
    w->timer_root = children;
  } else {
    struct chan_fiber *prev = f->timer_prev;
    if (prev->timer_child == f)
      prev->timer_child = f->timer_next;
    else
      prev->timer_next = f->timer_next;
    if (f->timer_next)
      f->timer_next->timer_prev = prev;
    w->timer_root = meld(w->timer_root, children);
  }
  f->timer_next = f->timer_prev = NULL;
  f->timer_heap = NULL;
}

void cl_timer_arm(struct cl_worker *w, struct chan_fiber *f,
                  struct cl_parker *p, int64_t deadline) {
  cl_futex_lock(&w->timer_lock);
  f->deadline = deadline;
  f->timer_parker = p;
  f->timer_child = f->timer_next = f->timer_prev = NULL;
  f->timer_heap = w;
  w->timer_root = meld(w->timer_root, f);
  bool earliest = w->timer_root == f;
  publish_next(w);
  cl_futex_unlock(&w->timer_lock);
  if (earliest)
    cl_rt_timer_armed(w->rt, deadline);
}

void cl_timer_disarm(struct cl_worker *w, struct chan_fiber *f) {
  cl_futex_lock(&w->timer_lock);
  if (f->timer_heap == w) {
    cut(w, f);
    publish_next(w);
  }
  cl_futex_unlock(&w->timer_lock);
}

int64_t cl_timer_next(struct cl_worker *w) {
  return atomic_load_explicit(&w->timer_next, memory_order_relaxed);
}

unsigned cl_timer_run_due(struct cl_worker *w) {
  /* No timer armed, no clock read: the scheduling loop passes here at every
   * switch, and a clock read costs more than the rest of the check (26 ns
   * on a kvm-clock VM, more where the clock source is not the TSC). */
  if (cl_timer_next(w) == CL_DEADLINE_NONE)
    return 0;
  return cl_timer_run(w, cl_now_ns());
}

unsigned cl_timer_run(struct cl_worker *w, int64_t now) {
  if (cl_timer_next(w) > now)
    return 0;
  struct cl_parker *fired[32];
  unsigned n = 0;
  cl_futex_lock(&w->timer_lock);
  while (n < 32 && w->timer_root && w->timer_root->deadline <= now) {
    struct chan_fiber *f = w->timer_root;
    struct cl_parker *p = f->timer_parker;
    cut(w, f);
    if (cl_parker_claim(p, CL_PARKER_TIMED_OUT))
      fired[n++] = p;
  }
  publish_next(w);
  cl_futex_unlock(&w->timer_lock);
  /* We won these claims: the fibers wait for our wake-ups. */
  for (unsigned i = 0; i < n; i++)
    cl_parker_wake(fired[i], CHAN_TIMEOUT);
  return n;
}
