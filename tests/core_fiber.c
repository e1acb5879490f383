/* core_fiber.c - the fiber runtime (fiber.h): spawning and joining, parking
 * in user space on every implementation, threads and fibers on one channel,
 * runnext, stealing, timers, stop, stacks, idle CPU, bad input. */
#include "core_util.h"

#include <chan/fiber.h>

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MS 1000000LL

/* These tests start and stop runtimes of their own. */
TEST_EXECUTORS("thread")

static chan_rt *start_rt(unsigned workers) {
  chan_rt *rt = NULL;
  struct chan_rt_options o = {.workers = workers};
  int rc = chan_rt_start(&rt, &o);
  if (rc != CHAN_OK)
    test_fail(__FILE__, __LINE__, "chan_rt_start: %s", chan_last_error());
  return rt;
}

static void stop_rt(chan_rt *rt) {
  if (!rt)
    return;
  CHECK_STATUS(chan_rt_stop(rt, CHAN_FOREVER), CHAN_OK);
  CHECK_STATUS(chan_rt_free(rt), CHAN_OK);
}

static chan_fiber *spawn(chan_rt *rt, chan_fiber_fn fn, void *arg) {
  chan_fiber *f = NULL;
  int rc = chan_fiber_spawn(rt, &f, fn, arg);
  if (rc != CHAN_OK)
    test_fail(__FILE__, __LINE__, "chan_fiber_spawn: %s", chan_last_error());
  return f;
}

static intptr_t join(chan_fiber *f) {
  void *ret = NULL;
  if (f)
    CHECK_STATUS(chan_fiber_join(f, &ret), CHAN_OK);
  return (intptr_t)ret;
}

/* ---- spawn, join, identity --------------------------------------------- */

struct ident {
  chan_rt *rt;
  uint64_t id;
  bool in_fiber, right_runtime;
};

static void *report_identity(void *arg) {
  struct ident *id = arg;
  chan_fiber *self = chan_fiber_self();
  id->in_fiber = self != NULL;
  id->id = chan_fiber_id(self);
  id->right_runtime = chan_fiber_runtime() == id->rt;
  return (void *)(intptr_t)(id->id * 2);
}

TEST(fiber_spawn_join_returns_the_value_and_knows_itself) {
  chan_rt *rt = start_rt(0);
  REQUIRE(rt);
  CHECK(chan_rt_workers(rt) >= 1);
  CHECK(chan_fiber_self() == NULL);
  CHECK(chan_fiber_runtime() == NULL);
  CHECK_EQ(chan_fiber_id(NULL), 0);
  enum { N = 64 };
  struct ident ids[N];
  chan_fiber *f[N];
  for (int i = 0; i < N; i++) {
    ids[i] = (struct ident){.rt = rt};
    f[i] = spawn(rt, report_identity, &ids[i]);
  }
  for (int i = 0; i < N; i++) {
    CHECK_EQ(join(f[i]), (intptr_t)(ids[i].id * 2));
    CHECK(ids[i].in_fiber);
    CHECK(ids[i].right_runtime);
    CHECK(ids[i].id > 0);
    for (int j = 0; j < i; j++)
      CHECK(ids[i].id != ids[j].id);
  }
  stop_rt(rt);
}

static void *exit_early(void *arg) {
  chan_fiber_exit(arg);
  return (void *)1; /* never reached */
}

TEST(fiber_exit_ends_the_fiber_with_its_value) {
  chan_rt *rt = start_rt(1);
  REQUIRE(rt);
  CHECK_EQ(join(spawn(rt, exit_early, (void *)42)), 42);
  CHECK_STATUS(chan_fiber_exit(NULL), CHAN_ENOTFIBER);
  stop_rt(rt);
}

/* ---- blocking in channel operations parks the fiber -------------------- */

struct relay {
  chan_t *in, *out;
  int64_t n;
};

/* Receives n values from in and sends each + 1 to out. */
static void *relay_main(void *arg) {
  struct relay *r = arg;
  for (int64_t i = 0; i < r->n; i++) {
    int64_t v;
    if (chan_recv(r->in, &v) != CHAN_OK)
      return (void *)1;
    v++;
    if (chan_send(r->out, &v) != CHAN_OK)
      return (void *)2;
  }
  return NULL;
}

/* One worker, many fibers each blocked in turn: if a blocked fiber held its
 * worker thread, the chain would deadlock. */
TEST(fiber_blocked_in_a_channel_op_frees_its_worker) {
  chan_rt *rt = start_rt(1);
  REQUIRE(rt);
  for (size_t cap = 0; cap <= 1; cap++) {
    enum { LINKS = 200 };
    chan_t *ch[LINKS + 1];
    for (int i = 0; i <= LINKS; i++)
      REQUIRE((ch[i] = test_chan(sizeof(int64_t), cap)));
    struct relay r[LINKS];
    chan_fiber *f[LINKS];
    int64_t n = (int64_t)test_scale(50);
    for (int i = 0; i < LINKS; i++) {
      r[i] = (struct relay){ch[i], ch[i + 1], n};
      f[i] = spawn(rt, relay_main, &r[i]);
    }
    for (int64_t k = 0; k < n; k++) {
      int64_t v = k, got = -1;
      CHECK_STATUS(chan_send(ch[0], &v), CHAN_OK);
      CHECK_STATUS(chan_recv(ch[LINKS], &got), CHAN_OK);
      CHECK_EQ(got, k + LINKS);
    }
    for (int i = 0; i < LINKS; i++)
      CHECK_EQ(join(f[i]), 0);
    for (int i = 0; i <= LINKS; i++)
      chan_destroy(ch[i]);
  }
  stop_rt(rt);
}

struct mix {
  chan_t *to_fiber, *to_thread;
  int64_t n;
};

static void *mix_fiber(void *arg) {
  struct mix *m = arg;
  int64_t sum = 0;
  for (int64_t i = 0; i < m->n; i++) {
    int64_t v;
    if (chan_recv(m->to_fiber, &v) != CHAN_OK)
      return (void *)-1;
    sum += v;
    if (chan_send(m->to_thread, &i) != CHAN_OK)
      return (void *)-2;
  }
  return (void *)(intptr_t)sum;
}

static void *mix_thread(void *arg) {
  struct mix *m = arg;
  for (int64_t i = 0; i < m->n; i++) {
    int64_t v = i * 3, got = -1;
    if (chan_send(m->to_fiber, &v) != CHAN_OK ||
        chan_recv(m->to_thread, &got) != CHAN_OK || got != i)
      return (void *)1;
  }
  return NULL;
}

/* Threads and fibers on the same channels, in both directions, unbuffered
 * and buffered, several pairs at once. */
TEST(fiber_and_thread_share_channels_both_ways) {
  chan_rt *rt = start_rt(0);
  REQUIRE(rt);
  enum { PAIRS = 4 };
  for (size_t cap = 0; cap <= 16; cap += 16) {
    struct mix m[PAIRS];
    chan_fiber *f[PAIRS];
    pthread_t t[PAIRS];
    int64_t n = (int64_t)test_scale(2000);
    for (int i = 0; i < PAIRS; i++) {
      m[i] = (struct mix){test_chan(8, cap), test_chan(8, cap), n};
      REQUIRE(m[i].to_fiber && m[i].to_thread);
      f[i] = spawn(rt, mix_fiber, &m[i]);
      t[i] = test_thread_start(mix_thread, &m[i]);
    }
    for (int i = 0; i < PAIRS; i++) {
      CHECK(test_thread_join(t[i]) == NULL);
      CHECK_EQ(join(f[i]), 3 * n * (n - 1) / 2);
      chan_destroy(m[i].to_fiber);
      chan_destroy(m[i].to_thread);
    }
  }
  stop_rt(rt);
}

struct closer {
  chan_t *ch;
  int result;
};

static void *recv_until_closed(void *arg) {
  struct closer *c = arg;
  int64_t v = 7;
  c->result = chan_recv(c->ch, &v);
  return (void *)(intptr_t)v;
}

TEST(fiber_blocked_in_recv_is_woken_by_a_close_from_a_thread) {
  chan_rt *rt = start_rt(0);
  REQUIRE(rt);
  chan_t *ch = test_chan(8, 0);
  REQUIRE(ch);
  enum { N = 8 };
  struct closer c[N];
  chan_fiber *f[N];
  for (int i = 0; i < N; i++) {
    c[i] = (struct closer){ch, -100};
    f[i] = spawn(rt, recv_until_closed, &c[i]);
  }
  test_wait_waiters(ch, CHAN_RECV, N);
  CHECK_STATUS(chan_close(ch), CHAN_OK);
  for (int i = 0; i < N; i++) {
    CHECK_EQ(join(f[i]), 0); /* the zero value */
    CHECK_STATUS(c[i].result, CHAN_CLOSED);
  }
  chan_destroy(ch);
  stop_rt(rt);
}

struct sel {
  chan_t *a, *b;
  int64_t n;
};

/* Selects over two channels fed by a thread; counts what each delivered. */
static void *select_loop(void *arg) {
  struct sel *s = arg;
  int64_t sum = 0;
  for (int64_t i = 0; i < s->n; i++) {
    int64_t x = 0, y = 0;
    struct chan_case cases[2] = {{s->a, CHAN_RECV, &x}, {s->b, CHAN_RECV, &y}};
    size_t chosen;
    if (chan_select(cases, 2, CHAN_FOREVER, &chosen) != CHAN_OK)
      return (void *)-1;
    sum += chosen == 0 ? x : y;
  }
  return (void *)(intptr_t)sum;
}

TEST(fiber_select_parks_and_takes_each_value_once) {
  chan_rt *rt = start_rt(0);
  REQUIRE(rt);
  struct sel s = {test_chan(8, 0), test_chan(8, 2), (int64_t)test_scale(4000)};
  REQUIRE(s.a && s.b);
  chan_fiber *f = spawn(rt, select_loop, &s);
  int64_t want = 0;
  for (int64_t i = 0; i < s.n; i++) {
    CHECK_STATUS(chan_send(i % 2 ? s.a : s.b, &i), CHAN_OK);
    want += i;
  }
  CHECK_EQ(join(f), want);
  chan_destroy(s.a);
  chan_destroy(s.b);
  stop_rt(rt);
}

/* ---- scheduling -------------------------------------------------------- */

struct pingpong {
  chan_t *ping, *pong;
  int64_t n;
  int same_cpu; /* rounds where both sides ran on one CPU (pinger counts) */
  _Atomic int pong_cpu;
};

static void *pinger(void *arg) {
  struct pingpong *p = arg;
  for (int64_t i = 0; i < p->n; i++) {
    int64_t v = i;
    if (chan_send(p->ping, &v) != CHAN_OK || chan_recv(p->pong, &v) != CHAN_OK)
      return (void *)1;
    if (sched_getcpu() == atomic_load(&p->pong_cpu))
      p->same_cpu++;
  }
  return NULL;
}

static void *ponger(void *arg) {
  struct pingpong *p = arg;
  int64_t v;
  /* Until a negative value ends this ping-pong (or a close). */
  while (chan_recv(p->ping, &v) == CHAN_OK && v >= 0) {
    atomic_store(&p->pong_cpu, sched_getcpu());
    if (chan_send(p->pong, &v) != CHAN_OK)
      return (void *)1;
  }
  return NULL;
}

/* One ping-pong of p->n rounds on rt; *stats gets the runtime's counters
 * over it. */
static void ping_pong_on(chan_rt *rt, struct pingpong *p,
                         struct chan_debug_rt_stats *stats) {
  p->same_cpu = 0;
  atomic_store(&p->pong_cpu, -1);
  struct chan_debug_rt_stats before, after;
  chan_debug_rt_stats(rt, &before);
  chan_fiber *b = spawn(rt, ponger, p);
  chan_fiber *a = spawn(rt, pinger, p);
  CHECK_EQ(join(a), 0);
  chan_debug_rt_stats(rt, &after);
  CHECK_STATUS(chan_send(p->ping, &(int64_t){-1}), CHAN_OK);
  CHECK_EQ(join(b), 0);
  stats->parks = after.parks - before.parks;
  stats->wakeps = after.wakeps - before.wakeps;
  stats->idle_sleeps = after.idle_sleeps - before.idle_sleeps;
}

/* Go's runnext: a fiber woken by a fiber runs next on the waker's worker,
 * so a ping-pong stays on one core, and once it runs no worker sleeps in
 * the kernel (so none needs a FUTEX_WAKE): the other worker at most spins
 * briefly between wake-ups. A worker the OS preempts is rightly robbed of
 * its runnext, and the suite runs two tests at a time on two PUs, so the
 * test takes the best of three ping-pongs: without runnext every one of
 * them would split. */
TEST(fiber_ping_pong_stays_on_one_worker_without_kernel_sleeps) {
  chan_rt *rt = start_rt(0);
  REQUIRE(rt);
  struct pingpong p = {.ping = test_chan(8, 0),
                       .pong = test_chan(8, 0),
                       .n = (int64_t)test_scale(20000)};
  REQUIRE(p.ping && p.pong);
  atomic_init(&p.pong_cpu, -1);
  struct chan_debug_rt_stats d = {0};
  bool local = false, awake = false;
  for (int attempt = 0; attempt < 3 && !(local && awake); attempt++) {
    ping_pong_on(rt, &p, &d);
    /* Each round parks each side once. */
    CHECK(d.parks >= (uint64_t)p.n);
    local = p.same_cpu >= p.n * 9 / 10;
    /* Kernel sleeps of idle workers: far fewer than one per round (chaos
     * builds pause longer than the idle spin on purpose). The idle worker's
     * watch sleeps 20 us, 40 us, ... so a quiet stretch costs it about ten
     * sleeps, and each round it takes over (the split ones) starts a new
     * stretch: under ASan's slower rounds that was 37 sleeps in 2000
     * rounds (CI, 44 split). A worker woken per hand-off sleeps once per
     * round. */
    awake = test_chaos() || d.idle_sleeps < (uint64_t)p.n / 10 + 10;
    printf("  %d of %lld rounds on one CPU; %llu parks, %llu wake-ups of "
           "idle workers, %llu kernel sleeps\n",
           p.same_cpu, (long long)p.n, (unsigned long long)d.parks,
           (unsigned long long)d.wakeps, (unsigned long long)d.idle_sleeps);
  }
  CHECK(local);
  CHECK(awake);
  chan_close(p.ping);
  chan_destroy(p.ping);
  chan_destroy(p.pong);
  stop_rt(rt);
}

struct order_log {
  chan_t *gate; /* closed once both fibers wait on it */
  int entries[64];
  _Atomic int n;
};

static void *yielder(void *arg) {
  struct order_log *log = arg;
  chan_recv(log->gate, NULL);
  for (int i = 0; i < 4; i++) {
    int k = atomic_fetch_add(&log->n, 1);
    log->entries[k] = (int)chan_fiber_id(chan_fiber_self());
    chan_fiber_yield();
  }
  return NULL;
}

static void *close_gate(void *gate) {
  chan_close(gate);
  return NULL;
}

TEST(fiber_yield_lets_the_other_fibers_of_its_worker_run) {
  chan_rt *rt = start_rt(1);
  REQUIRE(rt);
  CHECK_STATUS(chan_fiber_yield(), CHAN_ENOTFIBER);
  struct order_log log = {.gate = test_chan(0, 0)};
  REQUIRE(log.gate);
  chan_fiber *a = spawn(rt, yielder, &log);
  chan_fiber *b = spawn(rt, yielder, &log);
  test_wait_waiters(log.gate, CHAN_RECV, 2);
  /* Closed from a fiber of the one worker, so both become runnable there
   * before either runs (a close from this thread could let the first run
   * and yield before the second is readied). */
  join(spawn(rt, close_gate, log.gate));
  join(a);
  join(b);
  REQUIRE(atomic_load(&log.n) == 8);
  /* One worker: after each yield the other fiber runs, so no fiber logs
   * twice in a row. */
  for (int i = 1; i < 8; i++)
    CHECK(log.entries[i] != log.entries[i - 1]);
  chan_destroy(log.gate);
  stop_rt(rt);
}

static void *spin_a_while(void *arg) {
  (void)arg;
  volatile uint64_t x = 0;
  int64_t until = test_now_ns() + 2 * MS;
  while (test_now_ns() < until)
    x++;
  return (void *)(intptr_t)sched_getcpu();
}

/* Work spawned on one worker's queue spreads to the others by stealing. */
TEST(fiber_work_is_stolen_by_idle_workers) {
  chan_rt *rt = start_rt(0);
  REQUIRE(rt);
  if (chan_rt_workers(rt) < 2) {
    printf("  one worker: nothing to steal from; skipped\n");
    stop_rt(rt);
    return;
  }
  enum { N = 64 };
  chan_fiber *f[N];
  for (int i = 0; i < N; i++)
    f[i] = spawn(rt, spin_a_while, NULL);
  int first = (int)join(f[0]);
  bool spread = false;
  for (int i = 1; i < N; i++)
    spread |= join(f[i]) != first;
  CHECK(spread);
  stop_rt(rt);
}

static void *count_down(void *arg) {
  atomic_fetch_sub((_Atomic int *)arg, 1);
  return NULL;
}

static _Atomic int children_left;

static void *spawn_children(void *arg) {
  chan_t *done = arg;
  chan_rt *rt = chan_fiber_runtime();
  for (int i = 0; i < 100; i++)
    if (chan_fiber_spawn(rt, NULL, count_down, &children_left) != CHAN_OK)
      return (void *)1;
  int64_t one = 1;
  chan_send(done, &one);
  return NULL;
}

/* Detached fibers, and fibers spawned by fibers, count as live until they
 * finish; stop waits for all of them. */
TEST(fiber_stop_waits_for_every_fiber_including_detached_children) {
  chan_rt *rt = start_rt(0);
  REQUIRE(rt);
  chan_t *done = test_chan(8, 1);
  REQUIRE(done);
  atomic_store(&children_left, 100);
  CHECK_STATUS(chan_fiber_spawn(rt, NULL, spawn_children, done), CHAN_OK);
  int64_t v;
  CHECK_STATUS(chan_recv(done, &v), CHAN_OK);
  CHECK_STATUS(chan_rt_stop(rt, CHAN_FOREVER), CHAN_OK);
  struct chan_debug_rt_stats s;
  chan_debug_rt_stats(rt, &s);
  CHECK_EQ(s.live, 0);
  CHECK_EQ(s.spawned, 101);
  CHECK_EQ(atomic_load(&children_left), 0);
  CHECK_STATUS(chan_rt_free(rt), CHAN_OK);
  chan_destroy(done);
}

/* ---- timers ------------------------------------------------------------ */

struct timed {
  chan_t *ch;
  int64_t timeout_ns, took_ns;
  int result;
};

static void *timed_recv(void *arg) {
  struct timed *t = arg;
  int64_t v, start = test_now_ns();
  t->result = chan_recv_timeout(t->ch, &v, t->timeout_ns);
  t->took_ns = test_now_ns() - start;
  return NULL;
}

static void *timed_select(void *arg) {
  struct timed *t = arg;
  int64_t v, start = test_now_ns();
  struct chan_case c = {t->ch, CHAN_RECV, &v};
  size_t chosen;
  t->result = chan_select(&c, 1, t->timeout_ns, &chosen);
  t->took_ns = test_now_ns() - start;
  return NULL;
}

static void *sleep_for(void *arg) {
  struct timed *t = arg;
  int64_t start = test_now_ns();
  t->result = chan_fiber_sleep(t->timeout_ns);
  t->took_ns = test_now_ns() - start;
  return NULL;
}

/* Timeouts and sleeps of fibers come from the workers' timer heaps: never
 * early, every one fires, and no thread is started for them. */
TEST(fiber_timeouts_and_sleeps_fire_no_earlier_than_asked_without_threads) {
  int threads_before = test_thread_count();
  chan_rt *rt = start_rt(0);
  REQUIRE(rt);
  int workers = (int)chan_rt_workers(rt);
  chan_t *ch = test_chan(8, 0);
  REQUIRE(ch);
  enum { N = 300 };
  struct timed t[N];
  chan_fiber *f[N];
  test_rng rng = test_rng_make(1);
  for (int i = 0; i < N; i++) {
    t[i] = (struct timed){.ch = ch,
                          .timeout_ns =
                              (int64_t)(1 + test_rng_below(&rng, 20)) * MS,
                          .result = -100};
    chan_fiber_fn fn = i % 3 == 0   ? timed_recv
                       : i % 3 == 1 ? timed_select
                                    : sleep_for;
    f[i] = spawn(rt, fn, &t[i]);
  }
  /* Every fiber is parked on a timer now or soon; no thread per timer. */
  CHECK(test_thread_count() <= threads_before + workers);
  for (int i = 0; i < N; i++) {
    join(f[i]);
    CHECK_STATUS(t[i].result, i % 3 == 2 ? CHAN_OK : CHAN_TIMEOUT);
    CHECK(t[i].took_ns >= t[i].timeout_ns);
  }
  CHECK_EQ(chan_debug_waiters(ch, CHAN_RECV), 0);
  chan_destroy(ch);
  stop_rt(rt);
}

/* A select whose cases are all nil channels, with a timeout, on a fiber:
 * Go's select with only nil channels and a timer case. It must park the
 * fiber on its worker's timer heap, not sleep the worker's thread: on a
 * runtime of one worker, another fiber runs (and finishes its rounds of
 * hand-offs) while the select waits, and the select returns CHAN_TIMEOUT
 * no earlier than asked. */
struct nil_select {
  chan_t *ping, *pong;
  _Atomic bool selecting, select_done;
  _Atomic int rounds_during; /* the other fiber's rounds while it waited */
  int result;
  int64_t took_ns;
};

enum { NIL_SELECT_TIMEOUT_MS = 200, NIL_SELECT_ROUNDS = 100 };

static void *select_on_nil_only(void *arg) {
  struct nil_select *n = arg;
  struct chan_case cases[] = {{.chan = NULL, .dir = CHAN_RECV},
                              {.chan = NULL, .dir = CHAN_SEND}};
  size_t chosen = 99;
  atomic_store(&n->selecting, true);
  int64_t t0 = test_now_ns();
  n->result = chan_select(cases, 2, NIL_SELECT_TIMEOUT_MS * MS, &chosen);
  n->took_ns = test_now_ns() - t0;
  atomic_store(&n->select_done, true);
  return NULL;
}

/* Runs on the same (only) worker: hand-offs with a partner fiber, counted
 * while the select is still waiting. */
static void *rounds_beside_select(void *arg) {
  struct nil_select *n = arg;
  while (!atomic_load(&n->selecting))
    chan_fiber_yield();
  for (int i = 0; i < NIL_SELECT_ROUNDS; i++) {
    int64_t v = i;
    if (chan_send(n->ping, &v) != CHAN_OK || chan_recv(n->pong, &v) != CHAN_OK)
      return (void *)1;
    if (!atomic_load(&n->select_done))
      atomic_fetch_add(&n->rounds_during, 1);
  }
  int64_t stop = -1;
  chan_send(n->ping, &stop);
  return NULL;
}

static void *echo_until_negative(void *arg) {
  struct nil_select *n = arg;
  int64_t v;
  while (chan_recv(n->ping, &v) == CHAN_OK && v >= 0)
    if (chan_send(n->pong, &v) != CHAN_OK)
      return (void *)1;
  return NULL;
}

TEST(fiber_select_on_nil_channels_only_parks_the_fiber_until_its_timeout) {
  chan_rt *rt = start_rt(1);
  REQUIRE(rt);
  struct nil_select n = {.ping = test_chan(8, 0), .pong = test_chan(8, 0),
                         .result = -100};
  REQUIRE(n.ping && n.pong);
  chan_fiber *sel = spawn(rt, select_on_nil_only, &n);
  chan_fiber *echo = spawn(rt, echo_until_negative, &n);
  chan_fiber *rounds = spawn(rt, rounds_beside_select, &n);
  CHECK_EQ(join(rounds), 0);
  CHECK_EQ(join(echo), 0);
  join(sel);
  printf("  select took %.1f ms (asked %d); the other fiber ran %d of %d "
         "rounds meanwhile\n",
         (double)n.took_ns / 1e6, NIL_SELECT_TIMEOUT_MS,
         atomic_load(&n.rounds_during), NIL_SELECT_ROUNDS);
  CHECK_STATUS(n.result, CHAN_TIMEOUT);
  CHECK(n.took_ns >= NIL_SELECT_TIMEOUT_MS * MS);
  /* Its worker was free: the rounds ran while the select waited (a
   * blocked worker would run none of them until the select returned). */
  CHECK_EQ(atomic_load(&n.rounds_during), NIL_SELECT_ROUNDS);
  chan_destroy(n.ping);
  chan_destroy(n.pong);
  stop_rt(rt);
}

/* A timed receive that a sender serves in time succeeds; its timer is
 * disarmed and never fires later. */
TEST(fiber_timed_op_served_in_time_succeeds_and_its_timer_is_gone) {
  chan_rt *rt = start_rt(0);
  REQUIRE(rt);
  chan_t *ch = test_chan(8, 0);
  REQUIRE(ch);
  int64_t n = (int64_t)test_scale(500);
  for (int64_t i = 0; i < n; i++) {
    struct timed t = {.ch = ch, .timeout_ns = 10 * 1000 * MS, .result = -100};
    chan_fiber *f = spawn(rt, timed_recv, &t);
    test_wait_waiters(ch, CHAN_RECV, 1);
    CHECK_STATUS(chan_send(ch, &i), CHAN_OK);
    join(f);
    CHECK_STATUS(t.result, CHAN_OK);
  }
  struct chan_debug_rt_stats s;
  chan_debug_rt_stats(rt, &s);
  CHECK_EQ(s.timers_fired, 0);
  chan_destroy(ch);
  stop_rt(rt);
}

/* ---- stop, stacks, idle ------------------------------------------------ */

static void *send_one(void *arg) {
  int64_t v = 77;
  return (void *)(intptr_t)chan_send(arg, &v);
}

/* Stopping with a fiber blocked in a send reports CHAN_EBUSY and keeps the
 * runtime running: the value is not lost, and a later stop succeeds. */
TEST(fiber_stop_with_blocked_fibers_is_busy_and_loses_nothing) {
  chan_rt *rt = start_rt(0);
  REQUIRE(rt);
  chan_t *ch = test_chan(8, 0);
  REQUIRE(ch);
  chan_fiber *f = spawn(rt, send_one, ch);
  test_wait_waiters(ch, CHAN_SEND, 1);
  CHECK_STATUS(chan_rt_stop(rt, 20 * MS), CHAN_EBUSY);
  CHECK(strstr(chan_last_error(), "1 fibers") != NULL);
  CHECK_STATUS(chan_rt_stop(rt, CHAN_POLL), CHAN_EBUSY);
  CHECK_STATUS(chan_rt_free(rt), CHAN_EBUSY);
  int64_t got = 0;
  CHECK_STATUS(chan_recv(ch, &got), CHAN_OK);
  CHECK_EQ(got, 77);
  CHECK_EQ(join(f), CHAN_OK);
  stop_rt(rt);
  chan_destroy(ch);
}

/* Recurses until depth 0, which the test makes far too deep. */
static int64_t recurse(int64_t depth) {
  volatile char pad[1024];
  pad[0] = (char)depth;
  return depth <= 0 ? pad[0] : recurse(depth - 1) + pad[0];
}

static void *overflow(void *arg) {
  return (void *)(intptr_t)recurse((int64_t)(intptr_t)arg);
}

/* A fiber that overflows its stack faults on the guard page at once (here:
 * in a child process, which must die by SIGSEGV, or by the sanitizer's
 * report of it, rather than run on over a neighbour's memory). */
TEST(fiber_stack_overflow_hits_the_guard_page) {
  fflush(stdout);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 2); /* the sanitizers' report of the fault is expected */
    chan_rt *rt;
    struct chan_rt_options o = {.workers = 1, .stack_size = 64 << 10};
    if (chan_rt_start(&rt, &o) != CHAN_OK)
      _exit(10);
    chan_fiber *f;
    chan_fiber_spawn(rt, &f, overflow, (void *)(intptr_t)1000000);
    chan_fiber_join(f, NULL);
    _exit(0); /* survived: the test fails */
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  if (test_sanitized())
    CHECK(WIFSIGNALED(status) ||
          (WIFEXITED(status) && WEXITSTATUS(status) != 0 &&
           WEXITSTATUS(status) != 10));
  else
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
}

static int64_t process_cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* An idle runtime (after a burst of work) uses no CPU: its workers sleep on
 * futexes rather than spin. Measured with the process's CPU clock over a
 * window in which this thread only sleeps. */
TEST(fiber_idle_runtime_uses_no_cpu) {
  chan_rt *rt = start_rt(0);
  REQUIRE(rt);
  struct pingpong p = {
      .ping = test_chan(8, 0), .pong = test_chan(8, 0), .n = 1000};
  REQUIRE(p.ping && p.pong);
  atomic_init(&p.pong_cpu, -1);
  chan_fiber *b = spawn(rt, ponger, &p);
  join(spawn(rt, pinger, &p));
  chan_close(p.ping);
  join(b);
  /* Let spinning workers give up (they spin a few steal passes at most). */
  struct timespec settle = {0, 20 * MS};
  nanosleep(&settle, NULL);
  int64_t cpu0 = process_cpu_ns(), wall0 = test_now_ns();
  struct timespec window = {0, 200 * MS};
  nanosleep(&window, NULL);
  int64_t cpu = process_cpu_ns() - cpu0, wall = test_now_ns() - wall0;
  printf("  idle runtime: %.3f%% of one CPU over %.0f ms\n",
         100.0 * (double)cpu / (double)wall, (double)wall / 1e6);
  CHECK(cpu * 100 < wall); /* under 1% */
  chan_destroy(p.ping);
  chan_destroy(p.pong);
  stop_rt(rt);
}

/* Many more fibers than threads could be: each blocked in a receive. */
TEST(fiber_ten_thousand_blocked_fibers) {
  int threads_before = test_thread_count();
  chan_rt *rt = start_rt(0);
  REQUIRE(rt);
  chan_t *ch = test_chan(8, 0);
  REQUIRE(ch);
  size_t n = test_scale(10000);
  chan_fiber **f = calloc(n, sizeof *f);
  struct closer *c = calloc(n, sizeof *c);
  REQUIRE(f && c);
  for (size_t i = 0; i < n; i++) {
    c[i] = (struct closer){ch, -100};
    f[i] = spawn(rt, recv_until_closed, &c[i]);
  }
  test_wait_waiters(ch, CHAN_RECV, n);
  CHECK(test_thread_count() <= threads_before + (int)chan_rt_workers(rt));
  int64_t sum = 0;
  for (size_t i = 0; i < n; i++) {
    int64_t v = (int64_t)i + 1;
    CHECK_STATUS(chan_send(ch, &v), CHAN_OK);
  }
  for (size_t i = 0; i < n; i++) {
    sum += join(f[i]);
    CHECK_STATUS(c[i].result, CHAN_OK);
  }
  CHECK_EQ(sum, (int64_t)(n * (n + 1) / 2));
  free(f);
  free(c);
  chan_destroy(ch);
  stop_rt(rt);
}

/* ---- bad input --------------------------------------------------------- */

static void *noop(void *arg) {
  return arg;
}

static void *stop_own_runtime(void *arg) {
  (void)arg;
  return (void *)(intptr_t)chan_rt_stop(chan_fiber_runtime(), CHAN_POLL);
}

static void *join_self(void *arg) {
  (void)arg;
  return (void *)(intptr_t)chan_fiber_join(chan_fiber_self(), NULL);
}

TEST(fiber_bad_input_gets_named_errors) {
  chan_rt *rt = NULL;
  CHECK_STATUS(chan_rt_start(NULL, NULL), CHAN_EINVAL);
  struct chan_rt_options o = {.workers = CHAN_RT_MAX_WORKERS + 1};
  CHECK_STATUS(chan_rt_start(&rt, &o), CHAN_EINVAL);
  CHECK(strstr(chan_last_error(), "workers") != NULL);
  o = (struct chan_rt_options){.stack_size = 100};
  CHECK_STATUS(chan_rt_start(&rt, &o), CHAN_EINVAL);
  CHECK(strstr(chan_last_error(), "stack size") != NULL);
  o = (struct chan_rt_options){.stack_size = (size_t)1 << 40};
  CHECK_STATUS(chan_rt_start(&rt, &o), CHAN_EINVAL);
  CHECK(rt == NULL);

  CHECK_STATUS(chan_rt_stop(NULL, CHAN_FOREVER), CHAN_EINVAL);
  CHECK_STATUS(chan_rt_free(NULL), CHAN_EINVAL);
  CHECK_STATUS(chan_fiber_join(NULL, NULL), CHAN_EINVAL);
  CHECK_STATUS(chan_fiber_sleep(-1), CHAN_EINVAL);
  CHECK_STATUS(chan_fiber_sleep(0), CHAN_OK);
  CHECK_STATUS(chan_fiber_spawn(NULL, NULL, noop, NULL), CHAN_EINVAL);

  rt = start_rt(1);
  REQUIRE(rt);
  CHECK_STATUS(chan_fiber_spawn(rt, NULL, NULL, NULL), CHAN_EINVAL);
  CHECK_STATUS(chan_rt_stop(rt, -5), CHAN_EINVAL);
  CHECK_STATUS(chan_rt_free(rt), CHAN_EBUSY); /* running */
  CHECK_EQ(join(spawn(rt, stop_own_runtime, NULL)), CHAN_EINVAL);
  CHECK_EQ(join(spawn(rt, join_self, NULL)), CHAN_EINVAL);
  chan_fiber *unjoined = spawn(rt, noop, NULL);
  CHECK_STATUS(chan_rt_stop(rt, CHAN_FOREVER), CHAN_OK);
  CHECK_STATUS(chan_rt_free(rt), CHAN_EBUSY); /* a handle is not joined */
  CHECK(strstr(chan_last_error(), "never joined") != NULL);
  CHECK_STATUS(chan_fiber_spawn(rt, NULL, noop, NULL), CHAN_ESTOPPED);
  CHECK_STATUS(chan_rt_stop(rt, CHAN_FOREVER), CHAN_OK); /* again: fine */
  join(unjoined);
  CHECK_STATUS(chan_rt_free(rt), CHAN_OK);
}

/* ---- liveness while a worker is busy ----------------------------------- */

struct busy_pair {
  chan_t *ch;
  _Atomic bool woken_ran, busy_done;
};

static void *wait_then_flag(void *arg) {
  struct busy_pair *b = arg;
  int64_t v;
  if (chan_recv(b->ch, &v) == CHAN_OK)
    atomic_store(&b->woken_ran, true);
  return NULL;
}

/* Computes (never parking) until the other fiber ran, or for at most 5 s. */
static void *send_then_compute(void *arg) {
  struct busy_pair *b = arg;
  int64_t v = 1;
  chan_send(b->ch, &v);
  int64_t until = test_now_ns() + 5000 * MS;
  while (!atomic_load(&b->woken_ran) && test_now_ns() < until)
    ;
  atomic_store(&b->busy_done, true);
  return NULL;
}

/* A fiber woken by a fiber that then computes for long does not wait for it:
 * an idle worker is woken and steals it (Go's wakep on ready). */
TEST(fiber_woken_by_a_busy_fiber_runs_elsewhere_meanwhile) {
  chan_rt *rt = start_rt(2);
  REQUIRE(rt);
  struct busy_pair b = {.ch = test_chan(8, 0)};
  REQUIRE(b.ch);
  chan_fiber *w = spawn(rt, wait_then_flag, &b);
  test_wait_waiters(b.ch, CHAN_RECV, 1);
  chan_fiber *s = spawn(rt, send_then_compute, &b);
  join(s);
  join(w);
  CHECK(atomic_load(&b.woken_ran)); /* it ran before the 5 s were up */
  chan_destroy(b.ch);
  stop_rt(rt);
}

struct busy_timer {
  chan_t *ch;
  _Atomic bool timed_out, busy_saw_it;
};

static void *compute_until_timeout(void *arg) {
  struct busy_timer *t = arg;
  int64_t until = test_now_ns() + 5000 * MS;
  while (!atomic_load(&t->timed_out) && test_now_ns() < until)
    ;
  atomic_store(&t->busy_saw_it, atomic_load(&t->timed_out));
  return NULL;
}

static void *timed_recv_beside_busy(void *arg) {
  struct busy_timer *t = arg;
  /* The busy fiber runs next on this worker once we park. */
  chan_fiber *busy = NULL;
  chan_fiber_spawn(chan_fiber_runtime(), &busy, compute_until_timeout, t);
  int64_t v;
  if (chan_recv_timeout(t->ch, &v, 1 * MS) == CHAN_TIMEOUT)
    atomic_store(&t->timed_out, true);
  chan_fiber_join(busy, NULL);
  return NULL;
}

/* A timeout fires although its worker runs a fiber that never parks: an
 * idle worker is woken for the timer (or steals the busy fiber). */
TEST(fiber_timeout_fires_while_its_worker_is_busy) {
  chan_rt *rt = start_rt(2);
  REQUIRE(rt);
  struct busy_timer t = {.ch = test_chan(8, 0)};
  REQUIRE(t.ch);
  join(spawn(rt, timed_recv_beside_busy, &t));
  CHECK(atomic_load(&t.timed_out));
  CHECK(atomic_load(&t.busy_saw_it)); /* before the 5 s were up */
  chan_destroy(t.ch);
  stop_rt(rt);
}

/* ---- a readied fiber belongs to whoever runs it ------------------------ */

struct relay_spawner {
  chan_t *ch;
  int64_t rounds;
  _Atomic int64_t blocked; /* children seen blocked, in order */
};

static void *recv_once(void *ch) {
  int64_t v;
  chan_recv(ch, &v);
  return NULL;
}

/* Spawns short-lived children one after another, each blocked in a receive
 * that a plain thread then serves; their descriptors are reused at once. */
static void *spawn_one_at_a_time(void *arg) {
  struct relay_spawner *s = arg;
  chan_rt *rt = chan_fiber_runtime();
  for (int64_t i = 0; i < s->rounds; i++) {
    if (chan_fiber_spawn(rt, NULL, recv_once, s->ch) != CHAN_OK)
      return (void *)1;
    while (chan_debug_waiters(s->ch, CHAN_RECV) < 1)
      chan_fiber_yield();
    atomic_store(&s->blocked, i + 1);
    while (chan_debug_waiters(s->ch, CHAN_RECV) > 0)
      chan_fiber_yield();
  }
  return NULL;
}

/* Whoever makes a fiber runnable must not touch it afterwards: another
 * worker may run it to its end at once, and a spawn reuse its descriptor.
 * Here a thread readies each child and a fiber spawns the next; under TSan
 * a touch after publishing is a data race with the reuse. */
TEST(fiber_readied_by_a_thread_is_not_touched_after) {
  chan_rt *rt = start_rt(2);
  REQUIRE(rt);
  struct relay_spawner s = {.ch = test_chan(8, 0),
                            .rounds = (int64_t)test_scale(3000)};
  REQUIRE(s.ch);
  chan_fiber *sp = spawn(rt, spawn_one_at_a_time, &s);
  for (int64_t i = 0; i < s.rounds; i++) {
    while (atomic_load(&s.blocked) < i + 1)
      sched_yield();
    CHECK_STATUS(chan_send(s.ch, &i), CHAN_OK);
  }
  CHECK_EQ(join(sp), 0);
  chan_destroy(s.ch);
  stop_rt(rt);
}
