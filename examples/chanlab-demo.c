/*
 * chanlab-demo - runs each Go concurrency pattern of the seed notes by name,
 * on a chosen channel implementation and executor, printing what happens the
 * way the notes' demos do (Joe and Ann, the employees, the dropped papers,
 * the search results).
 *
 *   chanlab-demo --list
 *   chanlab-demo [--impl NAME] [--executor thread|fiber] PATTERN|all
 *                                                  (chanlab-demo --help)
 *
 * Every demo is built from the components of include/chan/patterns.h; the
 * sleeps here only simulate slow talkers, workers and servers. With
 * --executor fiber the demos run on a fiber of a runtime (one worker per
 * PU), so every component they start (with a NULL context: the caller's
 * executor) runs its goroutines as fibers, and so do the demos' own
 * goroutines (go/join below).
 */
#include <chan/patterns.h>

#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MS ((int64_t)1000000)

static const char *impl; /* the implementation every channel uses */

/* ---- the demos' own goroutines: threads, or fibers on a fiber ------------ */

struct goroutine {
  pthread_t thread;
  chan_fiber *fiber;
};

/* Go's `go fn(arg)` on the caller's executor. */
static struct goroutine go(void *(*fn)(void *), void *arg) {
  struct goroutine g = {0};
  int rc = chan_fiber_self()
               ? chan_fiber_spawn(chan_fiber_runtime(), &g.fiber, fn, arg)
               : pthread_create(&g.thread, NULL, fn, arg);
  if (rc != 0) {
    fprintf(stderr, "chanlab-demo: cannot start a goroutine (%d)\n", rc);
    exit(1);
  }
  return g;
}

static void join(struct goroutine g) {
  if (g.fiber)
    chan_fiber_join(g.fiber, NULL);
  else
    pthread_join(g.thread, NULL);
}

/* Which goroutine is calling: a fiber's number, or a thread's. */
static uint64_t goroutine_id(void) {
  chan_fiber *f = chan_fiber_self();
  return f ? chan_fiber_id(f) : (uint64_t)pthread_self();
}

/* A small shared random source for simulated latencies. */
static atomic_uint_fast64_t rng_state = 88172645463325252u;
static int64_t rand_below(int64_t bound) {
  uint64_t x = atomic_fetch_add(&rng_state, 0x9e3779b97f4a7c15u);
  x ^= x >> 31;
  x *= 0xbf58476d1ce4e5b9u;
  x ^= x >> 29;
  return (int64_t)(x % (uint64_t)bound);
}

/* Exits with a message if a call fails: demos are not error tests. */
static void must(int rc, const char *what) {
  if (rc != PAT_OK) {
    fprintf(stderr, "chanlab-demo: %s: %s (%s)\n", what, pat_strerror(rc),
            pat_last_error());
    exit(1);
  }
}

static chan_t *make_chan(size_t elem_size, size_t cap) {
  chan_t *ch;
  if (chan_make(&ch, impl, elem_size, cap) != CHAN_OK) {
    fprintf(stderr, "chanlab-demo: chan_make: %s\n", chan_last_error());
    exit(1);
  }
  return ch;
}

static pat_ctx *new_ctx(void) {
  pat_ctx *c;
  must(pat_ctx_new(&c, impl), "pat_ctx_new");
  return c;
}

/* ---- boring talkers (seed 004 "Generator Pattern") ----------------------- */

/* boring(msg): emits 0, 1, 2... with a random pause after each. */
static int boring(pat_ctx *ctx, void *arg, uint64_t i, void *out) {
  (void)arg;
  if (i > 0 && pat_ctx_sleep(ctx, rand_below(60) * MS) != PAT_OK)
    return PAT_STOP;
  pat_item v = (pat_item)i;
  memcpy(out, &v, sizeof v);
  return PAT_OK;
}

/* Joe's messages carry 0..; Ann's 1000000.. so a merged stream says who. */
static int boring_ann(pat_ctx *ctx, void *arg, uint64_t i, void *out) {
  int rc = boring(ctx, arg, i, out);
  if (rc == PAT_OK) {
    pat_item v;
    memcpy(&v, out, sizeof v);
    v += 1000000;
    memcpy(out, &v, sizeof v);
  }
  return rc;
}

static void say(pat_item v) {
  printf("%s %lld\n", v >= 1000000 ? "Ann" : "Joe", (long long)(v % 1000000));
}

static void demo_generator(void) {
  chan_t *joe = make_chan(sizeof(pat_item), 0);
  chan_t *ann = make_chan(sizeof(pat_item), 0);
  pat_proc *pj, *pa;
  must(pat_generator_start(&pj, NULL, joe, boring, NULL), "generator");
  must(pat_generator_start(&pa, NULL, ann, boring_ann, NULL), "generator");
  for (int i = 0; i < 5; i++) { /* Ann waits while Joe talks: lockstep */
    pat_item v;
    chan_recv(joe, &v);
    say(v);
    chan_recv(ann, &v);
    say(v);
  }
  printf("You're both boring; I'm leaving.\n");
  pat_proc_free(pj); /* cancels them: no goroutine leak */
  pat_proc_free(pa);
  chan_destroy(joe);
  chan_destroy(ann);
}

static void fan_in_demo(bool with_select) {
  chan_t *in[2] = {make_chan(sizeof(pat_item), 0),
                   make_chan(sizeof(pat_item), 0)};
  chan_t *c = make_chan(sizeof(pat_item), 0);
  pat_proc *pj, *pa, *fan;
  must(pat_generator_start(&pj, NULL, in[0], boring, NULL), "generator");
  must(pat_generator_start(&pa, NULL, in[1], boring_ann, NULL), "generator");
  if (with_select)
    must(pat_fan_in_select_start(&fan, NULL, in, 2, c), "fan-in");
  else
    must(pat_fan_in_start(&fan, NULL, in, 2, c), "fan-in");
  for (int i = 0; i < 10; i++) { /* whoever is ready talks */
    pat_item v;
    chan_recv(c, &v);
    say(v);
  }
  printf("You're both boring; I'm leaving.\n");
  pat_proc_free(fan);
  pat_proc_free(pj);
  pat_proc_free(pa);
  for (int i = 0; i < 2; i++)
    chan_destroy(in[i]);
  chan_destroy(c);
}

static void demo_fan_in(void) {
  fan_in_demo(false);
}

static void demo_fan_in_select(void) {
  fan_in_demo(true);
}

static void demo_seq_fan_in(void) {
  const char *names[2] = {"Joe", "Ann"};
  chan_t *in[2], *c = make_chan(sizeof(struct pat_seq_msg), 0);
  pat_proc *prod[2], *fan;
  for (int k = 0; k < 2; k++) {
    in[k] = make_chan(sizeof(struct pat_seq_msg), 0);
    must(pat_seq_producer_start(&prod[k], NULL, in[k], (uint32_t)k, boring,
                                NULL),
         "seq producer");
  }
  must(pat_fan_in_start(&fan, NULL, in, 2, c), "fan-in");
  for (int i = 0; i < 5; i++) {
    struct pat_seq_msg m1, m2;
    chan_recv(c, &m1);
    printf("%s %lld\n", names[m1.producer], (long long)m1.value);
    chan_recv(c, &m2);
    printf("%s %lld\n", names[m2.producer], (long long)m2.value);
    pat_seq_release(&m1); /* msg1.wait <- true */
    pat_seq_release(&m2);
  }
  printf("You're both boring. I'm leaving\n");
  pat_proc_free(fan);
  for (int k = 0; k < 2; k++) {
    pat_proc_free(prod[k]);
    chan_destroy(in[k]);
  }
  chan_destroy(c);
}

static void demo_select_timeout(void) {
  pat_ctx *root = new_ctx(), *conversation;
  chan_t *c = make_chan(sizeof(pat_item), 0);
  pat_proc *joe;
  must(pat_generator_start(&joe, NULL, c, boring, NULL), "generator");
  /* timeout := time.After(...) for the whole conversation */
  must(pat_ctx_with_timeout(&conversation, root, 250 * MS), "timeout");
  for (;;) {
    pat_item v;
    if (pat_recv_ctx(conversation, c, &v) != CHAN_OK) {
      printf("You talk too much.\n");
      break;
    }
    say(v);
  }
  pat_proc_free(joe);
  pat_ctx_free(conversation);
  pat_ctx_free(root);
  chan_destroy(c);
}

static void demo_quit(void) {
  chan_t *c = make_chan(sizeof(pat_item), 0);
  pat_proc *joe;
  must(pat_generator_start(&joe, NULL, c, boring, NULL), "generator");
  for (int i = 3; i >= 0; i--) {
    pat_item v;
    chan_recv(c, &v);
    say(v);
  }
  printf("main: Bye\n");
  pat_proc_cancel(joe); /* quit <- "Bye" */
  int rc = pat_proc_wait(joe);
  printf("Joe says: clean up, see you! (%s)\n", pat_strerror(rc));
  pat_proc_free(joe);
  chan_destroy(c);
}

/* ---- context (seed 001 "Context": greeting and farewell) --------------- */

static int locale(pat_ctx *ctx) {
  int64_t deadline;
  /* Give up at once if the deadline is too close to get an answer. */
  if (pat_ctx_deadline(ctx, &deadline) && deadline - pat_now_ns() < 300 * MS)
    return PAT_DEADLINE_EXCEEDED;
  return pat_ctx_sleep(ctx, 300 * MS); /* the slow locale service */
}

static int print_greeting(pat_ctx *ctx, void *arg) {
  (void)arg;
  pat_ctx *t;
  must(pat_ctx_with_timeout(&t, ctx, 100 * MS), "timeout");
  int rc = locale(t);
  pat_ctx_free(t);
  if (rc != PAT_OK) {
    printf("cannot print greeting: %s\n", pat_strerror(rc));
    return rc; /* the errgroup cancels the farewell */
  }
  printf("hello world!\n");
  return PAT_OK;
}

static int print_farewell(pat_ctx *ctx, void *arg) {
  (void)arg;
  int rc = locale(ctx);
  if (rc != PAT_OK) {
    printf("cannot print farewell: %s\n", pat_strerror(rc));
    return rc;
  }
  printf("goodbye world!\n");
  return PAT_OK;
}

static void demo_context(void) {
  static const int user_key = 0;
  pat_ctx *root = new_ctx(), *req;
  must(pat_ctx_with_value(&req, root, &user_key, "jane"), "value");
  printf("handling request for %s\n", (char *)pat_ctx_value(req, &user_key));
  pat_errgroup *g;
  must(pat_errgroup_make(&g, req, NULL), "errgroup");
  pat_errgroup_go(g, print_greeting, NULL);
  pat_errgroup_go(g, print_farewell, NULL);
  printf("first error: %s\n", pat_strerror(pat_errgroup_wait(g)));
  pat_errgroup_free(g);
  pat_ctx_free(req);
  pat_ctx_free(root);
}

/* ---- or, or-done, tee, bridge (seed 001) --------------------------------- */

static void demo_or(void) {
  int64_t after_ms[5] = {2 * 3600 * 1000, 5 * 60 * 1000, 100, 3600 * 1000,
                         60 * 1000};
  pat_ctx *root = new_ctx(), *sig[5];
  chan_t *signals[5];
  int64_t start = pat_now_ns();
  for (int i = 0; i < 5; i++) {
    must(pat_ctx_with_timeout(&sig[i], root, after_ms[i] * MS), "sig");
    signals[i] = pat_ctx_done(sig[i]);
  }
  chan_t *done = make_chan(0, 0);
  pat_proc *p;
  must(pat_or_start(&p, NULL, signals, 5, done), "or");
  chan_recv(done, NULL); /* <-or(sig(2h), sig(5m), sig(100ms), ...) */
  printf("done after %.1f ms\n", (double)(pat_now_ns() - start) / 1e6);
  pat_proc_free(p);
  for (int i = 0; i < 5; i++)
    pat_ctx_free(sig[i]);
  pat_ctx_free(root);
  chan_destroy(done);
}

static void demo_or_done(void) {
  chan_t *in = make_chan(sizeof(pat_item), 0);
  chan_t *out = make_chan(sizeof(pat_item), 0);
  pat_proc *gen, *od;
  must(pat_generator_start(&gen, NULL, in, boring, NULL), "generator");
  pat_ctx *root = new_ctx(), *t;
  must(pat_ctx_with_timeout(&t, root, 150 * MS), "timeout");
  must(pat_or_done_start(&od, t, in, out), "or-done");
  pat_item v;
  while (chan_recv(out, &v) == CHAN_OK) /* for v := range orDone(done, c) */
    say(v);
  printf("or-done closed its output: %s\n", pat_strerror(pat_proc_wait(od)));
  pat_proc_free(od);
  pat_proc_free(gen);
  pat_ctx_free(t);
  pat_ctx_free(root);
  chan_destroy(in);
  chan_destroy(out);
}

struct printer {
  chan_t *ch;
  const char *name;
};

static void *print_all(void *arg) {
  struct printer *p = arg;
  pat_item v;
  while (chan_recv(p->ch, &v) == CHAN_OK)
    printf("%s: %lld\n", p->name, (long long)v);
  return NULL;
}

static void demo_tee(void) {
  pat_item cmds[4] = {1, 2, 3, 4};
  chan_t *in = make_chan(sizeof(pat_item), 0);
  chan_t *exec = make_chan(sizeof(pat_item), 0);
  chan_t *audit = make_chan(sizeof(pat_item), 0);
  pat_proc *gen, *tee;
  must(pat_from_array_start(&gen, NULL, in, cmds, 4), "generator");
  must(pat_tee_start(&tee, NULL, in, exec, audit), "tee");
  struct printer a = {audit, "audit log"};
  struct goroutine t = go(print_all, &a);
  struct printer e = {exec, "execute"};
  print_all(&e);
  join(t);
  pat_proc_free(tee);
  pat_proc_free(gen);
  chan_destroy(in);
  chan_destroy(exec);
  chan_destroy(audit);
}

static void demo_bridge(void) {
  enum { N = 10 };
  chan_t *streams = make_chan(sizeof(chan_t *), N), *inner[N];
  for (int i = 0; i < N; i++) { /* genVals: ten one-value channels */
    inner[i] = make_chan(sizeof(pat_item), 1);
    pat_item v = i;
    chan_send(inner[i], &v);
    chan_close(inner[i]);
    chan_send(streams, &inner[i]);
  }
  chan_close(streams);
  chan_t *out = make_chan(sizeof(pat_item), 0);
  pat_proc *b;
  must(pat_bridge_start(&b, NULL, streams, out), "bridge");
  pat_item v;
  while (chan_recv(out, &v) == CHAN_OK)
    printf("%lld ", (long long)v);
  printf("\n");
  pat_proc_free(b);
  for (int i = 0; i < N; i++)
    chan_destroy(inner[i]);
  chan_destroy(streams);
  chan_destroy(out);
}

/* ---- pipelines (seed 001, seed 004, seed 003 daisy chain) ---------------- */

static int times(pat_ctx *ctx, void *arg, const void *in, void *out) {
  (void)ctx;
  pat_item v;
  memcpy(&v, in, sizeof v);
  v *= *(pat_item *)arg;
  memcpy(out, &v, sizeof v);
  return PAT_OK;
}

static int plus(pat_ctx *ctx, void *arg, const void *in, void *out) {
  (void)ctx;
  pat_item v;
  memcpy(&v, in, sizeof v);
  v += *(pat_item *)arg;
  memcpy(out, &v, sizeof v);
  return PAT_OK;
}

static void demo_pipeline(void) {
  pat_item ints[4] = {1, 2, 3, 4}, two = 2, one = 1;
  chan_t *src = make_chan(sizeof(pat_item), 0);
  pat_proc *gen;
  pat_pipeline *pl;
  must(pat_from_array_start(&gen, NULL, src, ints, 4), "generator");
  must(pat_pipeline_make(&pl, NULL, src), "pipeline");
  must(pat_pipeline_add(pl, times, &two, sizeof(pat_item), 0), "multiply");
  must(pat_pipeline_add(pl, plus, &one, sizeof(pat_item), 0), "add");
  must(pat_pipeline_add(pl, times, &two, sizeof(pat_item), 0), "multiply");
  printf("multiply(add(multiply(v, 2), 1), 2) for v in 1 2 3 4:\n");
  pat_item v;
  while (chan_recv(pat_pipeline_out(pl), &v) == CHAN_OK)
    printf("%lld\n", (long long)v);
  pat_pipeline_free(pl);
  pat_proc_free(gen);
  chan_destroy(src);
}

static void demo_daisy(void) {
  size_t n = 1000;
  pat_item result;
  int64_t start = pat_now_ns();
  must(pat_daisy_chain(NULL, impl, n, 0, &result), "daisy chain");
  printf("%lld (through %zu links in %.1f ms)\n", (long long)result, n,
         (double)(pat_now_ns() - start) / 1e6);
}

/* A stage that sleeps per item and notes when it finished its last one. */
struct sleeper {
  int64_t ms;
  atomic_int items;
  _Atomic int64_t last_done_ns;
};

static int sleep_stage(pat_ctx *ctx, void *arg, const void *in, void *out) {
  struct sleeper *s = arg;
  int rc = pat_ctx_sleep(ctx, s->ms * MS);
  memcpy(out, in, sizeof(pat_item));
  atomic_fetch_add(&s->items, 1);
  atomic_store(&s->last_done_ns, pat_now_ns());
  return rc;
}

static void queue_demo(size_t queue) {
  struct sleeper short_stage = {.ms = 10}, long_stage = {.ms = 40};
  pat_item zero = 0;
  chan_t *zeros = make_chan(sizeof(pat_item), 0);
  chan_t *three = make_chan(sizeof(pat_item), 0);
  pat_proc *rep, *take;
  int64_t start = pat_now_ns();
  must(pat_repeat_start(&rep, NULL, zeros, &zero, 1), "repeat");
  must(pat_take_start(&take, NULL, zeros, three, 3), "take");
  pat_pipeline *pl;
  must(pat_pipeline_make(&pl, NULL, three), "pipeline");
  must(pat_pipeline_add(pl, sleep_stage, &short_stage, sizeof(pat_item), 0),
       "short");
  if (queue)
    must(pat_pipeline_add_queue(pl, queue), "queue");
  must(pat_pipeline_add(pl, sleep_stage, &long_stage, sizeof(pat_item), 0),
       "long");
  pat_item v;
  while (chan_recv(pat_pipeline_out(pl), &v) == CHAN_OK)
    ;
  /* Without a queue the short stage cannot start an item before the long
   * stage took the previous one; with it, it runs at its own pace. */
  pat_pipeline_wait(pl);
  printf("queue of %zu: the short stage (10 ms/item) finished its 3 items "
         "after %.0f ms; the pipeline after %.0f ms\n",
         queue, (double)(atomic_load(&short_stage.last_done_ns) - start) / 1e6,
         (double)(atomic_load(&long_stage.last_done_ns) - start) / 1e6);
  pat_pipeline_free(pl);
  pat_proc_free(take);
  pat_proc_free(rep); /* take stopped reading: cancel repeat */
  chan_destroy(zeros);
  chan_destroy(three);
}

static void demo_queue(void) {
  queue_demo(0);
  queue_demo(2);
}

/* ---- pools and fan-out (seed 000, seed 004) ------------------------------ */

/* The employees are the pool's goroutines, numbered as they first show up
 * (by goroutine, not thread: a fiber's worker thread is shared). */
#define EMPLOYEES 2
static _Atomic uint64_t employees[EMPLOYEES];

static int employee_number(void) {
  uint64_t me = goroutine_id();
  for (int i = 0; i < EMPLOYEES; i++) {
    uint64_t seen = atomic_load(&employees[i]);
    if (seen == me || (seen == 0 && (atomic_compare_exchange_strong(
                                         &employees[i], &seen, me) ||
                                     seen == me)))
      return i;
  }
  return -1;
}

static int handle_paper(pat_ctx *ctx, void *arg, const void *in, void *out) {
  (void)arg;
  int employee_id = employee_number();
  pat_item v;
  memcpy(&v, in, sizeof v);
  printf("employee %d: received signal: paper %lld\n", employee_id,
         (long long)v);
  (void)out; /* a pool without an output channel: out is NULL */
  return pat_ctx_sleep(ctx, rand_below(10) * MS);
}

static void demo_pool(void) {
  chan_t *ch = make_chan(sizeof(pat_item), 0);
  pat_proc *pool;
  for (int i = 0; i < EMPLOYEES; i++)
    atomic_store(&employees[i], 0);
  must(pat_pool_start(&pool, NULL, ch, NULL, EMPLOYEES, PAT_UNORDERED,
                      handle_paper, NULL),
       "pool");
  for (pat_item w = 0; w < 10; w++) {
    chan_send(ch, &w);
    printf("manager: sent signal: %lld\n", (long long)w);
  }
  chan_close(ch);
  printf("manager: sent shutdown signal\n");
  pat_proc_wait(pool); /* the employees range until the close */
  printf("employees: received shutdown signal\n");
  pat_proc_free(pool);
  chan_destroy(ch);
}

static int work_ordered(pat_ctx *ctx, void *arg, const void *in, void *out) {
  (void)arg;
  pat_ctx_sleep(ctx, rand_below(20) * MS);
  return times(ctx, &(pat_item){10}, in, out);
}

static void demo_pool_ordered(void) {
  uint64_t n = 12;
  chan_t *in = make_chan(sizeof(pat_item), 0);
  chan_t *out = make_chan(sizeof(pat_item), 0);
  pat_item items[12];
  for (int i = 0; i < 12; i++)
    items[i] = i;
  pat_proc *gen, *pool;
  must(pat_from_array_start(&gen, NULL, in, items, n), "generator");
  must(pat_pool_start(&pool, NULL, in, out, 4, PAT_ORDERED, work_ordered, NULL),
       "pool");
  printf("4 workers with random delays, results in input order:\n");
  pat_item v;
  while (chan_recv(out, &v) == CHAN_OK)
    printf("%lld ", (long long)v);
  printf("\n");
  pat_proc_free(pool);
  pat_proc_free(gen);
  chan_destroy(in);
  chan_destroy(out);
}

static int child_work(pat_ctx *ctx, void *arg, const void *in, void *out) {
  atomic_int *running = arg;
  int now = running ? atomic_fetch_add(running, 1) + 1 : 0;
  pat_ctx_sleep(ctx, rand_below(50) * MS);
  if (running)
    atomic_fetch_sub(running, 1);
  pat_item child;
  memcpy(&child, in, sizeof child);
  printf("child : sent signal : %lld", (long long)child);
  if (running)
    printf(" (%d running)", now);
  printf("\n");
  memcpy(out, &child, sizeof child);
  return PAT_OK;
}

static void demo_fanout(void) {
  enum { CHILDREN = 20 };
  pat_item tasks[CHILDREN];
  for (int i = 0; i < CHILDREN; i++)
    tasks[i] = i;
  chan_t *ch = make_chan(sizeof(pat_item), CHILDREN); /* a slot each */
  pat_proc *fan;
  must(pat_fanout_each_start(&fan, NULL, tasks, CHILDREN, sizeof(pat_item), ch,
                             child_work, NULL),
       "fan-out");
  int children = CHILDREN;
  pat_item d;
  while (children > 0 && chan_recv(ch, &d) == CHAN_OK) {
    children--;
    printf("parent : recv'd signal : %d left\n", children);
  }
  pat_proc_free(fan);
  chan_destroy(ch);
}

static void demo_fanout_sem(void) {
  enum { CHILDREN = 20 };
  pat_item tasks[CHILDREN];
  for (int i = 0; i < CHILDREN; i++)
    tasks[i] = i;
  chan_t *in = make_chan(sizeof(pat_item), 0);
  chan_t *ch = make_chan(sizeof(pat_item), CHILDREN);
  atomic_int running = 0;
  pat_proc *gen, *fan;
  must(pat_from_array_start(&gen, NULL, in, tasks, CHILDREN), "generator");
  must(pat_fanout_sem_start(&fan, NULL, in, ch, 5, child_work, &running),
       "fan-out semaphore");
  int children = CHILDREN;
  pat_item d;
  while (children > 0 && chan_recv(ch, &d) == CHAN_OK) {
    children--;
    printf("parent : recv'd signal : %d left\n", children);
  }
  pat_proc_free(fan);
  pat_proc_free(gen);
  chan_destroy(in);
  chan_destroy(ch);
}

static int perform(pat_ctx *ctx, void *arg, size_t task) {
  atomic_int *running = arg;
  int now = atomic_fetch_add(running, 1) + 1;
  printf("task %zu starts (%d running, limit 3)\n", task, now);
  int rc = pat_ctx_sleep(ctx, rand_below(20) * MS);
  atomic_fetch_sub(running, 1);
  return rc;
}

static void demo_bounded(void) {
  atomic_int running = 0;
  int rc = pat_for_each_bounded(NULL, impl, 10, 3, perform, &running);
  printf("all tasks done: %s\n", pat_strerror(rc));
}

/* ---- drop (seed 004) ----------------------------------------------------- */

static void *slow_child(void *arg) {
  chan_t *ch = arg;
  pat_item p;
  while (chan_recv(ch, &p) == CHAN_OK) {
    printf("child : recv'd signal : %lld\n", (long long)p);
    pat_ctx_sleep(NULL, 2 * MS);
  }
  return NULL;
}

static void demo_drop(void) {
  chan_t *ch = make_chan(sizeof(pat_item), 5);
  struct goroutine child = go(slow_child, ch);
  uint64_t dropped = 0;
  for (pat_item w = 0; w < 20; w++) {
    if (pat_drop_send(ch, &w, &dropped) == CHAN_OK)
      printf("parent : sent signal : %lld\n", (long long)w);
    else
      printf("parent : dropped data : %lld\n", (long long)w);
  }
  chan_close(ch);
  printf("parent : sent shutdown signal (%llu dropped)\n",
         (unsigned long long)dropped);
  join(child);
  chan_destroy(ch);
}

/* ---- futures, cancellation, errgroup, Glob (seed 000, seed 004) --------- */

static int employee(pat_ctx *ctx, void *arg, void *result) {
  (void)arg;
  int rc = pat_ctx_sleep(ctx, rand_below(300) * MS);
  if (rc != PAT_OK) {
    printf("employee: told to stop (%s)\n", pat_strerror(rc));
    return rc;
  }
  printf("employee: sent signal\n");
  pat_item d = 1;
  memcpy(result, &d, sizeof d);
  return PAT_OK;
}

static void demo_cancellation(void) {
  pat_future *f;
  must(pat_future_start(&f, NULL, impl, sizeof(pat_item), employee, NULL),
       "future");
  pat_item d;
  int rc = pat_future_await(f, &d, 100 * MS); /* the manager waits 100 ms */
  if (rc == PAT_OK)
    printf("manager: received signal: data\n");
  else
    printf("manager: timedout (%s)\n", pat_strerror(rc));
  pat_future_free(f); /* buffered(1): the employee never leaks */
}

static int fetch(pat_ctx *ctx, void *arg, void *result) {
  const char *name = arg;
  pat_ctx_sleep(ctx, rand_below(50) * MS);
  pat_item item = name[0];
  memcpy(result, &item, sizeof item);
  return PAT_OK;
}

static void demo_future(void) {
  pat_future *a, *b;
  must(pat_future_start(&a, NULL, impl, sizeof(pat_item), fetch, "a"),
       "Fetch a");
  must(pat_future_start(&b, NULL, impl, sizeof(pat_item), fetch, "b"),
       "Fetch b");
  pat_item ia, ib;
  pat_future_await(a, &ia, CHAN_FOREVER); /* <-a */
  pat_future_await(b, &ib, CHAN_FOREVER); /* <-b */
  printf("Fetch(\"a\") = item %c, Fetch(\"b\") = item %c\n", (char)ia,
         (char)ib);
  pat_future_free(a);
  pat_future_free(b);
}

static const char *glob_names[] = {"apple", "avocado", "banana", "blueberry",
                                   "bad-item"};

static int fetch_named(pat_ctx *ctx, void *arg, size_t index, void *item) {
  bool fail = arg != NULL;
  if (fail && index == 4)
    return -404; /* the bad item */
  if (pat_ctx_sleep(ctx, rand_below(40) * MS) != PAT_OK)
    return PAT_CANCELED;
  memcpy(item, &glob_names[index], sizeof(char *));
  return PAT_OK;
}

static void demo_glob(void) {
  const char *items[5];
  size_t count;
  int rc = pat_fetch_all(NULL, impl, 4, sizeof(char *), fetch_named, NULL,
                         items, &count);
  printf("Glob(\"[ab]*\") = %s:", pat_strerror(rc));
  for (size_t i = 0; i < count; i++)
    printf(" %s", items[i]);
  printf("\n");
  rc = pat_fetch_all(NULL, impl, 5, sizeof(char *), fetch_named, "fail", items,
                     &count);
  printf("Glob with a failing Fetch = error %d after %zu items; the other "
         "fetches were canceled\n",
         rc, count);
}

static int task_ok(pat_ctx *ctx, void *arg) {
  int rc = pat_ctx_sleep(ctx, 20 * MS);
  printf("task %s: %s\n", (const char *)arg, pat_strerror(rc));
  return rc;
}

static int task_fails(pat_ctx *ctx, void *arg) {
  (void)ctx;
  printf("task %s: fails with error -42\n", (const char *)arg);
  return -42;
}

static int task_slow(pat_ctx *ctx, void *arg) {
  int rc = pat_ctx_sleep(ctx, 3600 * 1000 * MS);
  printf("task %s: %s\n", (const char *)arg, pat_strerror(rc));
  return rc;
}

static void demo_errgroup(void) {
  pat_errgroup *g;
  must(pat_errgroup_make(&g, NULL, impl), "errgroup");
  pat_errgroup_go(g, task_slow, "slow-1");
  pat_errgroup_go(g, task_slow, "slow-2");
  pat_errgroup_go(g, task_fails, "bad");
  printf("g.Wait() = %d (the first error; the slow tasks were canceled)\n",
         pat_errgroup_wait(g));
  pat_errgroup_free(g);
  must(pat_errgroup_make(&g, NULL, impl), "errgroup");
  pat_errgroup_go(g, task_ok, "a");
  pat_errgroup_go(g, task_ok, "b");
  printf("g.Wait() = %s\n", pat_strerror(pat_errgroup_wait(g)));
  pat_errgroup_free(g);
}

/* ---- results and error channels (seed 001, seed 004) --------------------- */

static const char *urls[] = {"https://www.google.com", "https://badhost",
                             "https://go.dev"};

static int http_get(pat_ctx *ctx, void *arg, const void *in, void *out) {
  (void)ctx;
  (void)arg;
  pat_item i;
  memcpy(&i, in, sizeof i);
  if (strstr(urls[i], "badhost"))
    return -6; /* "no such host" */
  pat_item status = 200;
  memcpy(out, &status, sizeof status);
  return PAT_OK;
}

static void demo_results(void) {
  pat_item idx[3] = {0, 1, 2};
  chan_t *in = make_chan(sizeof(pat_item), 0);
  chan_t *out = make_chan(sizeof(struct pat_item_result), 0);
  pat_proc *gen, *check;
  must(pat_from_array_start(&gen, NULL, in, idx, 3), "generator");
  must(pat_result_stage_start(&check, NULL, in, out, http_get, NULL),
       "checkStatus");
  struct pat_item_result r;
  int i = 0;
  while (chan_recv(out, &r) == CHAN_OK) {
    if (r.hdr.status != PAT_OK)
      printf("error: %s: status %d\n", urls[i], r.hdr.status);
    else
      printf("Response: %s: %lld OK\n", urls[i], (long long)r.value);
    i++;
  }
  pat_proc_free(check);
  pat_proc_free(gen);
  chan_destroy(in);
  chan_destroy(out);
}

static int worker_fails_at_3(pat_ctx *ctx, void *arg, uint64_t i, void *out) {
  (void)ctx;
  (void)arg;
  if (i == 3)
    return -103; /* user errors: <= -100, clear of the library's codes */
  pat_item v = (pat_item)i;
  memcpy(out, &v, sizeof v);
  return PAT_OK;
}

static void demo_error_channel(void) {
  pat_job *j;
  must(pat_job_start(&j, NULL, impl, sizeof(pat_item), worker_fails_at_3, NULL),
       "job");
  pat_item v;
  while (chan_recv(pat_job_out(j), &v) == CHAN_OK)
    printf("out: %lld\n", (long long)v);
  printf("worker finished (error %d) before anyone read its error channel\n",
         pat_job_wait(j));
  int err;
  while (chan_recv(pat_job_errors(j), &err) == CHAN_OK)
    printf("errors: %d\n", err);
  pat_job_free(j);
}

/* ---- Rob Pike's Google search (seed 003) --------------------------------- */

struct server {
  const char *kind;
  int replica;
  int64_t max_ms;
};

static int fake_search(pat_ctx *ctx, void *replica, const void *query,
                       void *result) {
  struct server *s = replica;
  int rc = pat_ctx_sleep(ctx, rand_below(s->max_ms) * MS);
  if (rc != PAT_OK)
    return rc;
  char *r = result;
  snprintf(r, 48, "%s%d result for \"%s\"", s->kind, s->replica + 1,
           (const char *)query);
  return PAT_OK;
}

static void demo_search(void) {
  struct server web[2] = {{"web", 0, 150}, {"web", 1, 150}};
  struct server img[2] = {{"image", 0, 150}, {"image", 1, 150}};
  struct server vid[2] = {{"video", 0, 150}, {"video", 1, 150}};
  void *webr[2] = {&web[0], &web[1]}, *imgr[2] = {&img[0], &img[1]},
       *vidr[2] = {&vid[0], &vid[1]};
  struct pat_service svc[3] = {
      {fake_search, webr, 2}, {fake_search, imgr, 2}, {fake_search, vidr, 2}};
  char results[3][48];
  int status[3];
  for (int run = 0; run < 3; run++) {
    int64_t start = pat_now_ns();
    int n = pat_search_all(NULL, impl, svc, 3, "golang", results, 48, status,
                           80 * MS);
    printf("Google Search 3.0 (replicated, 80 ms timeout): %d of 3 in "
           "%.1f ms\n",
           n, (double)(pat_now_ns() - start) / 1e6);
    for (int i = 0; i < 3; i++)
      printf("  %s\n", status[i] == PAT_OK ? results[i] : "timed out");
  }
  char first[48];
  size_t winner;
  int rc = pat_first(NULL, impl, fake_search, webr, 2, "golang", first, 48,
                     CHAN_FOREVER, &winner);
  printf("First(web1, web2): %s from replica %zu\n",
         rc == PAT_OK ? first : pat_strerror(rc), winner + 1);
}

/* ---- the catalogue ------------------------------------------------------- */

static const struct demo {
  const char *name;
  void (*run)(void);
  const char *what;
} demos[] = {
    {"generator", demo_generator,
     "boring(\"Joe\"), boring(\"Ann\") in lockstep"},
    {"fan-in", demo_fan_in, "Joe and Ann multiplexed, a thread per input"},
    {"fan-in-select", demo_fan_in_select, "the same with one select thread"},
    {"seq-fan-in", demo_seq_fan_in, "fan-in with a wait channel: strict turns"},
    {"select-timeout", demo_select_timeout, "a timeout for the whole talk"},
    {"quit", demo_quit, "tell Joe to stop (quit channel)"},
    {"context", demo_context, "greeting/farewell with deadlines and cancel"},
    {"or", demo_or, "or-channel of sig(2h), sig(5m), sig(100ms)..."},
    {"or-done", demo_or_done, "read a channel until done"},
    {"tee", demo_tee, "commands to an executor and an audit log"},
    {"bridge", demo_bridge, "a channel of channels flattened"},
    {"pipeline", demo_pipeline, "multiply -> add -> multiply stages"},
    {"daisy-chain", demo_daisy, "1000 links passing 1 + value left"},
    {"queue", demo_queue, "take(3, repeat(0)) -> short -> [queue] -> long"},
    {"pool", demo_pool, "the manager and two employees (pooling)"},
    {"pool-ordered", demo_pool_ordered, "a pool whose results keep order"},
    {"fan-out", demo_fanout, "20 children, one buffer slot each"},
    {"fan-out-sem", demo_fanout_sem, "20 children, 5 at a time (semaphore)"},
    {"bounded", demo_bounded, "bounded parallelism over 10 tasks"},
    {"drop", demo_drop, "20 papers, capacity 5: the rest are dropped"},
    {"cancellation", demo_cancellation, "the manager waits 100 ms at most"},
    {"future", demo_future, "Fetch(\"a\"), Fetch(\"b\") read later"},
    {"glob", demo_glob, "caller-side concurrency: Glob over Fetch"},
    {"errgroup", demo_errgroup, "first error cancels the rest"},
    {"results", demo_results, "checkStatus: values and errors together"},
    {"error-channel", demo_error_channel, "non-blocking error channel"},
    {"search", demo_search, "Rob Pike's replicated Google search"},
};
#define NDEMOS (sizeof demos / sizeof demos[0])

static void usage(FILE *to) {
  fprintf(
      to,
      "usage: chanlab-demo [options] PATTERN|all\n"
      "Runs a Go concurrency pattern (or all of them) the way the notes' "
      "demos do.\n"
      "  -i, --impl NAME   channel implementation (default: the first "
      "registered)\n"
      "  -e, --executor E  thread (default) or fiber: who runs the "
      "goroutines\n"
      "                    (fiber: a runtime with one worker per PU)\n"
      "  -l, --list        list the patterns and exit\n"
      "  -h, --help        this help\n"
      "One pattern takes well under a second, all of them about 3 seconds.\n");
}

/* Runs the demo named pattern (a known one), or all of them, on the
 * executor's goroutine (a fiber under --executor fiber). */
struct selection {
  const char *pattern;
  int status;
};

static void *run_demos(void *p) {
  struct selection *sel = p;
  bool all = !strcmp(sel->pattern, "all");
  for (size_t d = 0; d < NDEMOS; d++) {
    if (all || !strcmp(sel->pattern, demos[d].name)) {
      printf("=== %s on %s: %s\n", demos[d].name, impl, demos[d].what);
      demos[d].run();
      if (!all)
        return NULL;
    }
  }
  return NULL;
}

int main(int argc, char **argv) {
  static const struct option opts[] = {
      {"impl", required_argument, NULL, 'i'},
      {"executor", required_argument, NULL, 'e'},
      {"list", no_argument, NULL, 'l'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char *executor = "thread";
  opterr = 0; /* our own messages, naming the flag as given */
  for (int c; (c = getopt_long(argc, argv, ":i:e:lh", opts, NULL)) != -1;) {
    switch (c) {
    case 'i':
      impl = optarg;
      break;
    case 'e':
      executor = optarg;
      if (strcmp(executor, "thread") != 0 && strcmp(executor, "fiber") != 0) {
        fprintf(stderr,
                "chanlab-demo: unknown executor '%s' (thread or fiber)\n",
                executor);
        return 2;
      }
      break;
    case 'l': {
      for (size_t d = 0; d < NDEMOS; d++)
        printf("%-15s %s\n", demos[d].name, demos[d].what);
      size_t n;
      const char *const *names = chan_impl_names(&n);
      printf("\nimplementations (--impl):\n");
      for (size_t i = 0; i < n; i++)
        printf("%-15s %s\n", names[i], chan_impl_summary(names[i]));
      return 0;
    }
    case 'h':
      usage(stdout);
      return 0;
    case ':':
      fprintf(stderr, "chanlab-demo: %s needs a name\n", argv[optind - 1]);
      return 2;
    default:
      if (optopt)
        fprintf(stderr, "chanlab-demo: unknown flag '-%c'\n", optopt);
      else
        fprintf(stderr, "chanlab-demo: unknown flag '%s'\n", argv[optind - 1]);
      usage(stderr);
      return 2;
    }
  }
  if (optind + 1 < argc) {
    fprintf(stderr, "chanlab-demo: one pattern at a time ('%s', '%s')\n",
            argv[optind], argv[optind + 1]);
    return 2;
  }
  if (optind == argc) {
    usage(stderr);
    return 2;
  }
  const char *pattern = argv[optind];
  size_t nimpls;
  const char *const *names = chan_impl_names(&nimpls);
  if (!impl)
    impl = names[0];
  bool known = false;
  for (size_t i = 0; i < nimpls; i++)
    known |= !strcmp(names[i], impl);
  if (!known) {
    fprintf(stderr,
            "chanlab-demo: unknown implementation '%s' (registered:", impl);
    for (size_t i = 0; i < nimpls; i++)
      fprintf(stderr, " %s", names[i]);
    fprintf(stderr, ")\n");
    return 2;
  }
  bool exists = !strcmp(pattern, "all");
  for (size_t d = 0; d < NDEMOS; d++)
    exists |= !strcmp(pattern, demos[d].name);
  if (!exists) {
    fprintf(stderr, "chanlab-demo: unknown pattern '%s' (see --list)\n",
            pattern);
    return 2;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  struct selection sel = {pattern, 0};
  if (strcmp(executor, "thread") == 0) {
    run_demos(&sel);
    return sel.status;
  }
  /* --executor fiber: the demos run on a fiber, and so does everything
   * they start. */
  chan_rt *rt;
  chan_fiber *f;
  int rc = chan_rt_start(&rt, NULL);
  if (rc == CHAN_OK) {
    rc = chan_fiber_spawn(rt, &f, run_demos, &sel);
    if (rc == CHAN_OK)
      chan_fiber_join(f, NULL);
    if (chan_rt_stop(rt, 10LL * 1000000000) != CHAN_OK) {
      fprintf(stderr, "chanlab-demo: fibers were left running (%s)\n",
              chan_last_error());
      return 1;
    }
    chan_rt_free(rt);
  }
  if (rc != CHAN_OK) {
    fprintf(stderr, "chanlab-demo: fiber runtime: %s (%s)\n", chan_strerror(rc),
            chan_last_error());
    return 1;
  }
  return sel.status;
}
