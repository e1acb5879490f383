/*
 * runq.c - run queues: one bounded queue per worker with a "run next" slot,
 * and one global queue.
 *
 * Algorithm (Go's runtime/proc.go: runqput, runqget, runqgrab, runqsteal):
 *   Each worker has a ring of CL_RUNQ_SIZE fiber pointers. Only the owner
 *   puts, at tail; the owner and thieves take from head by compare-and-swap.
 *   A thief takes half of what it sees in one CAS on the victim's head,
 *   copying the fibers into its own ring first, so work moves in batches.
 *   A full ring spills half of itself, plus the new fiber, to the global
 *   queue. runnext holds the fiber the owner runs next: the one a running
 *   fiber just woke or spawned, so a handoff stays on the waker's core; the
 *   fiber it displaces goes to the tail. Thieves take runnext only as a last
 *   resort and after a pause (the owner is usually about to run it), and
 *   a queue only after the same pause and only what its owner did not
 *   reach meanwhile: in a chain of hand-offs the queued fibers are the
 *   ones runnext just displaced, which the owner reaches within a switch
 *   or two; taken at once, they would split the chain across cores, and
 *   every later hand-off between the halves would move a fiber's stack and
 *   its channel to the other core (fiber/README.md, "Performance model").
 *   The global queue (a locked list) takes fibers readied by plain threads
 *   and spills; workers check it every 61 schedules for fairness, and when
 *   their own queue is empty.
 *
 * Invariants:
 *   Q1  tail - head <= CL_RUNQ_SIZE (as unsigned differences); head only
 *       moves forward.
 *   Q2  Slots in [head, tail) hold runnable fibers; only the owner writes a
 *       slot, and only at tail, which no taker reads until tail is
 *       published.
 *   Q3  A fiber is in at most one queue (or runnext, or running): whoever
 *       takes it out owns it.
 *
 * Synchronization table:
 *                    put (owner)         get (owner)     steal (thief)
 *   slots            store relaxed,      load relaxed    load relaxed, then
 *                    then tail release                    CAS head validates
 *   tail             store release       load (own)      load acquire
 *   head             load acquire        CAS acq_rel     CAS acq_rel
 *   runnext          exchange seq_cst    CAS acq_rel     CAS acq_rel
 * A thief reads slots that the owner may be overwriting (after the owner
 * consumed them); the values are used only if the CAS on head proves them
 * current, which is why slots are atomics. The release on tail (and the
 * acquire by a thief) carries happens-before from whoever readied a fiber
 * to whoever runs it.
 */
#include "fiber/internal.h"

static struct chan_fiber *slot_load(struct cl_worker *w, uint32_t i) {
  return atomic_load_explicit(&w->slots[i & (CL_RUNQ_SIZE - 1)],
                              memory_order_relaxed);
}

static void slot_store(struct cl_worker *w, uint32_t i, struct chan_fiber *f) {
  atomic_store_explicit(&w->slots[i & (CL_RUNQ_SIZE - 1)], f,
                        memory_order_relaxed);
}

/* A full ring: moves half of it and f to the global queue. Returns false
 * if a thief emptied part of it meanwhile (the caller retries the ring). */
static bool put_slow(struct cl_worker *w, struct chan_fiber *f, uint32_t h,
                     uint32_t t) {
  uint32_t n = (t - h) / 2;
  struct chan_fiber *batch[CL_RUNQ_SIZE / 2 + 1];
  for (uint32_t i = 0; i < n; i++)
    batch[i] = slot_load(w, h + i);
  if (!atomic_compare_exchange_strong_explicit(
          &w->head, &h, h + n, memory_order_acq_rel, memory_order_acquire))
    return false;
  batch[n] = f;
  for (uint32_t i = 0; i <= n; i++)
    cl_global_put(w->rt, batch[i]);
  return true;
}

void cl_runq_put(struct cl_worker *w, struct chan_fiber *f) {
  for (;;) {
    uint32_t h = atomic_load_explicit(&w->head, memory_order_acquire);
    uint32_t t = atomic_load_explicit(&w->tail, memory_order_relaxed);
    if (t - h < CL_RUNQ_SIZE) {
      slot_store(w, t, f);
      atomic_store_explicit(&w->tail, t + 1, memory_order_release);
      return;
    }
    if (put_slow(w, f, h, t))
      return;
  }
}

bool cl_runq_put_next(struct cl_worker *w, struct chan_fiber *f) {
  /* seq_cst: the submitter's store in the wake-up handshake (runtime.c),
   * ordered before cl_rt_wakep's loads without a separate fence. */
  struct chan_fiber *old =
      atomic_exchange_explicit(&w->runnext, f, memory_order_seq_cst);
  if (old)
    cl_runq_put(w, old);
  return old != NULL;
}

/* Runs runnext first, but not forever: two fibers handing off to each other
 * through runnext would otherwise starve the rest of the queue (Go bounds
 * this with its time slice, which we do not have). */
#define RUNNEXT_STREAK_MAX 64

struct chan_fiber *cl_runq_get(struct cl_worker *w) {
  if (w->runnext_streak < RUNNEXT_STREAK_MAX) {
    struct chan_fiber *next =
        atomic_load_explicit(&w->runnext, memory_order_relaxed);
    if (next && atomic_compare_exchange_strong_explicit(
                    &w->runnext, &next, NULL, memory_order_acq_rel,
                    memory_order_relaxed)) {
      w->runnext_streak++;
      cl_stat_inc(&w->stats.runnext_runs);
      return next;
    }
  }
  w->runnext_streak = 0;
  for (;;) {
    uint32_t h = atomic_load_explicit(&w->head, memory_order_acquire);
    uint32_t t = atomic_load_explicit(&w->tail, memory_order_relaxed);
    if (t == h)
      break;
    struct chan_fiber *f = slot_load(w, h);
    if (atomic_compare_exchange_weak_explicit(
            &w->head, &h, h + 1, memory_order_acq_rel, memory_order_relaxed))
      return f;
  }
  /* The queue is empty: runnext, even past its streak (looked at first:
   * an exchange on an empty slot would be a locked instruction for
   * nothing at every switch of a yielding fiber). */
  struct chan_fiber *next =
      atomic_load_explicit(&w->runnext, memory_order_relaxed);
  if (next && atomic_compare_exchange_strong_explicit(
                  &w->runnext, &next, NULL, memory_order_acq_rel,
                  memory_order_relaxed)) {
    cl_stat_inc(&w->stats.runnext_runs);
    return next;
  }
  return NULL;
}

uint32_t cl_runq_len(struct cl_worker *w) {
  return atomic_load_explicit(&w->tail, memory_order_relaxed) -
         atomic_load_explicit(&w->head, memory_order_acquire);
}

/* seq_cst: the sleeper's loads in the wake-up handshake (runtime.c). */
bool cl_runq_empty(struct cl_worker *w) {
  return atomic_load_explicit(&w->tail, memory_order_seq_cst) ==
             atomic_load_explicit(&w->head, memory_order_seq_cst) &&
         atomic_load_explicit(&w->runnext, memory_order_seq_cst) == NULL;
}

/* Pause before taking a victim's runnext (or its one queued fiber): the
 * victim usually runs it within a few microseconds (it was just woken by
 * the fiber running there). 3 us is Go's pause for the same decision (its
 * usleep(3) in runqgrab), a bound on the victim's code, not a figure
 * tuned to a CPU: it is time on the monotonic clock, so it means the same
 * on every machine, and only the thief, which has nothing else to do,
 * spends it. It is longer where the victim's code runs slower (sanitizer
 * builds); too short, and a thief takes the fiber its waker was about to
 * run, splitting a ping-pong across workers. */
#define RUNNEXT_STEAL_PAUSE_NS (3000 * CL_INSTRUMENTED_SLOWDOWN)

/* Waits without watching the victim's lines (its owner writes them at
 * every hand-off: watching would slow the very hand-offs we wait for). */
static void pause_for_owner(void) {
  int64_t until = cl_now_ns() + RUNNEXT_STEAL_PAUSE_NS;
  while (cl_now_ns() < until)
    cl_cpu_relax();
}

/* Copies up to half of victim's queue into thief's ring at the thief's tail
 * (not yet published) and returns how many. */
static uint32_t grab(struct cl_worker *thief, struct cl_worker *victim,
                     bool take_next) {
  uint32_t tt = atomic_load_explicit(&thief->tail, memory_order_relaxed);
  bool paused = false;
  for (;;) {
    uint32_t h = atomic_load_explicit(&victim->head, memory_order_acquire);
    uint32_t t = atomic_load_explicit(&victim->tail, memory_order_acquire);
    uint32_t n = t - h;
    if (n > 0 && !paused) {
      /* Give the owner the pause first: what it takes from its queue
       * meanwhile it would have run anyway, on the core where the fibers'
       * stacks and channels are warm. If it reached everything we saw, it
       * is keeping up with its own hand-offs and there is nothing to help
       * with; otherwise take half of what is left. */
      paused = true;
      pause_for_owner();
      uint32_t h2 = atomic_load_explicit(&victim->head, memory_order_acquire);
      if (h2 - h >= n)
        return 0;
      continue;
    }
    n -= n / 2;
    if (n == 0) {
      if (!take_next)
        return 0;
      struct chan_fiber *next =
          atomic_load_explicit(&victim->runnext, memory_order_acquire);
      if (!next)
        return 0;
      pause_for_owner(); /* then try once */
      if (!atomic_compare_exchange_strong_explicit(&victim->runnext, &next,
                                                   NULL, memory_order_acq_rel,
                                                   memory_order_relaxed))
        return 0;
      cl_stat_inc(&thief->stats.runnext_steals);
      slot_store(thief, tt, next);
      return 1;
    }
    if (n > CL_RUNQ_SIZE / 2)
      continue; /* read h and t inconsistently: retry */
    for (uint32_t i = 0; i < n; i++)
      slot_store(thief, tt + i, slot_load(victim, h + i));
    if (atomic_compare_exchange_strong_explicit(&victim->head, &h, h + n,
                                                memory_order_acq_rel,
                                                memory_order_relaxed))
      return n;
  }
}

/* Steals half of victim's work; returns one fiber to run and publishes the
 * rest in the thief's queue. */
struct chan_fiber *cl_runq_steal(struct cl_worker *thief,
                                 struct cl_worker *victim, bool take_next) {
  uint32_t n = grab(thief, victim, take_next);
  if (n == 0)
    return NULL;
  uint32_t tt = atomic_load_explicit(&thief->tail, memory_order_relaxed);
  struct chan_fiber *f = slot_load(thief, tt + n - 1);
  if (n > 1)
    atomic_store_explicit(&thief->tail, tt + n - 1, memory_order_release);
  return f;
}

/* ---- the global queue -------------------------------------------------- */

void cl_global_put(struct chan_rt *rt, struct chan_fiber *f) {
  f->link = NULL;
  cl_futex_lock(&rt->global_lock);
  if (rt->global_tail)
    rt->global_tail->link = f;
  else
    rt->global_head = f;
  rt->global_tail = f;
  atomic_fetch_add_explicit(&rt->global_len, 1, memory_order_seq_cst);
  cl_futex_unlock(&rt->global_lock);
}

/* Takes one fiber to run and, with batch, a fair share more into w's own
 * queue (Go's globrunqget). */
struct chan_fiber *cl_global_get(struct cl_worker *w, bool batch) {
  struct chan_rt *rt = w->rt;
  if (atomic_load_explicit(&rt->global_len, memory_order_seq_cst) == 0)
    return NULL;
  struct chan_fiber *taken = NULL;
  cl_futex_lock(&rt->global_lock);
  size_t len = atomic_load_explicit(&rt->global_len, memory_order_relaxed);
  size_t n = batch ? len / rt->nworkers + 1 : 1;
  if (n > len)
    n = len;
  if (n > CL_RUNQ_SIZE / 2)
    n = CL_RUNQ_SIZE / 2;
  if (n > 0) {
    /* Unlink the first n as one chain. */
    taken = rt->global_head;
    struct chan_fiber *last = taken;
    for (size_t i = 1; i < n; i++)
      last = last->link;
    rt->global_head = last->link;
    if (!rt->global_head)
      rt->global_tail = NULL;
    last->link = NULL;
    atomic_fetch_sub_explicit(&rt->global_len, n, memory_order_seq_cst);
  }
  cl_futex_unlock(&rt->global_lock);
  if (!taken)
    return NULL;
  /* Outside the lock: a full local queue spills back into this queue. */
  for (struct chan_fiber *f = taken->link; f;) {
    struct chan_fiber *next = f->link;
    cl_runq_put(w, f);
    f = next;
  }
  return taken;
}
