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
 * needed to end a round. Both executors: role threads, or role fibers
 * (exec:fiber; a select parks the fiber like any channel operation).
 */
#include "../bench_common.h"

#define SEL_MAX 16

struct sel_arg {
  const struct bq_ops *q;
  struct where w;
  int64_t k, cap, producers, consumers;
  bool select_send;
};

struct sel_shared {
  struct queue ch[SEL_MAX]; /* chanlab channels (BQ_CHAN): chan_t handles */
  int k;
  bool select_send;
};

static int sel_producer(struct role *r) {
  struct sel_shared *s = r->shared;
  uint64_t v = 0;
  struct chan_case cases[SEL_MAX];
  for (int i = 0; i < s->k; i++)
    cases[i] = (struct chan_case){s->ch[i].h, CHAN_SEND, &v};
  for (uint64_t i = 0; i < r->count; i++, v++) {
    size_t chosen;
    int rc =
        s->select_send
            ? chan_select(cases, (size_t)s->k, CHAN_FOREVER, &chosen)
            : chan_send(s->ch[(i + (uint64_t)r->k) % (uint64_t)s->k].h, &v);
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
    cases[i] = (struct chan_case){s->ch[i].h, CHAN_RECV, &v};
  chan_select_seed(0x5e1ec7 + (uint64_t)r->k);
  for (uint64_t i = 0; i < r->count; i++) {
    size_t chosen;
    int rc = chan_select(cases, (size_t)s->k, CHAN_FOREVER, &chosen);
    if (rc != CHAN_OK)
      return role_fail(r, "select recv", rc);
  }
  return 0;
}

static int sel_setup(bench_state *st, const void *arg, void *shared) {
  const struct sel_arg *a = arg;
  struct sel_shared *s = shared;
  s->k = (int)a->k;
  s->select_send = a->select_send;
  for (int i = 0; i < s->k; i++)
    if (queue_make(st, a->q, 8, (size_t)a->cap, &s->ch[i]) != 0)
      return -1;
  return 0;
}

static void sel_teardown(void *shared) {
  struct sel_shared *s = shared;
  for (int i = 0; i < s->k; i++)
    queue_destroy(&s->ch[i]);
}

static void bm_select(bench_state *st, void *user) {
  const struct sel_arg *a = user;
  const struct roles ro = {
      .side0 = sel_producer,
      .side1 = sel_consumer,
      .n0 = (int)a->producers,
      .n1 = (int)a->consumers,
      .batch_lo = 1000,
      .shared_size = sizeof(struct sel_shared),
      .setup = sel_setup,
      .teardown = sel_teardown,
  };
  round_drive(st, &a->w, &ro, a);
}

static void reg(const struct scenario *sc, struct sel_arg a) {
  bench_def *b = suite_register_at(sc, a.q, &a.w, bm_select, &a, sizeof a);
  bench_arg_names(b, (const char *const[]){"k", "cap", "p", "c"}, 4);
  bench_args(b, (const int64_t[]){a.k, a.cap, a.producers, a.consumers}, 4);
  bench_use_manual_time(b);
}

/* The full suite sweeps k = 2..16 and both capacities (select_many 2x2,
 * and 4x4 where the PUs allow) on both executors; the quick one runs
 * select_recv at k = 4 (both capacities on threads, capacity 0 on fibers),
 * and select_both and select_many (2x2) at k = 4, capacity 128, on
 * threads. */
static void register_select(const struct scenario *sc, bool select_send,
                            int many) {
  static const int64_t ks[] = {2, 4, 8, 16};
  static const int64_t caps[] = {0, 128};
  const struct bq_ops *qs[QUEUES_MAX];
  int nq = suite_queues(sc, BQ_CHAN, qs);
  for (int i = 0; i < nq; i++) {
    struct where ws[SUITE_WHERE_MAX];
    int nw = suite_wheres(sc, qs[i], false, ws);
    for (int p = 0; p < nw; p++)
      for (int c = 0; c < 2; c++)
        for (int k = 0; k < 4; k++) {
          bool fiber = ws[p].exec == EXEC_FIBER;
          if (!g_suite.full &&
              (ks[k] != 4 || (select_send && caps[c] != 128) ||
               (select_send && fiber) || (fiber && caps[c] != 0)))
            continue;
          struct sel_arg a = {qs[i], ws[p], ks[k], caps[c], 1, 1, select_send};
          if (!many) {
            reg(sc, a);
            continue;
          }
          for (int64_t n = 2; n <= many; n *= 2)
            if (n == 2 || (g_suite.full && 2 * n <= 4 * g_suite.npus)) {
              a.producers = a.consumers = n;
              reg(sc, a);
            }
        }
  }
}

void register_select_recv(const struct scenario *sc) {
  register_select(sc, false, 0);
}
void register_select_both(const struct scenario *sc) {
  register_select(sc, true, 0);
}
void register_select_many(const struct scenario *sc) {
  register_select(sc, true, 4);
}
