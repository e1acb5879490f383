/*
 * test_races.c - cancellation at random moments: a chain of components
 * (generator -> stage -> pool -> queue -> tee) is canceled after a random
 * number of values, in random rounds; every component must stop, account
 * for every value it took, and leave no thread behind.
 */
#include "common.h"

static int inc(pat_ctx *ctx, void *arg, const void *in, void *out) {
  (void)ctx;
  (void)arg;
  pat_item v;
  memcpy(&v, in, sizeof v);
  v += 1;
  memcpy(out, &v, sizeof v);
  return PAT_OK;
}

struct drain_arg {
  chan_t *ch;
  size_t n;
};

static void *drain_thread(void *arg) {
  struct drain_arg *d = arg;
  d->n = drain(d->ch, NULL, 0);
  return NULL;
}

TEST(chain_canceled_at_random_points_loses_nothing) {
  int base = test_goroutines();
  test_rng rng = test_rng_make(1);
  int rounds = (int)test_scale(60);
  for (int r = 0; r < rounds; r++) {
    pat_ctx *c;
    REQUIRE_STATUS(pat_ctx_new(&c, test_impl()), PAT_OK);
    chan_t *a = item_chan(test_rng_below(&rng, 3));
    chan_t *b = item_chan(test_rng_below(&rng, 3));
    chan_t *d = item_chan(0), *e = item_chan(0);
    chan_t *t1 = item_chan(0), *t2 = item_chan(test_rng_below(&rng, 4));
    enum pat_order order =
        test_rng_below(&rng, 2) ? PAT_ORDERED : PAT_UNORDERED;
    pat_proc *gen, *stage, *pool, *queue, *tee;
    REQUIRE_STATUS(pat_generator_start(&gen, c, a, gen_count, NULL), PAT_OK);
    REQUIRE_STATUS(pat_stage_start(&stage, c, a, b, inc, NULL), PAT_OK);
    REQUIRE_STATUS(pat_pool_start(&pool, c, b, d, 1 + test_rng_below(&rng, 4),
                                  order, inc, NULL),
                   PAT_OK);
    REQUIRE_STATUS(
        pat_queue_start(&queue, c, d, e, 1 + test_rng_below(&rng, 8)), PAT_OK);
    REQUIRE_STATUS(pat_tee_start(&tee, c, e, t1, t2), PAT_OK);
    struct drain_arg side = {t2, 0};
    test_task t = test_spawn(drain_thread, &side);
    uint64_t want = test_rng_below(&rng, 50);
    pat_item v;
    for (uint64_t i = 0; i < want; i++) {
      REQUIRE_STATUS(chan_recv(t1, &v), CHAN_OK);
      if (order == PAT_ORDERED)
        CHECK_EQ(v, (pat_item)i + 2);
    }
    pat_ctx_cancel(c);
    size_t rest = drain(t1, NULL, 0); /* tee closes t1 on cancel */
    test_join(t);
    pat_proc *all[5] = {gen, stage, pool, queue, tee};
    for (int i = 0; i < 5; i++) {
      int rc = pat_proc_wait(all[i]);
      if (rc != PAT_CANCELED && rc != PAT_OK)
        test_fail(__FILE__, __LINE__, "component %d returned %s", i,
                  pat_strerror(rc));
      CHECK_ACCOUNTED(all[i]);
    }
    struct pat_stats st;
    pat_proc_stats(tee, &st);
    /* Both sides got every value tee counts as sent; a value canceled
     * half-way reached at most one side. */
    uint64_t got1 = want + rest, got2 = side.n;
    CHECK(got1 >= st.sent && got2 >= st.sent);
    CHECK(st.canceled <= 1);
    CHECK((got1 - st.sent) + (got2 - st.sent) <= st.canceled);
    for (int i = 0; i < 5; i++)
      pat_proc_free(all[i]);
    chan_t *chans[6] = {a, b, d, e, t1, t2};
    for (int i = 0; i < 6; i++)
      chan_destroy(chans[i]);
    pat_ctx_free(c);
  }
  CHECK_THREADS_BACK(base);
}
