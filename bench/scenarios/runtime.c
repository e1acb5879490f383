/*
 * runtime.c - what a goroutine itself costs, with no channel in the way:
 * the executors side by side (impl: names the executor; bench/go adds
 * impl:go, Go's goroutines).
 *
 *   switch: two goroutines on one PU yield to each other; one iteration is
 *           a round trip, two switches. impl:fiber is chanlab's runtime
 *           with a single worker (chan_fiber_yield: fiber -> scheduler ->
 *           other fiber, no system call), impl:thread two threads pinned
 *           to one PU calling sched_yield (two kernel context switches),
 *           impl:floor the same round trip as two bare jump_fcontext
 *           calls between two contexts on the benchmark's thread: the
 *           context switch alone, with no scheduler, no run queue and no
 *           park, so the fiber row shows what the runtime adds to it.
 *   spawn:  start a goroutine that returns at once and wait for it; one
 *           iteration is a spawn, the goroutine's run and exit, and the
 *           join. impl:fiber spawns from a fiber (the child runs next on
 *           the same worker; stacks come from the runtime's pool),
 *           impl:thread is pthread_create + pthread_join.
 * The daisy chain of 100000 links (pattern_daisy) is the other goroutine
 * cost: that many goroutines alive at once.
 */
#include "../bench_common.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- switch ---------------------------------------------------------------
 */

static int yield_role(struct role *r) {
  for (uint64_t i = 0; i < r->count; i++)
    exec_yield();
  return 0;
}

static void bm_switch(bench_state *st, void *user) {
  const struct where *w = user;
  const struct roles ro = {.side0 = yield_role,
                           .side1 = yield_role,
                           .n0 = 1,
                           .n1 = 1,
                           .batch_lo = 1000,
                           .runtime = RT_SINGLE};
  round_drive(st, w, &ro, NULL);
}

/* The floor: Boost.Context's fcontext C ABI (libboost_context, which
 * libchan links for its fibers; fiber/switch.h declares the same two calls
 * for the runtime). A saved context is an opaque pointer. */
typedef struct {
  void *fctx;
  void *data;
} floor_transfer;
floor_transfer jump_fcontext(void *const to, void *vp);
void *make_fcontext(void *sp, size_t size, void (*fn)(floor_transfer));

/* The other context: jumps straight back, forever (the benchmark's
 * thread abandons it with its stack when done). */
static void floor_partner(floor_transfer t) {
  for (;;)
    t = jump_fcontext(t.fctx, NULL);
}

static void bm_switch_floor(bench_state *st, void *user) {
  (void)user;
  enum { STACK = 64 << 10 };
  void *stack = malloc(STACK);
  if (!stack) {
    bench_fail(st, "out of memory");
    return;
  }
  void *partner = make_fcontext((char *)stack + STACK, STACK, floor_partner);
  int64_t batch;
  while (bench_keep_running_batch(st, batch = round_batch(st, 1000, 100000))) {
    int64_t t0 = now_ns();
    for (int64_t i = 0; i < batch; i++)
      partner = jump_fcontext(partner, NULL).fctx; /* there and back */
    bench_set_iteration_time(st, (double)(now_ns() - t0) * 1e-9);
  }
  bench_set_items_processed(st, bench_iteration_count(st));
  free(stack);
}

/* ---- spawn ----------------------------------------------------------------
 */

static void *nothing(void *arg) {
  return arg;
}

struct spawn_call {
  uint64_t count;
  int64_t elapsed;
  char err[200];
};

/* Spawns and joins count goroutines one after the other, on the calling
 * goroutine's executor. */
static void *spawn_loop(void *p) {
  struct spawn_call *c = p;
  enum exec e = chan_fiber_self() ? EXEC_FIBER : EXEC_THREAD;
  int64_t t0 = now_ns();
  for (uint64_t i = 0; i < c->count; i++) {
    struct task t;
    if (task_start(&t, e, NULL, nothing, c, c->err, sizeof c->err) != 0)
      break;
    if (task_join(&t) != c) {
      snprintf(c->err, sizeof c->err, "the goroutine's result was lost");
      break;
    }
  }
  c->elapsed = now_ns() - t0;
  return NULL;
}

static void bm_spawn(bench_state *st, void *user) {
  const struct where *w = user;
  /* A thread costs tens of microseconds, a fiber well under one. */
  const int64_t hi = w->exec == EXEC_FIBER ? 20000 : 200;
  int64_t batch, done = 0, started = now_ns();
  while (bench_keep_running_batch(st, batch = round_batch(st, 10, hi))) {
    if (suite_over_budget(st, started))
      break;
    struct spawn_call c = {.count = (uint64_t)batch};
    if (exec_call(st, w->exec, NULL, spawn_loop, &c, NULL) != 0)
      break;
    if (c.err[0]) {
      bench_fail(st, c.err);
      break;
    }
    bench_set_iteration_time(st, (double)c.elapsed * 1e-9);
    done += batch;
  }
  bench_set_items_processed(st, done);
}

/* ---- registration ---------------------------------------------------------
 */

/* Registers "<scenario>/impl:<executor>/place:<placement>" for a thread
 * placement class, or place:runtime for fibers. */
static void reg(const struct scenario *sc, bench_fn fn, struct where w) {
  char name[128];
  snprintf(name, sizeof name, "%s/impl:%s/place:%s", sc->name,
           exec_name(w.exec),
           w.exec == EXEC_FIBER ? "runtime" : place_class_name(w.pl->cls));
  bench_use_manual_time(suite_register_name(name, fn, &w, sizeof w));
}

static void register_executors(const struct scenario *sc, bench_fn fn,
                               enum place_class thread_place) {
  if (g_suite.exec_on[EXEC_THREAD] && g_suite.place_on[thread_place])
    reg(sc, fn,
        (struct where){.exec = EXEC_THREAD,
                       .pl = topo_placement(g_suite.topo, thread_place)});
  if (g_suite.exec_on[EXEC_FIBER])
    reg(sc, fn, (struct where){.exec = EXEC_FIBER});
}

void register_switch(const struct scenario *sc) {
  /* Threads on one PU: otherwise sched_yield has no one to switch to. */
  register_executors(sc, bm_switch, PLACE_SAME_PU);
  /* The floor beside them, with the fibers (it is their switch). Not under
   * the sanitizers: their stack bookkeeping needs the switch annotations
   * that only the runtime makes. */
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  if (g_suite.exec_on[EXEC_FIBER]) {
    char name[128];
    snprintf(name, sizeof name, "%s/impl:floor/place:same_pu", sc->name);
    bench_use_manual_time(suite_register_name(name, bm_switch_floor, NULL, 0));
  }
#endif
}

void register_spawn(const struct scenario *sc) {
  register_executors(sc, bm_spawn, PLACE_UNPINNED);
}
