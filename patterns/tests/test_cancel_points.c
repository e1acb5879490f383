/*
 * test_cancel_points.c - every component canceled at each of its blocking
 * points (patterns.h, "Cancellation"):
 *   waiting for input   its inputs neither send nor close;
 *   blocked on output   it holds a value nobody takes;
 *   in between          inside its callback (which watches the context, as
 *                       patterns.h asks), holding buffered values, half-way
 *                       through a delivery, or waiting on an inner channel.
 * Each time the component must stop promptly (its pat_proc_wait returns
 * the context's reason within PROMPT_NS; a component that misses the done
 * case fails here at once, and is then released so the test ends cleanly),
 * account for every value exactly (pat_proc_stats), close its output (the
 * or-channel's must stay open: it signals only when a signal fires), and
 * leave no thread behind.
 */
#include "common.h"

enum point { AT_INPUT, AT_OUTPUT, AT_BETWEEN, POINTS };

static const char *const point_names[POINTS] = {
    "waiting for input", "blocked on output", "in between"};

/* The channels and handles around one component. */
struct rig {
  pat_ctx *ctx;
  chan_t *in[2];    /* inputs the test feeds (unbuffered item channels) */
  chan_t *streams;  /* bridge: the channel of channels */
  chan_t *inner;    /* bridge: the stream sent on it */
  chan_t *out;      /* the output (made by the component for job, pipeline) */
  chan_t *out2;     /* tee's second output */
  bool own_out;     /* out is the test's to destroy */
  chan_t *watch[2]; /* what the component receives from while idle */
  int nwatch;
  pat_proc *proc; /* the component: one of proc, pl, job */
  pat_pipeline *pl;
  pat_job *job;
  bool gated;         /* callbacks wait for the cancel (AT_BETWEEN) */
  atomic_int entered; /* callbacks that reached the gate */
  int status;         /* what waiting for the component returned */
  atomic_int stopped;
};

/* ---- callbacks: pass values through; gated, they first wait until the
 * component is canceled, as a callback that watches its context does ---- */

static void gate(struct rig *r, pat_ctx *ctx) {
  if (!r->gated)
    return;
  atomic_fetch_add(&r->entered, 1);
  chan_recv(pat_ctx_done(ctx), NULL); /* CHAN_CLOSED once canceled */
}

static int map_fn(pat_ctx *ctx, void *arg, const void *in, void *out) {
  gate(arg, ctx);
  if (out)
    memcpy(out, in, sizeof(pat_item));
  return PAT_OK;
}

static int gen_fn(pat_ctx *ctx, void *arg, uint64_t i, void *out) {
  gate(arg, ctx);
  pat_item v = (pat_item)i;
  memcpy(out, &v, sizeof v);
  return PAT_OK;
}

/* ---- starting each component on the rig -------------------------------- */

static void watch(struct rig *r, chan_t *a, chan_t *b) {
  r->watch[0] = a;
  r->watch[1] = b;
  r->nwatch = b ? 2 : (a ? 1 : 0);
}

static const pat_item three[3] = {1, 2, 3};

static int start_generator(struct rig *r) {
  return pat_generator_start(&r->proc, r->ctx, r->out, gen_fn, r);
}
static int start_from_array(struct rig *r) {
  return pat_from_array_start(&r->proc, r->ctx, r->out, three, 3);
}
static int start_repeat(struct rig *r) {
  return pat_repeat_start(&r->proc, r->ctx, r->out, three, 3);
}
static int start_take(struct rig *r) {
  watch(r, r->in[0], NULL);
  return pat_take_start(&r->proc, r->ctx, r->in[0], r->out, 5);
}
static int start_fan_in(struct rig *r) {
  watch(r, r->in[0], r->in[1]);
  return pat_fan_in_start(&r->proc, r->ctx, r->in, 2, r->out);
}
static int start_fan_in_select(struct rig *r) {
  watch(r, r->in[0], r->in[1]);
  return pat_fan_in_select_start(&r->proc, r->ctx, r->in, 2, r->out);
}
static int start_seq_producer(struct rig *r) {
  return pat_seq_producer_start(&r->proc, r->ctx, r->out, 7, gen_fn, r);
}
static int start_pool_unordered(struct rig *r) {
  watch(r, r->in[0], NULL);
  return pat_pool_start(&r->proc, r->ctx, r->in[0], r->out, 2, PAT_UNORDERED,
                        map_fn, r);
}
static int start_pool_ordered(struct rig *r) {
  watch(r, r->in[0], NULL);
  return pat_pool_start(&r->proc, r->ctx, r->in[0], r->out, 2, PAT_ORDERED,
                        map_fn, r);
}
static int start_fanout_sem(struct rig *r) {
  watch(r, r->in[0], NULL);
  return pat_fanout_sem_start(&r->proc, r->ctx, r->in[0], r->out, 2, map_fn, r);
}
static int start_fanout_each(struct rig *r) {
  return pat_fanout_each_start(&r->proc, r->ctx, three, 2, sizeof(pat_item),
                               r->out, map_fn, r);
}
static int start_stage(struct rig *r) {
  watch(r, r->in[0], NULL);
  return pat_stage_start(&r->proc, r->ctx, r->in[0], r->out, map_fn, r);
}
static int start_result_stage(struct rig *r) {
  watch(r, r->in[0], NULL);
  return pat_result_stage_start(&r->proc, r->ctx, r->in[0], r->out, map_fn, r);
}
static int start_or_done(struct rig *r) {
  watch(r, r->in[0], NULL);
  return pat_or_done_start(&r->proc, r->ctx, r->in[0], r->out);
}
static int start_drop(struct rig *r) {
  watch(r, r->in[0], NULL);
  return pat_drop_start(&r->proc, r->ctx, r->in[0], r->out);
}
static int start_queue(struct rig *r) {
  watch(r, r->in[0], NULL);
  return pat_queue_start(&r->proc, r->ctx, r->in[0], r->out, 4);
}
static int start_or(struct rig *r) {
  watch(r, r->in[0], r->in[1]);
  return pat_or_start(&r->proc, r->ctx, r->in, 2, r->out);
}
static int start_tee(struct rig *r) {
  watch(r, r->in[0], NULL);
  return pat_tee_start(&r->proc, r->ctx, r->in[0], r->out, r->out2);
}
static int start_bridge(struct rig *r) {
  watch(r, r->streams, NULL);
  return pat_bridge_start(&r->proc, r->ctx, r->streams, r->out);
}
static int start_pipeline(struct rig *r) {
  watch(r, r->in[0], NULL);
  int rc = pat_pipeline_make(&r->pl, r->ctx, r->in[0]);
  for (int i = 0; i < 2 && rc == PAT_OK; i++)
    rc = pat_pipeline_add(r->pl, map_fn, r, sizeof(pat_item), 0);
  r->out = pat_pipeline_out(r->pl);
  return rc;
}
static int start_job(struct rig *r) {
  int rc =
      pat_job_start(&r->job, r->ctx, test_impl(), sizeof(pat_item), gen_fn, r);
  r->out = pat_job_out(r->job);
  return rc;
}

/* ---- reaching a point -------------------------------------------------- */

static bool feed(struct rig *r, chan_t *ch, int n) {
  for (int i = 0; i < n; i++) {
    pat_item v = 100 + i;
    int rc = chan_send_timeout(ch, &v, 30 * (int64_t)1000000000);
    if (rc != CHAN_OK) {
      test_fail(__FILE__, __LINE__, "feeding value %d: %s", i,
                chan_strerror(rc));
      return false;
    }
  }
  (void)r;
  return true;
}

static bool output_blocked(struct rig *r) {
  return test_wait_waiters(r->out, CHAN_SEND, 1) &&
         (!r->out2 || test_wait_waiters(r->out2, CHAN_SEND, 1));
}

static bool gate_reached(struct rig *r, int n) {
  return wait_count(&r->entered, n, __FILE__, __LINE__);
}

/* In its callback: one value fed, or the component's own (generators). */
static bool between_callback_fed(struct rig *r) {
  return feed(r, r->in[0], 1) && gate_reached(r, 1);
}
static bool between_callback_own(struct rig *r) {
  return gate_reached(r, 1);
}
static bool between_callbacks_both(struct rig *r) { /* fanout_each's tasks */
  return gate_reached(r, 2);
}
/* queue: holding two values, waiting for input and output at once. */
static bool between_queue_holding(struct rig *r) {
  return feed(r, r->in[0], 2) && test_wait_waiters(r->in[0], CHAN_RECV, 1) &&
         test_wait_waiters(r->out, CHAN_SEND, 1);
}
/* tee: delivered to out1, waiting for out2. */
static bool between_tee_half_delivered(struct rig *r) {
  pat_item v = -1;
  if (!feed(r, r->in[0], 1) || !output_blocked(r))
    return false;
  CHECK_STATUS(chan_recv(r->out, &v), CHAN_OK);
  CHECK_EQ(v, 100);
  return test_wait_waiters(r->out2, CHAN_SEND, 1);
}
/* bridge: took a stream that neither sends nor closes. */
static bool between_bridge_idle_stream(struct rig *r) {
  return chan_send(r->streams, &r->inner) == CHAN_OK &&
         test_wait_waiters(r->inner, CHAN_RECV, 1);
}
static bool output_bridge(struct rig *r) {
  return chan_send(r->streams, &r->inner) == CHAN_OK && feed(r, r->inner, 1) &&
         output_blocked(r);
}
/* seq producer: its message taken, waiting for its turn back. */
static bool between_seq_awaiting_turn(struct rig *r) {
  struct pat_seq_msg m;
  if (chan_recv(r->out, &m) != CHAN_OK)
    return false;
  return test_wait_waiters(m.wait, CHAN_RECV, 1);
}

/* ---- the components ---------------------------------------------------- */

/* {received, sent, canceled} after the cancel; received < 0: the component
 * has no such blocking point. */
struct expect {
  int received, sent, canceled;
};
#define NO_POINT                                                               \
  { -1, 0, 0 }
#define NOTHING                                                                \
  { 0, 0, 0 }
#define CANCELED1                                                              \
  { 1, 0, 1 }

struct component {
  const char *name;
  int (*start)(struct rig *r);
  size_t idle_receivers; /* its receivers parked on each watched input */
  int output_feed;       /* values fed to block it on output */
  bool (*output)(struct rig *r);  /* reaches AT_OUTPUT if not by feeding */
  bool (*between)(struct rig *r); /* reaches AT_BETWEEN; NULL: none */
  bool gated;                     /* AT_BETWEEN is inside its callback */
  size_t out_cap;
  size_t out_size;     /* its output's elem size, if not a pat_item */
  bool makes_output;   /* makes its own output (job, pipeline) */
  bool two_outputs;    /* tee */
  bool no_stats;       /* pat_job: no pat_proc to ask */
  bool out_stays_open; /* or-channel */
  struct expect expect[POINTS];
};

static const struct component generator = {
    "generator", start_generator, .between = between_callback_own,
    .gated = true, .expect = {NO_POINT, CANCELED1, CANCELED1}};
static const struct component from_array = {
    "from_array", start_from_array, .expect = {NO_POINT, CANCELED1, NO_POINT}};
static const struct component repeat = {
    "repeat", start_repeat, .expect = {NO_POINT, CANCELED1, NO_POINT}};
static const struct component take = {"take", start_take, .idle_receivers = 1,
                                      .output_feed = 1,
                                      .expect = {NOTHING, CANCELED1, NO_POINT}};
static const struct component fan_in = {
    "fan_in", start_fan_in, .idle_receivers = 1, .output_feed = 1,
    .expect = {NOTHING, CANCELED1, NO_POINT}};
static const struct component fan_in_select = {
    "fan_in_select", start_fan_in_select, .idle_receivers = 1, .output_feed = 1,
    .expect = {NOTHING, CANCELED1, NO_POINT}};
static const struct component seq_producer = {
    "seq_producer", start_seq_producer, .between = between_seq_awaiting_turn,
    .out_size = sizeof(struct pat_seq_msg),
    .expect = {NO_POINT, CANCELED1, {1, 1, 0}}};
static const struct component pool_unordered = {
    "pool_unordered",
    start_pool_unordered,
    .idle_receivers = 2,
    .output_feed = 1,
    .between = between_callback_fed,
    .gated = true,
    .expect = {NOTHING, CANCELED1, CANCELED1}};
static const struct component pool_ordered = {
    "pool_ordered",
    start_pool_ordered,
    .idle_receivers = 1,
    .output_feed = 1,
    .between = between_callback_fed,
    .gated = true,
    .expect = {NOTHING, CANCELED1, CANCELED1}};
static const struct component fanout_sem = {
    "fanout_sem",
    start_fanout_sem,
    .idle_receivers = 1,
    .output_feed = 1,
    .between = between_callback_fed,
    .gated = true,
    .expect = {NOTHING, CANCELED1, CANCELED1}};
static const struct component fanout_each = {
    "fanout_each",
    start_fanout_each,
    .between = between_callbacks_both,
    .gated = true,
    .out_cap = 2, /* its children never block on output */
    .expect = {NO_POINT, NO_POINT, {2, 0, 2}}};
static const struct component stage = {
    "stage",
    start_stage,
    .idle_receivers = 1,
    .output_feed = 1,
    .between = between_callback_fed,
    .gated = true,
    .expect = {NOTHING, CANCELED1, CANCELED1}};
static const struct component result_stage = {
    "result_stage",
    start_result_stage,
    .idle_receivers = 1,
    .output_feed = 1,
    .between = between_callback_fed,
    .gated = true,
    .out_size = sizeof(struct pat_item_result),
    .expect = {NOTHING, CANCELED1, CANCELED1}};
static const struct component or_done = {
    "or_done", start_or_done, .idle_receivers = 1, .output_feed = 1,
    .expect = {NOTHING, CANCELED1, NO_POINT}};
static const struct component drop = {
    "drop", start_drop, .idle_receivers = 1, /* never blocks on output */
    .expect = {NOTHING, NO_POINT, NO_POINT}};
static const struct component queue = {
    "queue",
    start_queue,
    .idle_receivers = 1,
    .output_feed = 4,
    .between = between_queue_holding,
    .expect = {NOTHING, {4, 0, 4}, {2, 0, 2}}};
static const struct component or_channel = {
    "or", start_or, .idle_receivers = 1, .out_stays_open = true,
    .expect = {NOTHING, NO_POINT, NO_POINT}};
static const struct component tee = {"tee",
                                     start_tee,
                                     .idle_receivers = 1,
                                     .output_feed = 1,
                                     .two_outputs = true,
                                     .between = between_tee_half_delivered,
                                     .expect = {NOTHING, CANCELED1, CANCELED1}};
static const struct component bridge = {
    "bridge",
    start_bridge,
    .idle_receivers = 1,
    .output = output_bridge,
    .between = between_bridge_idle_stream,
    .expect = {NOTHING, CANCELED1, NOTHING}};
static const struct component pipeline = {
    "pipeline", start_pipeline, .idle_receivers = 1, .output_feed = 1,
    .makes_output = true,
    /* summed over its two stages: the first delivered to the second */
    .expect = {NOTHING, {2, 1, 1}, NO_POINT}};
static const struct component job = {
    "job",
    start_job,
    .between = between_callback_own,
    .gated = true,
    .makes_output = true,
    .no_stats = true,
    .expect = {NO_POINT, CANCELED1, CANCELED1}};

/* ---- the run ----------------------------------------------------------- */

static void *stopper_main(void *arg) {
  struct rig *r = arg;
  r->status = r->proc ? pat_proc_wait(r->proc)
              : r->pl ? pat_pipeline_wait(r->pl)
                      : pat_job_wait(r->job);
  atomic_store(&r->stopped, 1);
  return NULL;
}

static bool wait_stopped(struct rig *r, int64_t within_ns) {
  int64_t deadline = test_now_ns() + within_ns;
  while (!atomic_load(&r->stopped) && test_now_ns() < deadline)
    test_yield();
  return atomic_load(&r->stopped);
}

/* A component that ignored the cancel: close its inputs and take its
 * outputs until it ends by itself, so the test fails without hanging. */
static void release(struct rig *r) {
  chan_t *ins[4] = {r->in[0], r->in[1], r->streams, r->inner};
  for (int i = 0; i < 4; i++)
    chan_close(ins[i]);
  while (!atomic_load(&r->stopped)) {
    chan_try_recv(r->out, NULL);
    chan_try_recv(r->out2, NULL);
    test_yield();
  }
}

static void check_stats(const struct component *c, struct rig *r,
                        enum point pt) {
  struct pat_stats s = {0};
  if (r->proc) {
    pat_proc_stats(r->proc, &s);
    CHECK_ACCOUNTED(r->proc);
  } else {
    for (size_t i = 0; i < pat_pipeline_length(r->pl); i++) {
      struct pat_stats st;
      REQUIRE_STATUS(pat_pipeline_stage_stats(r->pl, i, &st), PAT_OK);
      uint64_t out =
          st.sent + st.filtered + st.failed + st.dropped + st.canceled;
      if (st.received != out)
        test_fail(__FILE__, __LINE__, "pipeline stage %zu lost values", i);
      s.received += st.received;
      s.sent += st.sent;
      s.canceled += st.canceled;
    }
  }
  const struct expect *e = &c->expect[pt];
  if (s.received != (uint64_t)e->received || s.sent != (uint64_t)e->sent ||
      s.canceled != (uint64_t)e->canceled)
    test_fail(__FILE__, __LINE__,
              "%s canceled %s: received %llu, sent %llu, canceled %llu; "
              "expected %d, %d, %d",
              c->name, point_names[pt], (unsigned long long)s.received,
              (unsigned long long)s.sent, (unsigned long long)s.canceled,
              e->received, e->sent, e->canceled);
}

static void run_point(const struct component *c, enum point pt) {
  printf("  %s, canceled %s\n", c->name, point_names[pt]);
  fflush(stdout);
  struct rig r = {.gated = pt == AT_BETWEEN && c->gated, .own_out = true};
  atomic_init(&r.entered, 0);
  atomic_init(&r.stopped, 0);
  REQUIRE_STATUS(pat_ctx_new(&r.ctx, test_impl()), PAT_OK);
  r.in[0] = item_chan(0);
  r.in[1] = item_chan(0);
  r.inner = item_chan(0);
  r.streams = test_chan(sizeof(chan_t *), 0);
  r.out2 = c->two_outputs ? item_chan(0) : NULL;
  r.own_out = !c->makes_output;
  if (r.own_out)
    r.out = test_chan(c->out_size ? c->out_size : sizeof(pat_item), c->out_cap);
  REQUIRE_STATUS(c->start(&r), PAT_OK);

  bool reached;
  if (pt == AT_INPUT) {
    reached = true;
    for (int k = 0; k < r.nwatch; k++)
      reached &= test_wait_waiters(r.watch[k], CHAN_RECV, c->idle_receivers);
  } else if (pt == AT_OUTPUT) {
    reached = c->output
                  ? c->output(&r)
                  : feed(&r, r.in[0], c->output_feed) && output_blocked(&r);
  } else {
    reached = c->between(&r);
  }

  test_task stopper = test_spawn(stopper_main, &r);
  pat_ctx_cancel(r.ctx);
  if (!wait_stopped(&r, PROMPT_NS)) {
    test_fail(__FILE__, __LINE__,
              "%s canceled %s did not stop within %.1f s: it does not watch "
              "its context there",
              c->name, point_names[pt], (double)PROMPT_NS / 1e9);
    release(&r);
  }
  test_join(stopper);
  if (reached) {
    if (r.status != PAT_CANCELED)
      test_fail(__FILE__, __LINE__, "%s canceled %s returned %s", c->name,
                point_names[pt], pat_strerror(r.status));
    if (!c->no_stats)
      check_stats(c, &r, pt);
    /* Its output is closed now (nothing left in it), or never. */
    int rc = chan_try_recv(r.out, NULL);
    if (rc != (c->out_stays_open ? CHAN_WOULD_BLOCK : CHAN_CLOSED))
      test_fail(__FILE__, __LINE__, "%s canceled %s: its output gave %s",
                c->name, point_names[pt], chan_strerror(rc));
  }

  if (r.proc)
    pat_proc_free(r.proc);
  if (r.pl)
    pat_pipeline_free(r.pl);
  if (r.job)
    pat_job_free(r.job);
  chan_t *mine[6] = {r.in[0],   r.in[1], r.inner,
                     r.streams, r.out2,  r.own_out ? r.out : NULL};
  for (int i = 0; i < 6; i++)
    if (mine[i])
      CHECK_STATUS(chan_destroy(mine[i]), CHAN_OK);
  pat_ctx_free(r.ctx);
}

static void run_component(const struct component *c) {
  int base = test_goroutines();
  for (int pt = 0; pt < POINTS; pt++)
    if (c->expect[pt].received >= 0)
      run_point(c, (enum point)pt);
  CHECK_THREADS_BACK(base);
}

#define CANCEL_POINTS_TEST(component)                                          \
  TEST(component##_stops_when_canceled_at_each_blocking_point) {               \
    run_component(&component);                                                 \
  }

CANCEL_POINTS_TEST(generator)
CANCEL_POINTS_TEST(from_array)
CANCEL_POINTS_TEST(repeat)
CANCEL_POINTS_TEST(take)
CANCEL_POINTS_TEST(fan_in)
CANCEL_POINTS_TEST(fan_in_select)
CANCEL_POINTS_TEST(seq_producer)
CANCEL_POINTS_TEST(pool_unordered)
CANCEL_POINTS_TEST(pool_ordered)
CANCEL_POINTS_TEST(fanout_sem)
CANCEL_POINTS_TEST(fanout_each)
CANCEL_POINTS_TEST(stage)
CANCEL_POINTS_TEST(result_stage)
CANCEL_POINTS_TEST(or_done)
CANCEL_POINTS_TEST(drop)
CANCEL_POINTS_TEST(queue)
CANCEL_POINTS_TEST(or_channel)
CANCEL_POINTS_TEST(tee)
CANCEL_POINTS_TEST(bridge)
CANCEL_POINTS_TEST(pipeline)
CANCEL_POINTS_TEST(job)
