/*
 * select.c - chan_select over k = 2, 4, 8, 16 channels.
 *
 *   select_recv: producers send round-robin on k channels with plain sends;
 *                consumers receive with one select over all k (the usual
 *                "wait on any of these" loop; Go's select over 4 runs the
 *                same shape).
 *   select_both: producers also select, over k send cases: both sides pay
 *                for the select.
 *   select_many: several selecting producers and consumers on the same k
 *                channels.
 * Fixed counts on both sides keep sends and receives equal, so no close is
 * needed to end a round.
 */
#include "../bench_common.h"

#include <stdlib.h>

#define SEL_MAX 16

struct sel_arg {
  const char *impl;
  const struct placement *pl;
  int64_t k, cap, producers, consumers;
  bool select_send;
};

struct sel_shared {
  chan_t *ch[SEL_MAX];
  int k;
  bool select_send;
};

static int sel_producer(struct role *r) {
  struct sel_shared *s = r->shared;
  uint64_t v = 0;
  struct chan_case cases[SEL_MAX];
  for (int i = 0; i < s->k; i++)
    cases[i] = (struct chan_case){s->ch[i], CHAN_SEND, &v};
  for (uint64_t i = 0; i < r->count; i++, v++) {
    size_t chosen;
    int rc = s->select_send
                 ? chan_select(cases, (size_t)s->k, CHAN_FOREVER, &chosen)
                 : chan_send(s->ch[(i + (uint64_t)r->k) % (uint64_t)s->k], &v);
    if (rc != CHAN_OK)
      return role_fail(r, "send", rc);
  }
  return 0;
}

static int sel_consumer(struct role *r) {
  struct sel_shared *s = r->shared;
  uint64_t v;
  struct chan_case cases[SEL_MAX];
  for (int i = 0; i < s->k; i++)
    cases[i] = (struct chan_case){s->ch[i], CHAN_RECV, &v};
  chan_select_seed(0x5e1ec7 + (uint64_t)r->k);
  for (uint64_t i = 0; i < r->count; i++) {
    size_t chosen;
    int rc = chan_select(cases, (size_t)s->k, CHAN_FOREVER, &chosen);
    if (rc != CHAN_OK)
      return role_fail(r, "select recv", rc);
  }
  return 0;
}

static void bm_select(bench_state *st, void *user) {
  const struct sel_arg *a = user;
  int64_t batch;
  struct round *rd = malloc(sizeof *rd);
  struct cost cost = {0};
  int64_t msgs = 0;
  while (rd && bench_keep_running_batch(
                   st, batch = round_batch(st, 1000, g_suite.messages))) {
    struct sel_shared s = {.k = (int)a->k, .select_send = a->select_send};
    int made = 0;
    for (; made < s.k; made++)
      if (!(s.ch[made] = bench_chan(st, a->impl, 8, (size_t)a->cap)))
        break;
    int rc = -1;
    if (made == s.k)
      rc =
          round_run(rd, a->pl, (int)a->producers, sel_producer, (uint64_t)batch,
                    (int)a->consumers, sel_consumer, (uint64_t)batch, &s, NULL);
    for (int i = 0; i < made; i++)
      chan_destroy(s.ch[i]);
    if (made < s.k)
      break;
    if (rc != 0) {
      bench_skip_with_error(st, rd->err);
      break;
    }
    bench_set_iteration_time(st, (double)rd->elapsed_ns * 1e-9);
    struct cost zero = {0};
    cost_add_delta(&cost, &zero, &rd->cost);
    msgs += batch;
  }
  if (msgs > 0) {
    bench_set_items_processed(st, msgs);
    cost_report(st, &cost, (double)msgs);
  }
  free(rd);
}

static void reg(const char *name, struct sel_arg a) {
  bench_def *b = suite_register(name, a.impl, a.pl, bm_select, &a, sizeof a);
  bench_arg_names(b, (const char *const[]){"k", "cap", "p", "c"}, 4);
  bench_args(b, (const int64_t[]){a.k, a.cap, a.producers, a.consumers}, 4);
  bench_use_manual_time(b);
}

void register_select(void) {
  static const int64_t ks[] = {2, 4, 8, 16};
  static const int64_t caps[] = {0, 128};
  const struct placement *pls[PLACE_NCLASSES];
  int npl = suite_placements(pls, false);
  for (int i = 0; i < g_suite.nimpls; i++)
    for (int p = 0; p < npl; p++)
      for (int c = 0; c < 2; c++)
        for (int k = 0; k < 4; k++) {
          struct sel_arg a = {
              g_suite.impls[i], pls[p], ks[k], caps[c], 1, 1, false};
          if (suite_wants("select_recv"))
            reg("select_recv", a);
          a.select_send = true;
          if (suite_wants("select_both") && (g_suite.full || ks[k] == 4))
            reg("select_both", a);
          if (suite_wants("select_many") && (g_suite.full || ks[k] == 4)) {
            a.producers = a.consumers = 2;
            reg("select_many", a);
            if (g_suite.full && 8 <= 4 * g_suite.npus) {
              a.producers = a.consumers = 4;
              reg("select_many", a);
            }
          }
        }
}
