/*
 * runtime.c - the M:N runtime: workers, the scheduling loop, idle workers
 * and how they are woken, start and stop.
 *
 * Design (Go's runtime/proc.go, reduced to what a C library needs; the
 * Tokio scheduler write-up for the same ideas):
 *   - Workers are threads, one per PU by default, pinned to them. Each has a
 *     local run queue with a runnext slot (runq.c) and a timer heap
 *     (timer.c); a global queue takes fibers readied by plain threads.
 *   - schedule: runnext, then the local queue (the global queue every 61
 *     rounds, for fairness), then due timers, then the global queue, then
 *     steal: half of another worker's queue, nearest PUs first (hwloc), its
 *     runnext only on the last pass; other workers' due timers too.
 *   - Spinning: a worker that found nothing may spin (steal passes) only
 *     while fewer than half the busy workers spin (Go's rule), so idle
 *     workers never burn all the CPU.
 *   - Idle: a worker with nothing to do puts itself on the idle list and
 *     sleeps on its own futex word, until the earliest timer of any worker
 *     or, while another worker is busy, until its watch (below).
 *   - Wake-up: whoever makes a fiber runnable where another worker could
 *     take it (the global queue, or a local queue holding two or more
 *     after a fiber was displaced from runnext into it) calls cl_rt_wakep: if some worker is idle and none is
 *     spinning, it wakes one, which starts out spinning. A spinning worker
 *     that finds work wakes another if it was the last spinner (more work
 *     may follow). A fiber readied into runnext alone wakes nobody
 *     (fiber.c, make_runnable).
 *   - Watch (Go's sysmon, done by the idle workers themselves): a fiber in
 *     runnext whose waker computes on instead of parking must still run.
 *     So while some worker is busy, an idle worker sleeps at most its watch
 *     interval, then looks for work once as a spinner (and takes a runnext
 *     that waited out the pause). The interval starts at 20 us and doubles
 *     each time the look finds nothing, up to 10 ms (Go's sysmon delays).
 *     When every worker is idle no runnext can be filled (only a running
 *     fiber fills one), so they sleep until woken or a timer: a runtime
 *     whose fibers are all blocked uses no CPU. A worker that turns busy
 *     again got its work through a wake-up or from its own timers; either
 *     way it then wakes another if none is spinning (Go's resetspinning,
 *     stop_spinning below, or cl_rt_wakep for a fiber a timer readied), and
 *     that one, finding nothing, sleeps watching.
 *
 * No lost wake-up (Go's "worker thread parking/unparking" note): it is a
 * Dekker handshake on sequentially consistent operations between
 *     submitter: make the fiber visible in a queue (a seq_cst exchange on
 *                runnext, or the global queue's seq_cst length); load nidle
 *                and nspinning (wake one if idle and none spinning)
 *     sleeper:   increment nidle (or decrement nspinning); fence; look at
 *                every queue again before sleeping
 * so either the submitter sees the sleeper and wakes it, or the sleeper sees
 * the fiber. A sleeper also sleeps with a deadline: the earliest timer.
 *
 * Invariants:
 *   W1  nidle == the length of the idle list (both under idle_lock).
 *   W2  nspinning counts workers with spinning set, plus workers popped from
 *       the idle list by a waker and not yet running (they start spinning).
 *   W3  live counts fibers spawned and not yet finished; stopped is set only
 *       while live == 0, under life_mu, and spawns from outside decide
 *       under the same lock, so no fiber is spawned into a stopped runtime.
 *
 * Synchronization table:
 *                 idle list   nidle/nspinning   sleep_word        live
 *   wakep         idle_lock   seq_cst CAS/load  store + FUTEX_WAKE  -
 *   go idle       idle_lock   seq_cst RMW       FUTEX_WAIT          -
 *   spawn/finish  -           -                 -                  RMW; life_mu
 *                                                                 for 0 <-> 1
 */
#include <errno.h>
#include <hwloc.h>
#include <stdlib.h>
#include <string.h>

#include <chan/chan_debug.h>

#include "common/park_seam.h"
#include "fiber/internal.h"
#include "fiber/switch.h"

_Thread_local struct cl_worker *cl_tls_worker;

void cl_fiber_run(struct cl_worker *w, struct chan_fiber *f); /* fiber.c */

/* ---- waking idle workers ----------------------------------------------- */

/* Ends w's idle wait: a system call only if it really sleeps. */
static void sleep_word_wake(struct cl_worker *w) {
  if (atomic_exchange_explicit(&w->sleep_word, CL_AWAKE,
                               memory_order_acq_rel) == CL_IDLE_SLEEPING)
    cl_futex_wake(&w->sleep_word, 1);
}

void cl_rt_wakep(struct chan_rt *rt) {
  /* The submitter's half of the handshake: the fiber was published by a
   * sequentially consistent operation (the runnext exchange, or the global
   * queue's length), so these seq_cst loads are ordered after it; on x86
   * that costs nothing beyond the exchange's own lock prefix. */
  if (atomic_load_explicit(&rt->nidle, memory_order_seq_cst) == 0 ||
      atomic_load_explicit(&rt->nspinning, memory_order_seq_cst) != 0)
    return;
  unsigned none = 0;
  if (!atomic_compare_exchange_strong_explicit(
          &rt->nspinning, &none, 1, memory_order_seq_cst, memory_order_relaxed))
    return; /* someone else is waking a spinner */
  cl_futex_lock(&rt->idle_lock);
  struct cl_worker *w = rt->idle_list;
  if (w) {
    rt->idle_list = w->idle_next;
    w->idle = false;
    atomic_fetch_sub_explicit(&rt->nidle, 1, memory_order_seq_cst);
  }
  cl_futex_unlock(&rt->idle_lock);
  if (w)
    sleep_word_wake(w); /* it wakes up counted as spinning (W2) */
  else
    atomic_fetch_sub_explicit(&rt->nspinning, 1, memory_order_seq_cst);
}

/* ---- finding work ------------------------------------------------------ */

static bool shutting_down(struct chan_rt *rt) {
  return atomic_load_explicit(&rt->stopped, memory_order_acquire);
}

/* Any work a worker could take, anywhere (a cheap, racy look). */
static bool work_anywhere(struct chan_rt *rt, int64_t now) {
  if (atomic_load_explicit(&rt->global_len, memory_order_seq_cst))
    return true;
  for (unsigned i = 0; i < rt->nworkers; i++) {
    struct cl_worker *v = &rt->workers[i];
    if (!cl_runq_empty(v) || cl_timer_next(v) <= now)
      return true;
  }
  return false;
}

static int64_t earliest_timer(struct chan_rt *rt) {
  int64_t next = CL_DEADLINE_NONE;
  for (unsigned i = 0; i < rt->nworkers; i++) {
    int64_t t = cl_timer_next(&rt->workers[i]);
    if (t < next)
      next = t;
  }
  return next;
}

/* The last spinner that finds work wakes another (Go's resetspinning). */
static void stop_spinning(struct cl_worker *w) {
  if (!w->spinning)
    return;
  w->spinning = false;
  if (atomic_fetch_sub_explicit(&w->rt->nspinning, 1, memory_order_seq_cst) ==
      1)
    cl_rt_wakep(w->rt);
}

static struct chan_fiber *steal(struct cl_worker *w) {
  struct chan_rt *rt = w->rt;
  for (int pass = 0; pass < 4; pass++) {
    bool last = pass == 3;
    for (unsigned k = 0; k + 1 < rt->nworkers; k++) {
      struct cl_worker *v = &rt->workers[w->victims[k]];
      if (last)
        cl_timer_run_due(v); /* its due timers, if it is busy */
      struct chan_fiber *f = cl_runq_steal(w, v, last);
      if (f) {
        cl_stat_inc(&w->stats.steals);
        return f;
      }
    }
  }
  cl_stat_inc(&w->stats.steal_misses);
  return NULL;
}

/* How long an idle worker watches its sleep word before it sleeps in the
 * kernel. While fibers keep handing work around, the next wake-up usually
 * comes within this window and then costs no system call on either side;
 * an idle runtime still sleeps after it. */
#define IDLE_SPIN_NS 20000

/* The watch interval's bounds (Go's sysmon: 20 us, doubling, up to 10 ms). */
#define WATCH_MIN_NS 20000
#define WATCH_MAX_NS 10000000

/* Sleeps until woken or the earliest timer; returns on any wake-up. */
static void go_idle(struct cl_worker *w) {
  struct chan_rt *rt = w->rt;
  /* Back here without having run a fiber since the last sleep: that look
   * found nothing, so watch less often (worker_main resets it). The idle
   * spin bets that work comes back soon after a worker ran out of it; one
   * that has already slept since without finding any lost that bet. */
  bool just_ran = w->watch_ns < WATCH_MIN_NS;
  if (w->watch_ns < WATCH_MAX_NS)
    w->watch_ns *= 2;
  atomic_store_explicit(&w->sleep_word, CL_IDLE_SPINNING, memory_order_relaxed);
  cl_futex_lock(&rt->idle_lock);
  w->idle_next = rt->idle_list;
  rt->idle_list = w;
  w->idle = true;
  atomic_fetch_add_explicit(&rt->nidle, 1, memory_order_seq_cst);
  cl_futex_unlock(&rt->idle_lock);

  /* The sleeper's half of the handshake: look again before sleeping. */
  cl_full_fence();
  int64_t now = cl_now_ns();
  if (!work_anywhere(rt, now) && !shutting_down(rt)) {
    int64_t until = just_ran ? now + IDLE_SPIN_NS : now;
    while (atomic_load_explicit(&w->sleep_word, memory_order_acquire) ==
               CL_IDLE_SPINNING &&
           cl_now_ns() < until)
      cl_cpu_relax();
    uint32_t spinning = CL_IDLE_SPINNING;
    if (atomic_compare_exchange_strong_explicit(
            &w->sleep_word, &spinning, CL_IDLE_SLEEPING, memory_order_acq_rel,
            memory_order_acquire)) {
      /* Publish until when we sleep, then look at the timers once more (a
       * Dekker pair with cl_rt_timer_armed, which arms, then reads this). */
      atomic_store_explicit(&w->sleep_until, CL_DEADLINE_NONE,
                            memory_order_seq_cst);
      int64_t deadline = earliest_timer(rt);
      atomic_store_explicit(&w->sleep_until, deadline, memory_order_seq_cst);
      /* The watch shortens the sleep but is not published in sleep_until:
       * timers never count on it. */
      int64_t wake_at = deadline;
      if (atomic_load_explicit(&rt->nidle, memory_order_relaxed) <
          rt->nworkers) {
        int64_t watch = cl_now_ns() + w->watch_ns;
        if (watch < wake_at)
          wake_at = watch;
      }
      if (earliest_timer(rt) >= deadline && !work_anywhere(rt, cl_now_ns())) {
        cl_stat_inc(&w->stats.idle_sleeps);
        cl_futex_wait(&w->sleep_word, CL_IDLE_SLEEPING, wake_at);
      }
      /* A waker that found us SLEEPING made a FUTEX_WAKE system call. */
      if (atomic_load_explicit(&w->sleep_word, memory_order_relaxed) ==
          CL_AWAKE)
        cl_stat_inc(&w->stats.futex_wakes);
      atomic_store_explicit(&w->sleep_until, INT64_MIN, memory_order_relaxed);
    }
  }

  cl_futex_lock(&rt->idle_lock);
  bool still_listed = w->idle;
  if (still_listed) { /* not popped by a waker: take ourselves off */
    struct cl_worker **pp = &rt->idle_list;
    while (*pp != w)
      pp = &(*pp)->idle_next;
    *pp = w->idle_next;
    w->idle = false;
    atomic_fetch_sub_explicit(&rt->nidle, 1, memory_order_seq_cst);
  }
  cl_futex_unlock(&rt->idle_lock);
  if (!still_listed) {
    w->spinning = true; /* the waker counted us in nspinning (W2) */
    cl_stat_inc(&w->stats.wakeps);
  }
}

/* Returns the next fiber to run, or NULL when the runtime shuts down. */
static struct chan_fiber *find_work(struct cl_worker *w) {
  struct chan_rt *rt = w->rt;
  for (;;) {
    if (shutting_down(rt))
      return NULL;
    struct chan_fiber *f = NULL;
    if (++w->tick % 61 == 0)
      f = cl_global_get(w, false);
    if (!f)
      f = cl_runq_get(w);
    if (f)
      return f;
    unsigned fired = cl_timer_run_due(w);
    if (fired) {
      for (unsigned i = 0; i < fired; i++)
        cl_stat_inc(&w->stats.timers_fired);
      continue;
    }
    if ((f = cl_global_get(w, true)))
      return f;

    unsigned busy =
        rt->nworkers - atomic_load_explicit(&rt->nidle, memory_order_seq_cst);
    if (w->spinning ||
        2 * atomic_load_explicit(&rt->nspinning, memory_order_seq_cst) < busy) {
      if (!w->spinning) {
        w->spinning = true;
        atomic_fetch_add_explicit(&rt->nspinning, 1, memory_order_seq_cst);
      }
      if ((f = steal(w)))
        return f;
    }

    /* Nothing found: stop spinning, then look once more (the other half
     * of the handshake for submitters that saw us spinning). */
    if (w->spinning) {
      w->spinning = false;
      atomic_fetch_sub_explicit(&rt->nspinning, 1, memory_order_seq_cst);
      cl_full_fence();
      if (work_anywhere(rt, cl_now_ns())) {
        w->spinning = true;
        atomic_fetch_add_explicit(&rt->nspinning, 1, memory_order_seq_cst);
        continue;
      }
    }
    go_idle(w);
  }
}

/* ---- workers ----------------------------------------------------------- */

static void *worker_main(void *arg) {
  struct cl_worker *w = arg;
  cl_tls_worker = w;
  w->tsan_fiber = cl_tsan_fiber_current();
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    void *bottom;
    size_t size;
    if (pthread_attr_getstack(&attr, &bottom, &size) == 0) {
      w->stack_bottom = bottom;
      w->stack_size = size;
    }
    pthread_attr_destroy(&attr);
  }
  for (;;) {
    struct chan_fiber *f = find_work(w);
    if (!f)
      break;
    stop_spinning(w);
    w->watch_ns = WATCH_MIN_NS / 2; /* go_idle doubles it first */
    cl_fiber_run(w, f);
  }
  cl_tls_worker = NULL;
  return NULL;
}

void cl_rt_timer_armed(struct chan_rt *rt, int64_t deadline) {
  cl_full_fence(); /* the timer is published; now look at the sleepers */
  for (unsigned i = 0; i < rt->nworkers; i++) {
    struct cl_worker *v = &rt->workers[i];
    int64_t until = atomic_load_explicit(&v->sleep_until, memory_order_seq_cst);
    if (until != INT64_MIN && until <= deadline)
      return; /* someone wakes up in time to fire it */
  }
  for (unsigned i = 0; i < rt->nworkers; i++) {
    struct cl_worker *v = &rt->workers[i];
    if (atomic_load_explicit(&v->sleep_until, memory_order_seq_cst) !=
        INT64_MIN) {
      sleep_word_wake(v); /* it recomputes its deadline */
      return;
    }
  }
}

void cl_rt_fiber_finished(struct chan_rt *rt) {
  if (atomic_fetch_sub_explicit(&rt->live, 1, memory_order_acq_rel) == 1) {
    pthread_mutex_lock(&rt->life_mu);
    pthread_cond_broadcast(&rt->life_cv);
    pthread_mutex_unlock(&rt->life_mu);
  }
}

/* ---- placement (hwloc) ------------------------------------------------- */

/* Pins workers to the PUs this process may use, in order, and orders each
 * worker's victims by how much they share with it (the deepest common
 * ancestor first: same core, then same cache, ...). Unpinned workers steal
 * round-robin from the next one on. */
static void place_workers(struct chan_rt *rt, bool pin) {
  unsigned n = rt->nworkers;
  int *depth = calloc((size_t)n * n, sizeof *depth);
  hwloc_topology_t topo;
  bool have_topo =
      pin && hwloc_topology_init(&topo) == 0 && hwloc_topology_load(topo) == 0;
  if (have_topo) {
    hwloc_bitmap_t allowed = hwloc_bitmap_alloc();
    hwloc_obj_t *pus = calloc(n, sizeof *pus);
    if (allowed && pus &&
        hwloc_get_cpubind(topo, allowed, HWLOC_CPUBIND_PROCESS) == 0 &&
        !hwloc_bitmap_iszero(allowed)) {
      int npus = hwloc_bitmap_weight(allowed);
      unsigned i = 0;
      int os = hwloc_bitmap_first(allowed);
      for (; i < n; i++) {
        hwloc_obj_t pu = hwloc_get_pu_obj_by_os_index(topo, (unsigned)os);
        pus[i] = pu;
        rt->workers[i].pu = pu && (int)i < npus ? os : -1;
        os = hwloc_bitmap_next(allowed, os);
        if (os < 0)
          os = hwloc_bitmap_first(allowed); /* more workers than PUs */
      }
      for (unsigned a = 0; depth && a < n; a++)
        for (unsigned b = 0; b < n; b++)
          if (pus[a] && pus[b])
            depth[a * n + b] =
                (int)hwloc_get_common_ancestor_obj(topo, pus[a], pus[b])->depth;
    }
    free(pus);
    hwloc_bitmap_free(allowed);
    hwloc_topology_destroy(topo);
  }
  for (unsigned a = 0; a < n; a++) {
    unsigned *v = rt->workers[a].victims, k = 0;
    for (unsigned d = 1; d < n; d++)
      v[k++] = (a + d) % n;
    if (depth) /* stable insertion sort: deeper common ancestor first */
      for (unsigned i = 1; i < k; i++)
        for (unsigned j = i;
             j > 0 && depth[a * n + v[j]] > depth[a * n + v[j - 1]]; j--) {
          unsigned t = v[j];
          v[j] = v[j - 1];
          v[j - 1] = t;
        }
  }
  free(depth);
}

static void pin_thread(pthread_t t, int pu) {
  if (pu < 0)
    return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(pu, &set);
  pthread_setaffinity_np(t, sizeof set, &set); /* best effort */
}

/* ---- start, stop, free ------------------------------------------------- */

static unsigned usable_pus(void) {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
    return (unsigned)CPU_COUNT(&set);
  return 1;
}

static void rt_release(struct chan_rt *rt) {
  if (rt->workers)
    for (unsigned i = 0; i < rt->nworkers; i++)
      free(rt->workers[i].victims);
  free(rt->workers);
  cl_stack_free_all(rt);
  pthread_cond_destroy(&rt->life_cv);
  pthread_mutex_destroy(&rt->life_mu);
  free(rt);
}

static void join_workers(struct chan_rt *rt, unsigned started) {
  atomic_store_explicit(&rt->stopped, true, memory_order_seq_cst);
  for (unsigned i = 0; i < started; i++)
    sleep_word_wake(&rt->workers[i]);
  for (unsigned i = 0; i < started; i++)
    pthread_join(rt->workers[i].thread, NULL);
}

int chan_rt_start(chan_rt **out, const struct chan_rt_options *options) {
  if (!out)
    return cl_set_error(CHAN_EINVAL, "chan_rt_start: out is NULL");
  *out = NULL;
  struct chan_rt_options o = options ? *options : (struct chan_rt_options){0};
  if (o.workers > CHAN_RT_MAX_WORKERS)
    return cl_set_error(CHAN_EINVAL,
                        "chan_rt_start: %u workers; at most %d are supported",
                        o.workers, CHAN_RT_MAX_WORKERS);
  if (o.stack_size == 0)
    o.stack_size = CHAN_FIBER_STACK_DEFAULT;
  if (o.stack_size < CHAN_FIBER_STACK_MIN ||
      o.stack_size > CHAN_FIBER_STACK_MAX)
    return cl_set_error(CHAN_EINVAL,
                        "chan_rt_start: stack size %zu outside [%zu, %zu]",
                        o.stack_size, (size_t)CHAN_FIBER_STACK_MIN,
                        (size_t)CHAN_FIBER_STACK_MAX);
  if (o.workers == 0)
    o.workers = usable_pus();

  struct chan_rt *rt = calloc(1, sizeof *rt);
  if (!rt)
    return cl_set_error(CHAN_ENOMEM, "chan_rt_start: out of memory");
  rt->nworkers = o.workers;
  rt->stack_size = o.stack_size;
  rt->guarded = !o.unguarded;
  pthread_mutex_init(&rt->life_mu, NULL);
  pthread_condattr_t monotonic;
  pthread_condattr_init(&monotonic);
  pthread_condattr_setclock(&monotonic, CLOCK_MONOTONIC);
  pthread_cond_init(&rt->life_cv, &monotonic);
  pthread_condattr_destroy(&monotonic);
  rt->workers = calloc(rt->nworkers, sizeof *rt->workers);
  bool ok = rt->workers != NULL;
  for (unsigned i = 0; ok && i < rt->nworkers; i++) {
    struct cl_worker *w = &rt->workers[i];
    w->rt = rt;
    w->index = i;
    w->pu = -1;
    w->rng = 0x9e3779b97f4a7c15ull * (i + 1);
    w->watch_ns = WATCH_MIN_NS / 2;
    atomic_init(&w->timer_next, CL_DEADLINE_NONE);
    atomic_init(&w->sleep_until, INT64_MIN); /* not sleeping */
    w->victims = calloc(rt->nworkers, sizeof *w->victims);
    ok = w->victims != NULL;
  }
  if (!ok) {
    rt_release(rt);
    return cl_set_error(CHAN_ENOMEM, "chan_rt_start: out of memory");
  }
  place_workers(rt, !o.unpinned);
  for (unsigned i = 0; i < rt->nworkers; i++) {
    struct cl_worker *w = &rt->workers[i];
    int rc = pthread_create(&w->thread, NULL, worker_main, w);
    if (rc != 0) {
      join_workers(rt, i);
      rt_release(rt);
      return cl_set_error(CHAN_ENOMEM, "chan_rt_start: pthread_create: %s",
                          strerror(rc));
    }
    pin_thread(w->thread, w->pu);
  }
  *out = rt;
  return CHAN_OK;
}

int chan_rt_stop(chan_rt *rt, int64_t timeout_ns) {
  if (!rt)
    return cl_set_error(CHAN_EINVAL, "chan_rt_stop: NULL runtime");
  if (timeout_ns < CHAN_FOREVER)
    return cl_set_error(CHAN_EINVAL, "chan_rt_stop: negative timeout %lld",
                        (long long)timeout_ns);
  if (chan_fiber_runtime() == rt)
    return cl_set_error(CHAN_EINVAL, "chan_rt_stop: called from one of the "
                                     "runtime's own fibers (it would wait "
                                     "for itself)");
  int64_t deadline = timeout_ns == CHAN_FOREVER ? CL_DEADLINE_NONE
                     : timeout_ns == 0          ? cl_now_ns()
                                                : cl_deadline_after(timeout_ns);
  struct timespec abs = {.tv_sec = (time_t)(deadline / 1000000000),
                         .tv_nsec = (long)(deadline % 1000000000)};
  pthread_mutex_lock(&rt->life_mu);
  if (atomic_load_explicit(&rt->stopped, memory_order_relaxed)) {
    pthread_mutex_unlock(&rt->life_mu);
    return CHAN_OK;
  }
  size_t live;
  int rc = 0;
  while ((live = atomic_load_explicit(&rt->live, memory_order_acquire)) > 0 &&
         rc != ETIMEDOUT)
    rc = deadline == CL_DEADLINE_NONE
             ? pthread_cond_wait(&rt->life_cv, &rt->life_mu)
             : pthread_cond_timedwait(&rt->life_cv, &rt->life_mu, &abs);
  if (live > 0) {
    pthread_mutex_unlock(&rt->life_mu);
    return cl_set_error(CHAN_EBUSY,
                        "chan_rt_stop: %zu fibers are still running or "
                        "blocked; the runtime keeps running",
                        live);
  }
  atomic_store_explicit(&rt->stopped, true, memory_order_seq_cst);
  pthread_mutex_unlock(&rt->life_mu);
  join_workers(rt, rt->nworkers);
  return CHAN_OK;
}

int chan_rt_free(chan_rt *rt) {
  if (!rt)
    return cl_set_error(CHAN_EINVAL, "chan_rt_free: NULL runtime");
  if (!atomic_load_explicit(&rt->stopped, memory_order_acquire))
    return cl_set_error(CHAN_EBUSY, "chan_rt_free: the runtime is not stopped "
                                    "(chan_rt_stop first)");
  size_t unjoined = atomic_load_explicit(&rt->handles, memory_order_acquire);
  if (unjoined)
    return cl_set_error(CHAN_EBUSY,
                        "chan_rt_free: %zu fibers were spawned joinable and "
                        "never joined (chan_fiber_join them first)",
                        unjoined);
  rt_release(rt);
  return CHAN_OK;
}

unsigned chan_rt_workers(const chan_rt *rt) {
  return rt ? rt->nworkers : 0;
}

void chan_debug_rt_stats(const struct chan_rt *rt,
                         struct chan_debug_rt_stats *out) {
  if (!out)
    return;
  *out = (struct chan_debug_rt_stats){0};
  if (!rt)
    return;
  out->spawned = atomic_load_explicit(&rt->spawned, memory_order_relaxed);
  out->live = atomic_load_explicit(&rt->live, memory_order_relaxed);
  for (unsigned i = 0; i < rt->nworkers; i++) {
    const struct cl_worker_stats *s = &rt->workers[i].stats;
#define CL_STAT_SUM(name, what)                                                \
  out->name += atomic_load_explicit(&s->name, memory_order_relaxed);
    CHAN_DEBUG_RT_COUNTERS(CL_STAT_SUM)
#undef CL_STAT_SUM
  }
  struct chan_rt *mut = (struct chan_rt *)rt;
  cl_futex_lock(&mut->pool_lock);
  out->pooled = rt->pooled;
  cl_futex_unlock(&mut->pool_lock);
}
