/*
 * fiber.c - fibers: spawning, switching, parking, waking, joining.
 *
 * A fiber runs on a worker's thread until it parks, yields or finishes;
 * then it jumps back to the worker's scheduling loop (runtime.c) with a
 * request naming why: the parker it parks on, YIELD or EXIT.
 *
 * Parking (the pitfall every fiber runtime meets): a fiber that has queued
 * its waiter on a channel can be woken by another worker before it has left
 * its stack. So the fiber does not decide to sleep; the scheduler does, on
 * its own stack, after the switch (Go's park_m on g0 for the same reason):
 *
 *   fiber      queue waiter; jump to the scheduler with the parker
 *   scheduler  save the fiber's context; CAS parker state RUNNING->SLEEPING:
 *              won:  the fiber is parked, whoever wakes it readies it;
 *              lost: (the state is WOKEN) run the fiber again at once.
 *   waker      claim the parker (parker.h), write the outcome, exchange
 *              state to WOKEN: if it was SLEEPING, ready the fiber (push it
 *              on a run queue), else the fiber has not parked yet and the
 *              scheduler's CAS will fail.
 *
 * Every step of the thread parker's protocol (claim, outcome, last touch)
 * is the same; only "sleep" became "switch away" and "wake" became "push
 * on a run queue". The spin model (stress/model/) checks this protocol.
 *
 * Synchronization table (who touches a parked fiber):
 *   f->ctx      written by the scheduler before its SLEEPING CAS (release);
 *               read by the worker that resumes f, after the waker's
 *               exchange (acq_rel) and the run queue's release/acquire.
 *   parker      as parker.h; the timer's claim is made under its heap's
 *               lock, which the fiber takes (disarm) before returning.
 *   refs        atomic; the last reference returns the stack to the pool.
 *   joiner      exchange/CAS (acq_rel): a joiner parks only after
 *               publishing its parker; the finishing fiber claims and wakes
 *               it after writing ret.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "common/park_seam.h"
#include "fiber/internal.h"
#include "fiber/switch.h"

/* Requests a fiber passes to its scheduler (besides a parker). */
#define REQ_YIELD ((void *)1)
#define REQ_EXIT  ((void *)2)

static _Atomic uint64_t next_id;

/* ---- the current fiber ------------------------------------------------- */

/* Set once per worker thread (runtime.c). */
extern _Thread_local struct cl_worker *cl_tls_worker;

__attribute__((noinline)) struct chan_fiber *cl_fiber_current(void) {
  /* The empty asm keeps the compiler from treating this function as pure
   * and reusing one call's answer after a switch to another thread. */
  __asm__ __volatile__("" ::: "memory");
  struct cl_worker *w = cl_tls_worker;
  return w ? atomic_load_explicit(&w->current, memory_order_relaxed) : NULL;
}

chan_fiber *chan_fiber_self(void) {
  return cl_fiber_current();
}

chan_rt *chan_fiber_runtime(void) {
  struct chan_fiber *f = cl_fiber_current();
  return f ? f->rt : NULL;
}

uint64_t chan_fiber_id(const chan_fiber *f) {
  return f ? f->id : 0;
}

/* ---- switching --------------------------------------------------------- */

/* On the fiber: jumps to its scheduler with a request and returns when the
 * fiber is resumed (perhaps on another worker). */
static void switch_out(struct chan_fiber *f, void *request) {
  struct cl_worker *w = f->worker;
  cl_switch_begin(request == REQ_EXIT ? NULL : &f->asan_fake_stack,
                  w->stack_bottom, w->stack_size, w->tsan_fiber);
  cl_transfer t = jump_fcontext(f->sched_ctx, request);
  /* Resumed by the worker in t.data, whose scheduler context is t.fctx. */
  f->sched_ctx = t.fctx;
  cl_switch_end(f->asan_fake_stack);
}

/* Ends the calling fiber: publishes ret, wakes a joiner, and leaves its
 * stack for good. */
static _Noreturn void finish(struct chan_fiber *f, void *ret) {
  f->ret = ret;
  uintptr_t joiner = atomic_exchange_explicit(&f->joiner, CL_FIBER_JOIN_DONE,
                                              memory_order_acq_rel);
  if (joiner) {
    struct cl_parker *p = (struct cl_parker *)joiner;
    if (cl_parker_claim(p, 1))
      cl_parker_wake(p, CHAN_OK);
  }
  switch_out(f, REQ_EXIT);
  abort(); /* unreachable: an exited fiber is never resumed */
}

static void entry(cl_transfer t) {
  struct cl_worker *w = t.data;
  struct chan_fiber *f =
      atomic_load_explicit(&w->current, memory_order_relaxed);
  f->sched_ctx = t.fctx;
  cl_switch_end(NULL);
  finish(f, f->fn(f->arg));
}

/* A fiber made runnable twice would be resumed by two workers at once. */
static void claim_cpu(struct chan_fiber *f) {
  if (atomic_exchange_explicit(&f->on_cpu, true, memory_order_acquire)) {
    fprintf(stderr,
            "chanlab fiber runtime: fiber %llu resumed while "
            "running (made runnable twice)\n",
            (unsigned long long)f->id);
    abort();
  }
}

/* On the scheduler: runs f until it parks, yields or finishes. */
void cl_fiber_run(struct cl_worker *w, struct chan_fiber *f) {
  for (;;) {
    claim_cpu(f);
    if (f->worker != w && f->worker)
      cl_stat_inc(&w->stats.migrations);
    f->worker = w;
    atomic_store_explicit(&w->current, f, memory_order_relaxed);
    cl_stat_inc(&w->stats.resumes);
    cl_switch_begin(&w->asan_fake_stack, f->stack, f->stack_size,
                    f->tsan_fiber);
    cl_transfer t = jump_fcontext(f->ctx, w);
    cl_switch_end(w->asan_fake_stack);
    atomic_store_explicit(&w->current, NULL, memory_order_relaxed);
    f->ctx = t.fctx;
    atomic_store_explicit(&f->on_cpu, false, memory_order_release);

    if (t.data == REQ_YIELD) {
      /* To the global queue, as Go's Gosched does: behind every fiber
       * waiting anywhere, not only behind this worker's. */
      cl_stat_inc(&w->stats.yields);
      cl_global_put(w->rt, f);
      return;
    }
    if (t.data == REQ_EXIT) {
      struct chan_rt *rt = f->rt;
      cl_tsan_fiber_destroy(f->tsan_fiber);
      if (atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) == 1)
        cl_stack_put(rt, f);
      cl_rt_fiber_finished(rt);
      return;
    }
    /* Park: commit the sleep now that the fiber is off its stack. */
    struct cl_parker *p = t.data;
    uint32_t running = CL_PARKER_RUNNING;
    if (atomic_compare_exchange_strong_explicit(
            &p->state, &running, CL_PARKER_SLEEPING, memory_order_acq_rel,
            memory_order_acquire)) {
      cl_stat_inc(&w->stats.parks);
      return;
    }
    /* Woken before it was parked: it is still ours; run it again. */
  }
}

/* ---- parking and waking ------------------------------------------------ */

static bool woken(struct cl_parker *p) {
  return atomic_load_explicit(&p->state, memory_order_acquire) ==
         CL_PARKER_WOKEN;
}

bool cl_fiber_wait(struct cl_parker *p, int64_t deadline) {
  struct chan_fiber *f = p->fiber;
  struct cl_worker *armed = NULL;
  if (deadline != CL_DEADLINE_NONE && !woken(p)) {
    if (cl_now_ns() >= deadline) {
      if (cl_parker_claim(p, CL_PARKER_TIMED_OUT))
        return false; /* nobody else can fire us now */
      /* Someone claimed us first: their wake-up is imminent. */
    } else {
      armed = f->worker;
      cl_timer_arm(armed, f, p, deadline);
    }
  }
  while (!woken(p))
    switch_out(f, p);
  if (armed)
    cl_timer_disarm(armed, f);
  return atomic_load_explicit(&p->claim, memory_order_acquire) !=
         CL_PARKER_TIMED_OUT;
}

/* Makes f runnable. From a fiber of the same runtime, f runs next on this
 * worker, so a handoff stays on this core (Go's runnext); from anywhere
 * else, f goes to the global queue.
 *
 * An idle worker is woken (Go's wakep) only for work it could take now: f
 * in the global queue, or a local queue of two or more fibers (a backlog:
 * f displaced one from runnext into a queue that was not empty). A fiber
 * in runnext alone wakes nobody (Tokio's rule for its LIFO slot), nor does
 * a lone displaced one: the waker nearly always parks within a few
 * instructions and its worker runs them next (a thief gives a lone queued
 * fiber the same pause as runnext, runq.c). Waking a worker for it anyway is what made the
 * runtime machine-sensitive: the woken worker polls this worker's queue
 * lines, which this worker writes at every hand-off, and steals the chain
 * apart, so every later hand-off crosses cores (fiber/README.md,
 * "Performance model"). A waker that computes on instead of parking is
 * found by the idle workers' watch (runtime.c), which steals f from
 * runnext after the pause. */
static void make_runnable(struct chan_fiber *f) {
  /* Read f before publishing it: once it is in a queue, another worker may
   * run it to its end and its descriptor may be reused (TSan found this). */
  struct chan_rt *rt = f->rt;
  struct chan_fiber *self = cl_fiber_current();
  if (self && self->rt == rt) {
    cl_stat_inc(&self->worker->stats.handoffs);
    if (!cl_runq_put_next(self->worker, f) || cl_runq_len(self->worker) < 2)
      return; /* this worker runs them next, before any thief would */
  } else {
    cl_global_put(rt, f);
  }
  cl_rt_wakep(rt);
}

void cl_fiber_ready(struct chan_fiber *f) {
  make_runnable(f);
}

/* ---- the public calls -------------------------------------------------- */

int chan_fiber_spawn(chan_rt *rt, chan_fiber **out, chan_fiber_fn fn,
                     void *arg) {
  if (out)
    *out = NULL;
  if (!rt || !fn)
    return cl_set_error(CHAN_EINVAL, "chan_fiber_spawn: NULL %s",
                        rt ? "function" : "runtime");
  struct chan_fiber *self = cl_fiber_current();
  if (self && self->rt == rt) {
    /* rt cannot stop while we, one of its fibers, are alive. */
    atomic_fetch_add_explicit(&rt->live, 1, memory_order_relaxed);
  } else {
    /* Decide against a concurrent chan_rt_stop under its lock. */
    pthread_mutex_lock(&rt->life_mu);
    bool stopped = atomic_load_explicit(&rt->stopped, memory_order_relaxed);
    if (!stopped)
      atomic_fetch_add_explicit(&rt->live, 1, memory_order_relaxed);
    pthread_mutex_unlock(&rt->life_mu);
    if (stopped)
      return cl_set_error(CHAN_ESTOPPED,
                          "chan_fiber_spawn: the runtime is stopped");
  }
  struct chan_fiber *f = cl_stack_get(rt);
  if (!f) {
    cl_rt_fiber_finished(rt); /* undo live; the error is set */
    return CHAN_ENOMEM;
  }
  f->rt = rt;
  f->fn = fn;
  f->arg = arg;
  f->worker = NULL; /* not run yet: its first resume is no migration */
  f->id = atomic_fetch_add_explicit(&next_id, 1, memory_order_relaxed) + 1;
  atomic_init(&f->joiner, 0);
  atomic_init(&f->refs, out ? 2 : 1);
  f->ctx = make_fcontext(f->stack + f->stack_size, f->stack_size, entry);
  f->tsan_fiber = cl_tsan_fiber_create();
  atomic_fetch_add_explicit(&rt->spawned, 1, memory_order_relaxed);
  if (out) {
    atomic_fetch_add_explicit(&rt->handles, 1, memory_order_relaxed);
    *out = f;
  }
  make_runnable(f); /* Go's newproc: the new fiber runs next */
  return CHAN_OK;
}

int chan_fiber_join(chan_fiber *f, void **ret) {
  if (!f)
    return cl_set_error(CHAN_EINVAL, "chan_fiber_join: NULL fiber");
  if (f == cl_fiber_current())
    return cl_set_error(CHAN_EINVAL,
                        "chan_fiber_join: a fiber cannot join itself");
  struct cl_parker p;
  cl_parker_init(&p, CL_PARK_FUTEX, 0);
  uintptr_t expected = 0;
  if (atomic_compare_exchange_strong_explicit(
          &f->joiner, &expected, (uintptr_t)&p, memory_order_acq_rel,
          memory_order_acquire))
    cl_parker_wait(&p, CL_DEADLINE_NONE); /* woken by finish() */
  /* else expected == CL_FIBER_JOIN_DONE: it already finished. */
  cl_parker_destroy(&p);
  if (ret)
    *ret = f->ret;
  struct chan_rt *rt = f->rt;
  if (atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) == 1)
    cl_stack_put(rt, f);
  atomic_fetch_sub_explicit(&rt->handles, 1, memory_order_release);
  return CHAN_OK;
}

int chan_fiber_yield(void) {
  struct chan_fiber *f = cl_fiber_current();
  if (!f)
    return cl_set_error(CHAN_ENOTFIBER,
                        "chan_fiber_yield: not called from a fiber");
  switch_out(f, REQ_YIELD);
  return CHAN_OK;
}

int chan_fiber_exit(void *ret) {
  struct chan_fiber *f = cl_fiber_current();
  if (!f)
    return cl_set_error(CHAN_ENOTFIBER,
                        "chan_fiber_exit: not called from a fiber");
  finish(f, ret);
}
