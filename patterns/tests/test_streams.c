/*
 * test_streams.c - generator, from_array, repeat, take, fan-in (thread per
 * input and single select thread) and the sequenced fan-in.
 */
#include "common.h"

TEST(generator_streams_in_order_and_closes) {
  int base = test_goroutines();
  uint64_t n = test_scale(2000);
  chan_t *out = item_chan(0);
  REQUIRE(out);
  pat_proc *g;
  REQUIRE_STATUS(pat_generator_start(&g, NULL, out, gen_count, &n), PAT_OK);
  pat_item *got = calloc(n, sizeof *got);
  CHECK_EQ(drain(out, got, n), n);
  for (uint64_t i = 0; i < n; i++)
    if (got[i] != (pat_item)i) {
      test_fail(__FILE__, __LINE__, "value %llu is %lld", (unsigned long long)i,
                (long long)got[i]);
      break;
    }
  CHECK_STATUS(pat_proc_wait(g), PAT_OK);
  struct pat_stats s;
  pat_proc_stats(g, &s);
  CHECK_EQ(s.sent, n);
  CHECK_ACCOUNTED(g);
  pat_proc_free(g);
  free(got);
  chan_destroy(out);
  CHECK_THREADS_BACK(base);
}

TEST(generator_blocked_send_stops_on_cancel) {
  int base = test_goroutines();
  chan_t *out = item_chan(0);
  REQUIRE(out);
  pat_proc *g;
  REQUIRE_STATUS(pat_generator_start(&g, NULL, out, gen_count, NULL), PAT_OK);
  pat_item v;
  for (int i = 0; i < 3; i++) { /* the notes' "3 random ints" */
    CHECK_STATUS(chan_recv(out, &v), CHAN_OK);
    CHECK_EQ(v, i);
  }
  test_wait_waiters(out, CHAN_SEND, 1); /* parked on the 4th send */
  int64_t start = test_now_ns();
  pat_proc_cancel(g);
  CHECK_STATUS(pat_proc_wait(g), PAT_CANCELED);
  CHECK_PROMPT(start);
  CHECK_STATUS(chan_recv(out, &v), CHAN_CLOSED); /* defer close(out) */
  struct pat_stats s;
  pat_proc_stats(g, &s);
  CHECK_EQ(s.sent, 3);
  CHECK_EQ(s.canceled, 1);
  CHECK_ACCOUNTED(g);
  pat_proc_free(g);
  chan_destroy(out);
  CHECK_THREADS_BACK(base);
}

static int gen_fail_at_5(pat_ctx *ctx, void *arg, uint64_t i, void *out) {
  if (i == 5)
    return -100;
  return gen_count(ctx, arg, i, out);
}

TEST(generator_error_stops_and_is_returned) {
  int base = test_goroutines();
  chan_t *out = item_chan(0);
  REQUIRE(out);
  pat_proc *g;
  REQUIRE_STATUS(pat_generator_start(&g, NULL, out, gen_fail_at_5, NULL),
                 PAT_OK);
  CHECK_EQ(drain(out, NULL, 0), 5);
  CHECK_STATUS(pat_proc_wait(g), -100);
  CHECK_STATUS(pat_proc_wait(g), -100); /* same answer again */
  pat_proc_free(g);
  chan_destroy(out);
  CHECK_THREADS_BACK(base);
}

TEST(streams_bad_input_and_canceled_ctx) {
  int base = test_goroutines();
  chan_t *out = item_chan(0), *small = test_chan(4, 0);
  REQUIRE(out && small);
  pat_proc *p = NULL;
  CHECK_STATUS(pat_generator_start(&p, NULL, out, NULL, NULL), PAT_EINVAL);
  CHECK(strstr(pat_last_error(), "fn") != NULL);
  CHECK_STATUS(pat_generator_start(&p, NULL, NULL, gen_count, NULL),
               PAT_EINVAL);
  CHECK_STATUS(pat_repeat_start(&p, NULL, out, NULL, 0), PAT_EINVAL);
  pat_item one = 1;
  CHECK_STATUS(pat_repeat_start(&p, NULL, out, &one, 0), PAT_EINVAL);
  CHECK_STATUS(pat_take_start(&p, NULL, NULL, out, 3), PAT_EINVAL);
  CHECK_STATUS(pat_take_start(&p, NULL, out, small, 3), PAT_EINVAL);
  chan_t *ins[2] = {out, NULL}, *merged = item_chan(0);
  CHECK_STATUS(pat_fan_in_start(&p, NULL, ins, 2, merged), PAT_EINVAL);
  ins[1] = small;
  CHECK_STATUS(pat_fan_in_start(&p, NULL, ins, 2, merged), PAT_EINVAL);
  chan_t *many[CHAN_SELECT_MAX_CASES];
  for (int i = 0; i < CHAN_SELECT_MAX_CASES; i++)
    many[i] = out;
  CHECK_STATUS(
      pat_fan_in_select_start(&p, NULL, many, CHAN_SELECT_MAX_CASES, merged),
      PAT_EINVAL);
  CHECK_STATUS(pat_seq_producer_start(&p, NULL, out, 0, gen_count, NULL),
               PAT_EINVAL); /* wrong elem size for pat_seq_msg */
  CHECK_STATUS(pat_seq_release(NULL), PAT_EINVAL);
  /* An already canceled context: a clear error, nothing started. */
  pat_ctx *c;
  REQUIRE_STATUS(pat_ctx_new(&c, test_impl()), PAT_OK);
  pat_ctx_cancel(c);
  CHECK_STATUS(pat_generator_start(&p, c, out, gen_count, NULL), PAT_CANCELED);
  CHECK(strstr(pat_last_error(), "canceled") != NULL);
  CHECK_STATUS(pat_from_array_start(&p, c, out, &one, 1), PAT_CANCELED);
  CHECK_EQ(test_goroutines(), base);
  CHECK_STATUS(chan_try_send(out, &one), CHAN_WOULD_BLOCK); /* not closed */
  pat_ctx_free(c);
  chan_destroy(out);
  chan_destroy(small);
  chan_destroy(merged);
  CHECK_THREADS_BACK(base);
}

TEST(take_of_repeat_then_cancel_repeat) {
  int base = test_goroutines();
  chan_t *zeros = item_chan(0), *three = item_chan(0);
  REQUIRE(zeros && three);
  pat_item pattern[3] = {1, 2, 3};
  pat_proc *rep, *take;
  REQUIRE_STATUS(pat_repeat_start(&rep, NULL, zeros, pattern, 3), PAT_OK);
  REQUIRE_STATUS(pat_take_start(&take, NULL, zeros, three, 7), PAT_OK);
  pat_item got[8];
  CHECK_EQ(drain(three, got, 8), 7);
  pat_item want[7] = {1, 2, 3, 1, 2, 3, 1};
  for (int i = 0; i < 7; i++)
    CHECK_EQ(got[i], want[i]);
  CHECK_STATUS(pat_proc_wait(take), PAT_OK);
  CHECK_ACCOUNTED(take);
  /* take stops reading; repeat blocks until its own cancel. */
  test_wait_waiters(zeros, CHAN_SEND, 1);
  pat_proc_cancel(rep);
  CHECK_STATUS(pat_proc_wait(rep), PAT_CANCELED);
  CHECK_ACCOUNTED(rep);
  pat_proc_free(take);
  pat_proc_free(rep);
  /* take of a shorter stream: ends with the input. */
  chan_t *src = item_chan(0), *dst = item_chan(0);
  REQUIRE_STATUS(pat_from_array_start(&rep, NULL, src, pattern, 3), PAT_OK);
  REQUIRE_STATUS(pat_take_start(&take, NULL, src, dst, 10), PAT_OK);
  CHECK_EQ(drain(dst, NULL, 0), 3);
  CHECK_STATUS(pat_proc_wait(take), PAT_OK);
  CHECK_STATUS(pat_proc_wait(rep), PAT_OK);
  pat_proc_free(take);
  pat_proc_free(rep);
  chan_destroy(zeros);
  chan_destroy(three);
  chan_destroy(src);
  chan_destroy(dst);
  CHECK_THREADS_BACK(base);
}

/* Producer k emits k*1000000 + j for j < per. */
struct tagged {
  pat_item tag;
  uint64_t count;
};

static int gen_tagged(pat_ctx *ctx, void *arg, uint64_t i, void *out) {
  (void)ctx;
  struct tagged *t = arg;
  if (i >= t->count)
    return PAT_STOP;
  pat_item v = t->tag * 1000000 + (pat_item)i;
  memcpy(out, &v, sizeof v);
  return PAT_OK;
}

static void fan_in_case(bool select_variant) {
  int base = test_goroutines();
  enum { K = 4 };
  uint64_t per = test_scale(500);
  chan_t *ins[K], *out = item_chan(0);
  pat_proc *gens[K], *fan;
  struct tagged tags[K];
  for (int k = 0; k < K; k++) {
    ins[k] = item_chan(k % 2); /* mixed buffered and unbuffered */
    tags[k] = (struct tagged){k, per};
    REQUIRE_STATUS(
        pat_generator_start(&gens[k], NULL, ins[k], gen_tagged, &tags[k]),
        PAT_OK);
  }
  if (select_variant)
    REQUIRE_STATUS(pat_fan_in_select_start(&fan, NULL, ins, K, out), PAT_OK);
  else
    REQUIRE_STATUS(pat_fan_in_start(&fan, NULL, ins, K, out), PAT_OK);
  uint64_t next[K] = {0};
  pat_item v;
  uint64_t total = 0;
  while (chan_recv(out, &v) == CHAN_OK) {
    int k = (int)(v / 1000000);
    REQUIRE(k >= 0 && k < K);
    CHECK_EQ(v % 1000000, next[k]); /* per-input FIFO */
    next[k]++;
    total++;
  }
  CHECK_EQ(total, K * per);
  CHECK_STATUS(pat_proc_wait(fan), PAT_OK);
  CHECK_ACCOUNTED(fan);
  pat_proc_free(fan);
  for (int k = 0; k < K; k++) {
    CHECK_EQ(next[k], per);
    CHECK_STATUS(pat_proc_wait(gens[k]), PAT_OK);
    pat_proc_free(gens[k]);
    chan_destroy(ins[k]);
  }
  chan_destroy(out);
  CHECK_THREADS_BACK(base);
}

TEST(fan_in_thread_per_input_merges_everything) {
  fan_in_case(false);
}

TEST(fan_in_select_merges_everything) {
  fan_in_case(true);
}

static void fan_in_cancel_case(bool select_variant) {
  int base = test_goroutines();
  enum { K = 3 };
  chan_t *ins[K], *out = item_chan(0);
  pat_proc *gens[K], *fan;
  for (int k = 0; k < K; k++) {
    ins[k] = item_chan(0);
    REQUIRE_STATUS(pat_generator_start(&gens[k], NULL, ins[k], gen_count, NULL),
                   PAT_OK);
  }
  pat_ctx *c;
  REQUIRE_STATUS(pat_ctx_new(&c, test_impl()), PAT_OK);
  if (select_variant)
    REQUIRE_STATUS(pat_fan_in_select_start(&fan, c, ins, K, out), PAT_OK);
  else
    REQUIRE_STATUS(pat_fan_in_start(&fan, c, ins, K, out), PAT_OK);
  pat_item v;
  CHECK_STATUS(chan_recv(out, &v), CHAN_OK);
  test_wait_waiters(out, CHAN_SEND, 1);
  int64_t start = test_now_ns();
  pat_ctx_cancel(c); /* the caller's context, not the proc's */
  CHECK_STATUS(pat_proc_wait(fan), PAT_CANCELED);
  CHECK_PROMPT(start);
  CHECK_ACCOUNTED(fan);
  CHECK_STATUS(chan_recv(out, &v), CHAN_CLOSED);
  pat_proc_free(fan);
  for (int k = 0; k < K; k++) {
    pat_proc_free(gens[k]);
    chan_destroy(ins[k]);
  }
  pat_ctx_free(c);
  chan_destroy(out);
  CHECK_THREADS_BACK(base);
}

TEST(fan_in_stops_on_cancel) {
  fan_in_cancel_case(false);
}

TEST(fan_in_select_stops_on_cancel) {
  fan_in_cancel_case(true);
}

TEST(seq_fan_in_restores_rounds) {
  int base = test_goroutines();
  enum { K = 3 };
  int rounds = (int)test_scale(200);
  chan_t *outs[K], *merged = test_chan(sizeof(struct pat_seq_msg), 0);
  pat_proc *prod[K], *fan;
  for (int k = 0; k < K; k++) {
    outs[k] = test_chan(sizeof(struct pat_seq_msg), 0);
    REQUIRE_STATUS(pat_seq_producer_start(&prod[k], NULL, outs[k], (uint32_t)k,
                                          gen_count, NULL),
                   PAT_OK);
  }
  REQUIRE_STATUS(pat_fan_in_start(&fan, NULL, outs, K, merged), PAT_OK);
  struct pat_seq_msg m[K];
  for (int r = 0; r < rounds; r++) {
    unsigned seen = 0;
    for (int k = 0; k < K; k++) {
      REQUIRE_STATUS(chan_recv(merged, &m[k]), CHAN_OK);
      CHECK_EQ(m[k].value, r); /* nobody runs ahead of its turn */
      seen |= 1u << m[k].producer;
    }
    CHECK_EQ(seen, (1u << K) - 1); /* one message from each producer */
    if (r + 1 == rounds)
      break; /* keep the last turn: the producers stay parked */
    for (int k = 0; k < K; k++)
      CHECK_STATUS(pat_seq_release(&m[k]), CHAN_OK);
  }
  /* Every producer now waits for its turn: none can send. */
  for (int k = 0; k < K; k++)
    test_wait_waiters(m[k].wait, CHAN_RECV, 1);
  struct pat_seq_msg none;
  CHECK_STATUS(chan_try_recv(merged, &none), CHAN_WOULD_BLOCK);
  pat_proc_cancel(fan);
  CHECK_STATUS(pat_proc_wait(fan), PAT_CANCELED);
  for (int k = 0; k < K; k++) {
    pat_proc_cancel(prod[k]);
    CHECK_STATUS(pat_proc_wait(prod[k]), PAT_CANCELED);
    CHECK_ACCOUNTED(prod[k]);
  }
  /* A stopped producer's wait channel is closed: release says so. */
  for (int k = 0; k < K; k++)
    CHECK_STATUS(pat_seq_release(&m[k]), CHAN_CLOSED);
  pat_proc_free(fan);
  for (int k = 0; k < K; k++) {
    pat_proc_free(prod[k]);
    chan_destroy(outs[k]);
  }
  chan_destroy(merged);
  CHECK_THREADS_BACK(base);
}
