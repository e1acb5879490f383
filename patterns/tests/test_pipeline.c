/*
 * test_pipeline.c - stages, the pipeline builder (the notes' multiply/add
 * example), daisy chain, drop, queue stage and the result stage.
 */
#include "common.h"

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

static int multiple_of_4(pat_ctx *ctx, void *arg, const void *in, void *out) {
  (void)ctx;
  (void)arg;
  pat_item v;
  memcpy(&v, in, sizeof v);
  if (v % 4)
    return PAT_SKIP;
  memcpy(out, &v, sizeof v);
  return PAT_OK;
}

static int fail_on_3rd(pat_ctx *ctx, void *arg, const void *in, void *out) {
  (void)ctx;
  atomic_int *seen = arg;
  if (atomic_fetch_add(seen, 1) == 2)
    return -9;
  memcpy(out, in, sizeof(pat_item));
  return PAT_OK;
}

TEST(stages_map_and_filter) {
  int base = test_goroutines();
  pat_item src[10], two = 2;
  for (int i = 0; i < 10; i++)
    src[i] = i + 1;
  chan_t *a = item_chan(0), *b = item_chan(0), *c = item_chan(0);
  pat_proc *gen, *dbl, *flt;
  REQUIRE_STATUS(pat_from_array_start(&gen, NULL, a, src, 10), PAT_OK);
  REQUIRE_STATUS(pat_stage_start(&dbl, NULL, a, b, times, &two), PAT_OK);
  REQUIRE_STATUS(pat_stage_start(&flt, NULL, b, c, multiple_of_4, NULL),
                 PAT_OK);
  pat_item got[10];
  CHECK_EQ(drain(c, got, 10), 5);
  for (int i = 0; i < 5; i++)
    CHECK_EQ(got[i], 4 * (i + 1));
  CHECK_STATUS(pat_proc_wait(flt), PAT_OK);
  CHECK_STATUS(pat_proc_wait(dbl), PAT_OK);
  struct pat_stats s;
  pat_proc_stats(flt, &s);
  CHECK_EQ(s.filtered, 5);
  CHECK_ACCOUNTED(flt);
  CHECK_ACCOUNTED(dbl);
  pat_proc_free(flt);
  pat_proc_free(dbl);
  pat_proc_free(gen);
  chan_destroy(a);
  chan_destroy(b);
  chan_destroy(c);
  CHECK_THREADS_BACK(base);
}

TEST(pipeline_builder_runs_the_notes_example) {
  int base = test_goroutines();
  /* multiply(add(multiply(v, 2), 1), 2) over 1, 2, 3, 4 */
  pat_item ints[4] = {1, 2, 3, 4}, two = 2, one = 1;
  chan_t *src = item_chan(0);
  pat_proc *gen;
  pat_pipeline *pl;
  REQUIRE_STATUS(pat_from_array_start(&gen, NULL, src, ints, 4), PAT_OK);
  REQUIRE_STATUS(pat_pipeline_make(&pl, NULL, src), PAT_OK);
  REQUIRE_STATUS(pat_pipeline_add(pl, times, &two, sizeof(pat_item), 0),
                 PAT_OK);
  REQUIRE_STATUS(pat_pipeline_add(pl, plus, &one, sizeof(pat_item), 1), PAT_OK);
  REQUIRE_STATUS(pat_pipeline_add_queue(pl, 3), PAT_OK);
  REQUIRE_STATUS(pat_pipeline_add(pl, times, &two, sizeof(pat_item), 0),
                 PAT_OK);
  CHECK_EQ(pat_pipeline_length(pl), 4);
  pat_item got[4];
  CHECK_EQ(drain(pat_pipeline_out(pl), got, 4), 4);
  pat_item want[4] = {6, 10, 14, 18};
  for (int i = 0; i < 4; i++)
    CHECK_EQ(got[i], want[i]);
  CHECK_STATUS(pat_pipeline_wait(pl), PAT_OK);
  for (size_t i = 0; i < 4; i++) {
    struct pat_stats s;
    CHECK_STATUS(pat_pipeline_stage_stats(pl, i, &s), PAT_OK);
    CHECK_EQ(s.received, 4);
    CHECK_EQ(s.sent, 4);
  }
  pat_pipeline_free(pl);
  pat_proc_free(gen);
  chan_destroy(src);
  CHECK_THREADS_BACK(base);
}

TEST(pipeline_cancel_accounts_for_every_value) {
  int base = test_goroutines();
  pat_item zero = 0, one = 1;
  chan_t *src = item_chan(0);
  pat_proc *rep;
  pat_pipeline *pl;
  pat_ctx *c;
  REQUIRE_STATUS(pat_ctx_new(&c, test_impl()), PAT_OK);
  REQUIRE_STATUS(pat_repeat_start(&rep, c, src, &zero, 1), PAT_OK);
  REQUIRE_STATUS(pat_pipeline_make(&pl, c, src), PAT_OK);
  for (int i = 0; i < 3; i++)
    REQUIRE_STATUS(pat_pipeline_add(pl, plus, &one, sizeof(pat_item), 0),
                   PAT_OK);
  pat_item v;
  for (int i = 0; i < 5; i++) {
    CHECK_STATUS(chan_recv(pat_pipeline_out(pl), &v), CHAN_OK);
    CHECK_EQ(v, 3);
  }
  test_wait_waiters(pat_pipeline_out(pl), CHAN_SEND, 1);
  int64_t start = test_now_ns();
  pat_ctx_cancel(c);
  CHECK_STATUS(pat_pipeline_wait(pl), PAT_CANCELED);
  CHECK_STATUS(pat_proc_wait(rep), PAT_CANCELED);
  CHECK_PROMPT(start);
  /* Unbuffered links: what a stage sent, the next one received. */
  struct pat_stats prev, s;
  pat_proc_stats(rep, &prev);
  for (size_t i = 0; i < 3; i++) {
    pat_pipeline_stage_stats(pl, i, &s);
    CHECK_EQ(s.received, prev.sent);
    CHECK_EQ(s.received, s.sent + s.canceled);
    prev = s;
  }
  CHECK_EQ(prev.sent, 5);
  pat_pipeline_free(pl);
  pat_proc_free(rep);
  pat_ctx_free(c);
  chan_destroy(src);
  CHECK_THREADS_BACK(base);
}

TEST(stage_error_stops_and_closes) {
  int base = test_goroutines();
  chan_t *a = item_chan(0), *b = item_chan(0);
  pat_proc *gen, *st;
  atomic_int seen = 0;
  REQUIRE_STATUS(pat_generator_start(&gen, NULL, a, gen_count, NULL), PAT_OK);
  REQUIRE_STATUS(pat_stage_start(&st, NULL, a, b, fail_on_3rd, &seen), PAT_OK);
  CHECK_EQ(drain(b, NULL, 0), 2);
  CHECK_STATUS(pat_proc_wait(st), -9);
  struct pat_stats s;
  pat_proc_stats(st, &s);
  CHECK_EQ(s.failed, 1);
  CHECK_ACCOUNTED(st);
  pat_proc_free(st);
  pat_proc_free(gen);
  chan_destroy(a);
  chan_destroy(b);
  CHECK_THREADS_BACK(base);
}

TEST(daisy_chain_adds_one_per_link) {
  int base = test_goroutines();
  size_t n = test_sanitized() ? 50 : 1000;
  pat_item result = -1;
  CHECK_STATUS(pat_daisy_chain(NULL, test_impl(), n, 0, &result), PAT_OK);
  CHECK_EQ(result, (pat_item)n);
  CHECK_STATUS(pat_daisy_chain(NULL, test_impl(), 3, 5, &result), PAT_OK);
  CHECK_EQ(result, 8);
  CHECK_STATUS(pat_daisy_chain(NULL, test_impl(), 0, 5, &result), PAT_OK);
  CHECK_EQ(result, 5);
  CHECK_STATUS(pat_daisy_chain(NULL, test_impl(), 3, 5, NULL), PAT_EINVAL);
  pat_ctx *c;
  REQUIRE_STATUS(pat_ctx_new(&c, test_impl()), PAT_OK);
  pat_ctx_cancel(c);
  CHECK_STATUS(pat_daisy_chain(c, NULL, 3, 5, &result), PAT_CANCELED);
  pat_ctx_free(c);
  CHECK_THREADS_BACK(base);
}

/* Cancels once `target` links wait on the context, or when the chain is
 * over (a chain of one value may finish before that many ever wait). */
struct chain_canceler {
  pat_ctx *ctx;
  size_t target;
  atomic_int over;
};

static void *cancel_mid_chain(void *arg) {
  struct chain_canceler *k = arg;
  while (chan_debug_waiters(pat_ctx_done(k->ctx), CHAN_RECV) < k->target &&
         !atomic_load(&k->over))
    test_yield();
  pat_ctx_cancel(k->ctx);
  return NULL;
}

TEST(daisy_chain_stops_when_canceled_midway) {
  /* Every link watches the context: canceled at any point, the chain ends
   * with the reason or, if the value got out first, with the full sum;
   * either way every link is joined. */
  int base = test_goroutines();
  size_t n = test_sanitized() ? 50 : 500;
  test_rng rng = test_rng_make(1);
  int canceled = 0;
  for (int round = 0; round < 20; round++) {
    pat_ctx *c;
    REQUIRE_STATUS(pat_ctx_new(&c, test_impl()), PAT_OK);
    struct chain_canceler k = {c, (size_t)test_rng_below(&rng, n), 0};
    test_task t = test_spawn(cancel_mid_chain, &k);
    pat_item result = -1;
    int64_t start = test_now_ns();
    int rc = pat_daisy_chain(c, NULL, n, 7, &result);
    atomic_store(&k.over, 1);
    test_join(t);
    CHECK_PROMPT(start);
    if (rc == PAT_OK)
      CHECK_EQ(result, (pat_item)n + 7);
    else
      CHECK_STATUS(rc, PAT_CANCELED);
    canceled += rc == PAT_CANCELED;
    pat_ctx_free(c);
  }
  fprintf(stderr, "%d of 20 chains canceled before the value got out\n",
          canceled);
  CHECK_THREADS_BACK(base);
}

TEST(drop_sheds_load_and_counts) {
  int base = test_goroutines();
  uint64_t dropped = 0;
  chan_t *unbuf = item_chan(0);
  pat_item v = 1;
  CHECK_STATUS(pat_drop_send(unbuf, &v, &dropped), CHAN_WOULD_BLOCK);
  CHECK_EQ(dropped, 1);
  CHECK_STATUS(pat_drop_send(NULL, &v, &dropped), CHAN_EINVAL);
  /* The notes' drop: capacity 5, 20 papers, a child that is not ready. */
  uint64_t n = 20;
  chan_t *in = item_chan(0), *out = item_chan(5);
  pat_proc *gen, *drop;
  REQUIRE_STATUS(pat_generator_start(&gen, NULL, in, gen_count, &n), PAT_OK);
  REQUIRE_STATUS(pat_drop_start(&drop, NULL, in, out), PAT_OK);
  CHECK_STATUS(pat_proc_wait(drop), PAT_OK); /* never blocked */
  struct pat_stats s;
  pat_proc_stats(drop, &s);
  CHECK_EQ(s.received, 20);
  CHECK_EQ(s.sent, 5);
  CHECK_EQ(s.dropped, 15);
  CHECK_ACCOUNTED(drop);
  pat_item got[5];
  CHECK_EQ(drain(out, got, 5), 5);
  for (int i = 0; i < 5; i++)
    CHECK_EQ(got[i], i); /* the first five made it */
  pat_proc_free(drop);
  pat_proc_free(gen);
  chan_destroy(in);
  chan_destroy(out);
  chan_destroy(unbuf);
  CHECK_THREADS_BACK(base);
}

TEST(queue_stage_buffers_between_fast_and_slow) {
  int base = test_goroutines();
  uint64_t n = test_scale(500);
  chan_t *in = item_chan(0), *out = item_chan(0);
  pat_proc *gen, *q;
  REQUIRE_STATUS(pat_generator_start(&gen, NULL, in, gen_count, &n), PAT_OK);
  REQUIRE_STATUS(pat_queue_start(&q, NULL, in, out, 16), PAT_OK);
  /* Nobody reads: the queue still accepts 16 values, then pushes back. */
  struct pat_stats s;
  int64_t deadline = test_now_ns() + 60 * (int64_t)1000000000;
  do {
    test_yield();
    pat_proc_stats(q, &s);
  } while (s.received < 16 && test_now_ns() < deadline);
  CHECK_EQ(s.received, 16);
  test_wait_waiters(in, CHAN_SEND, 1); /* the producer is pushed back */
  pat_proc_stats(q, &s);
  CHECK_EQ(s.received, 16);
  pat_item v;
  for (uint64_t i = 0; i < n; i++) {
    REQUIRE_STATUS(chan_recv(out, &v), CHAN_OK);
    CHECK_EQ(v, (pat_item)i); /* FIFO */
  }
  CHECK_STATUS(chan_recv(out, &v), CHAN_CLOSED);
  CHECK_STATUS(pat_proc_wait(q), PAT_OK);
  CHECK_ACCOUNTED(q);
  pat_proc_free(q);
  pat_proc_free(gen);
  /* Cancel with values held: they are reported, not lost. */
  chan_destroy(in); /* closed by the first run: fresh channels */
  chan_destroy(out);
  in = item_chan(0);
  out = item_chan(0);
  REQUIRE_STATUS(pat_generator_start(&gen, NULL, in, gen_count, NULL), PAT_OK);
  REQUIRE_STATUS(pat_queue_start(&q, NULL, in, out, 8), PAT_OK);
  test_wait_waiters(in, CHAN_SEND, 1);
  do {
    test_yield();
    pat_proc_stats(q, &s);
  } while (s.received < 8 && test_now_ns() < deadline);
  pat_proc_cancel(q);
  CHECK_STATUS(pat_proc_wait(q), PAT_CANCELED);
  pat_proc_stats(q, &s);
  CHECK_EQ(s.canceled, 8);
  CHECK_ACCOUNTED(q);
  pat_proc_free(q);
  pat_proc_free(gen);
  chan_destroy(in);
  chan_destroy(out);
  CHECK_THREADS_BACK(base);
}

static int check_status(pat_ctx *ctx, void *arg, const void *in, void *out) {
  (void)ctx;
  (void)arg;
  pat_item v;
  memcpy(&v, in, sizeof v);
  if (v % 2)
    return -22; /* "badhost" */
  v *= 10;
  memcpy(out, &v, sizeof v);
  return PAT_OK;
}

TEST(result_stage_carries_errors_downstream) {
  int base = test_goroutines();
  uint64_t n = 10;
  chan_t *in = item_chan(0);
  chan_t *out = test_chan(PAT_RESULT_SIZE(sizeof(pat_item)), 0);
  CHECK_EQ(sizeof(struct pat_item_result), PAT_RESULT_SIZE(sizeof(pat_item)));
  pat_proc *gen, *st;
  REQUIRE_STATUS(pat_generator_start(&gen, NULL, in, gen_count, &n), PAT_OK);
  REQUIRE_STATUS(pat_result_stage_start(&st, NULL, in, out, check_status, NULL),
                 PAT_OK);
  struct pat_item_result r;
  int i = 0;
  while (chan_recv(out, &r) == CHAN_OK) {
    if (i % 2) {
      CHECK_EQ(r.hdr.status, -22);
    } else {
      CHECK_EQ(r.hdr.status, PAT_OK);
      CHECK_EQ(r.value, i * 10);
    }
    i++;
  }
  CHECK_EQ(i, 10); /* errors did not stop the stage */
  CHECK_STATUS(pat_proc_wait(st), PAT_OK);
  CHECK_ACCOUNTED(st);
  pat_proc_free(st);
  pat_proc_free(gen);
  chan_destroy(in);
  chan_destroy(out);
  CHECK_THREADS_BACK(base);
}

TEST(pipeline_bad_input) {
  chan_t *a = item_chan(0), *small = test_chan(4, 0);
  pat_proc *p;
  CHECK_STATUS(pat_stage_start(&p, NULL, NULL, a, NULL, NULL), PAT_EINVAL);
  CHECK_STATUS(pat_stage_start(&p, NULL, a, small, NULL, NULL), PAT_EINVAL);
  CHECK_STATUS(pat_queue_start(&p, NULL, a, a, 0), PAT_EINVAL);
  CHECK_STATUS(pat_result_stage_start(&p, NULL, a, small, check_status, NULL),
               PAT_EINVAL);
  CHECK_STATUS(pat_drop_start(&p, NULL, a, small), PAT_EINVAL);
  CHECK_STATUS(pat_pipeline_add(NULL, NULL, NULL, 8, 0), PAT_EINVAL);
  chan_t *huge = test_chan(PAT_MAX_ELEM_SIZE + 1, 0);
  CHECK_STATUS(pat_stage_start(&p, NULL, huge, huge, NULL, NULL), PAT_EINVAL);
  CHECK(strstr(pat_last_error(), "PAT_MAX_ELEM_SIZE") != NULL);
  CHECK_STATUS(pat_generator_start(&p, NULL, huge, gen_count, NULL),
               PAT_EINVAL);
  chan_destroy(huge);
  pat_future *f;
  CHECK_STATUS(pat_promise_make(&f, test_impl(), PAT_MAX_ELEM_SIZE + 1),
               PAT_EINVAL);
  pat_pipeline *pl;
  CHECK_STATUS(pat_pipeline_make(&pl, NULL, NULL), PAT_EINVAL);
  REQUIRE_STATUS(pat_pipeline_make(&pl, NULL, a), PAT_OK);
  CHECK_STATUS(pat_pipeline_add_queue(pl, 0), PAT_EINVAL);
  CHECK_STATUS(pat_pipeline_add(pl, NULL, NULL, 4, 0), PAT_EINVAL);
  CHECK_EQ(pat_pipeline_length(pl), 0);
  CHECK(pat_pipeline_out(pl) == a);
  pat_pipeline_free(pl);
  chan_destroy(a);
  chan_destroy(small);
}
