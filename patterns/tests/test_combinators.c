/*
 * test_combinators.c - or-channel, or-done, tee and bridge.
 */
#include "common.h"

#define HOUR_NS ((int64_t)3600 * 1000000000)

static void or_case(size_t n, size_t fire) {
  int base = test_goroutines();
  chan_t **sig = calloc(n, sizeof *sig);
  for (size_t i = 0; i < n; i++)
    sig[i] = test_chan(0, 0);
  chan_t *done = test_chan(0, 0);
  pat_proc *p;
  REQUIRE_STATUS(pat_or_start(&p, NULL, sig, n, done), PAT_OK);
  CHECK_STATUS(chan_try_recv(done, NULL), CHAN_WOULD_BLOCK);
  test_wait_waiters(sig[fire], CHAN_RECV, 1);
  int64_t start = test_now_ns();
  chan_close(sig[fire]);
  CHECK_STATUS(chan_recv(done, NULL), CHAN_CLOSED);
  CHECK_STATUS(pat_proc_wait(p), PAT_OK); /* every group thread ended */
  CHECK_PROMPT(start);
  for (size_t i = 0; i < n; i++)
    if (i != fire)
      CHECK_STATUS(chan_try_recv(sig[i], NULL), CHAN_WOULD_BLOCK);
  pat_proc_free(p);
  for (size_t i = 0; i < n; i++)
    chan_destroy(sig[i]);
  chan_destroy(done);
  free(sig);
  CHECK_THREADS_BACK(base);
}

TEST(or_closes_when_any_signal_closes) {
  or_case(5, 3);
  or_case(1, 0);
}

TEST(or_scales_past_one_select) {
  or_case(200, 150); /* four groups of selects */
  or_case(200, 0);
}

TEST(or_of_timeouts_like_the_notes) {
  int base = test_goroutines();
  /* sig(2h), sig(5min), sig(20ms), sig(1h), sig(1min) */
  int64_t after[5] = {2 * HOUR_NS, 300 * (int64_t)1000000000, 20000000, HOUR_NS,
                      60 * (int64_t)1000000000};
  pat_ctx *root, *sigs[5];
  chan_t *dones[5];
  REQUIRE_STATUS(pat_ctx_new(&root, test_impl()), PAT_OK);
  int64_t start = test_now_ns();
  for (int i = 0; i < 5; i++) {
    REQUIRE_STATUS(pat_ctx_with_timeout(&sigs[i], root, after[i]), PAT_OK);
    dones[i] = pat_ctx_done(sigs[i]);
  }
  chan_t *done = test_chan(0, 0);
  pat_proc *p;
  REQUIRE_STATUS(pat_or_start(&p, NULL, dones, 5, done), PAT_OK);
  CHECK_STATUS(chan_recv(done, NULL), CHAN_CLOSED);
  int64_t took = test_now_ns() - start;
  CHECK(took >= 20000000);
  CHECK_PROMPT(start);
  CHECK_STATUS(pat_ctx_err(sigs[2]), PAT_DEADLINE_EXCEEDED);
  CHECK_STATUS(pat_proc_wait(p), PAT_OK);
  pat_proc_free(p);
  for (int i = 0; i < 5; i++)
    pat_ctx_free(sigs[i]);
  pat_ctx_free(root);
  chan_destroy(done);
  CHECK_THREADS_BACK(base);
}

TEST(or_canceled_does_not_signal) {
  int base = test_goroutines();
  chan_t *sig[2] = {test_chan(0, 0), test_chan(0, 0)};
  chan_t *done = test_chan(0, 0);
  pat_proc *p;
  REQUIRE_STATUS(pat_or_start(&p, NULL, sig, 2, done), PAT_OK);
  test_wait_waiters(sig[0], CHAN_RECV, 1);
  pat_proc_cancel(p);
  CHECK_STATUS(pat_proc_wait(p), PAT_CANCELED);
  CHECK_STATUS(chan_try_recv(done, NULL), CHAN_WOULD_BLOCK);
  pat_proc_free(p);
  CHECK_STATUS(pat_or_start(&p, NULL, NULL, 2, done), PAT_EINVAL);
  CHECK_STATUS(pat_or_start(&p, NULL, sig, 2, NULL), PAT_EINVAL);
  chan_destroy(sig[0]);
  chan_destroy(sig[1]);
  chan_destroy(done);
  CHECK_THREADS_BACK(base);
}

TEST(or_done_forwards_then_stops_on_cancel) {
  int base = test_goroutines();
  chan_t *in = item_chan(2), *out = item_chan(0);
  pat_item v = 11;
  chan_send(in, &v);
  pat_proc *p;
  REQUIRE_STATUS(pat_or_done_start(&p, NULL, in, out), PAT_OK);
  CHECK_STATUS(chan_recv(out, &v), CHAN_OK);
  CHECK_EQ(v, 11);
  /* in never closes (the notes' "we can't know"): cancel ends the loop. */
  test_wait_waiters(in, CHAN_RECV, 1);
  pat_proc_cancel(p);
  CHECK_STATUS(chan_recv(out, &v), CHAN_CLOSED); /* range ends */
  CHECK_STATUS(pat_proc_wait(p), PAT_CANCELED);
  CHECK_ACCOUNTED(p);
  pat_proc_free(p);
  chan_destroy(in);
  chan_destroy(out);
  CHECK_THREADS_BACK(base);
}

struct reader {
  chan_t *ch;
  pat_item *got;
  size_t max, n;
};

static void *reader_main(void *arg) {
  struct reader *r = arg;
  r->n = drain(r->ch, r->got, r->max);
  return NULL;
}

TEST(tee_delivers_every_value_to_both) {
  int base = test_goroutines();
  uint64_t n = test_scale(1000);
  chan_t *in = item_chan(0), *o1 = item_chan(0), *o2 = item_chan(0);
  pat_proc *gen, *tee;
  REQUIRE_STATUS(pat_generator_start(&gen, NULL, in, gen_count, &n), PAT_OK);
  REQUIRE_STATUS(pat_tee_start(&tee, NULL, in, o1, o2), PAT_OK);
  struct reader r1 = {o1, calloc(n, sizeof(pat_item)), n, 0};
  struct reader r2 = {o2, calloc(n, sizeof(pat_item)), n, 0};
  test_task t1 = test_spawn(reader_main, &r1);
  test_task t2 = test_spawn(reader_main, &r2);
  test_join(t1);
  test_join(t2);
  CHECK_EQ(r1.n, n);
  CHECK_EQ(r2.n, n);
  for (uint64_t i = 0; i < n && i < r1.n && i < r2.n; i++) {
    if (r1.got[i] != (pat_item)i || r2.got[i] != (pat_item)i) {
      test_fail(__FILE__, __LINE__, "value %llu differs",
                (unsigned long long)i);
      break;
    }
  }
  CHECK_STATUS(pat_proc_wait(tee), PAT_OK);
  CHECK_ACCOUNTED(tee);
  free(r1.got);
  free(r2.got);
  pat_proc_free(tee);
  pat_proc_free(gen);
  chan_destroy(in);
  chan_destroy(o1);
  chan_destroy(o2);
  CHECK_THREADS_BACK(base);
}

TEST(tee_half_delivered_value_is_reported_on_cancel) {
  int base = test_goroutines();
  chan_t *in = item_chan(0), *o1 = item_chan(0), *o2 = item_chan(0);
  pat_proc *gen, *tee;
  REQUIRE_STATUS(pat_generator_start(&gen, NULL, in, gen_count, NULL), PAT_OK);
  REQUIRE_STATUS(pat_tee_start(&tee, NULL, in, o1, o2), PAT_OK);
  pat_item v;
  CHECK_STATUS(chan_recv(o1, &v), CHAN_OK); /* out1 has it, out2 not */
  CHECK_EQ(v, 0);
  test_wait_waiters(o2, CHAN_SEND, 1);
  /* out1 is disabled (NULL case) for this value: only out2 waits. */
  CHECK_EQ(chan_debug_waiters(o1, CHAN_SEND), 0);
  pat_proc_cancel(tee);
  CHECK_STATUS(pat_proc_wait(tee), PAT_CANCELED);
  struct pat_stats s;
  pat_proc_stats(tee, &s);
  CHECK_EQ(s.received, 1);
  CHECK_EQ(s.canceled, 1);
  CHECK_STATUS(chan_recv(o1, &v), CHAN_CLOSED);
  CHECK_STATUS(chan_recv(o2, &v), CHAN_CLOSED);
  pat_proc_free(tee);
  pat_proc_free(gen);
  chan_destroy(in);
  chan_destroy(o1);
  chan_destroy(o2);
  CHECK_THREADS_BACK(base);
}

TEST(bridge_flattens_a_channel_of_channels) {
  int base = test_goroutines();
  enum { N = 10 };
  chan_t *streams = test_chan(sizeof(chan_t *), N), *inner[N];
  /* The notes' genVals: ten channels holding one value each. */
  for (int i = 0; i < N; i++) {
    inner[i] = item_chan(1 + (i % 3));
    for (int j = 0; j <= i % 3; j++) {
      pat_item v = i * 10 + j;
      chan_send(inner[i], &v);
    }
    chan_close(inner[i]);
    chan_send(streams, &inner[i]);
  }
  chan_close(streams);
  chan_t *out = item_chan(0);
  pat_proc *b;
  REQUIRE_STATUS(pat_bridge_start(&b, NULL, streams, out), PAT_OK);
  pat_item v;
  for (int i = 0; i < N; i++)
    for (int j = 0; j <= i % 3; j++) {
      REQUIRE_STATUS(chan_recv(out, &v), CHAN_OK);
      CHECK_EQ(v, i * 10 + j); /* stream after stream, in order */
    }
  CHECK_STATUS(chan_recv(out, &v), CHAN_CLOSED);
  CHECK_STATUS(pat_proc_wait(b), PAT_OK);
  CHECK_ACCOUNTED(b);
  pat_proc_free(b);
  for (int i = 0; i < N; i++)
    chan_destroy(inner[i]);
  chan_destroy(streams);
  chan_destroy(out);
  CHECK_THREADS_BACK(base);
}

TEST(bridge_stops_on_cancel_and_rejects_bad_streams) {
  int base = test_goroutines();
  chan_t *streams = test_chan(sizeof(chan_t *), 2), *out = item_chan(0);
  chan_t *open_inner = item_chan(0);
  chan_send(streams, &open_inner); /* a stream that never closes */
  pat_proc *b;
  REQUIRE_STATUS(pat_bridge_start(&b, NULL, streams, out), PAT_OK);
  test_wait_waiters(open_inner, CHAN_RECV, 1);
  pat_proc_cancel(b);
  CHECK_STATUS(pat_proc_wait(b), PAT_CANCELED);
  pat_proc_free(b);
  /* A stream of the wrong element size is an error, not a crash. */
  chan_t *wrong = test_chan(4, 1);
  chan_close(wrong);
  chan_send(streams, &wrong);
  chan_t *out2 = item_chan(0);
  REQUIRE_STATUS(pat_bridge_start(&b, NULL, streams, out2), PAT_OK);
  CHECK_STATUS(pat_proc_wait(b), PAT_EINVAL);
  pat_proc_free(b);
  CHECK_STATUS(pat_bridge_start(&b, NULL, wrong, out2), PAT_EINVAL);
  CHECK_STATUS(pat_tee_start(&b, NULL, out, out2, out2), PAT_EINVAL);
  chan_destroy(wrong);
  chan_destroy(open_inner);
  chan_destroy(streams);
  chan_destroy(out);
  chan_destroy(out2);
  CHECK_THREADS_BACK(base);
}
