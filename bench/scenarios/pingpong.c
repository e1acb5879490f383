/*
 * pingpong.c - round-trip latency over two unbuffered queues.
 *
 * One thread sends on "ping" and waits on "pong"; its peer echoes. Every
 * round trip is timed into a histogram so the report shows p50/p99/p99.9,
 * not only the mean; the mean is Google Benchmark's time per iteration (one
 * iteration = one round trip, manual time). Runs on every placement the
 * machine has, next to the floors in floor.c. A queue without a rendezvous
 * uses capacity 1: with one value in flight at a time the round trip is the
 * same exchange. A row with a fiber scheduler of its own (Boost.Fiber) also
 * runs with its two roles as fibers of it (exec:fiber).
 */
#include "../bench_common.h"

struct pp_arg {
  const struct bq_ops *q;
  const struct placement *pl;
  const struct bq_fibers *fibers; /* exec:fiber on the row's own scheduler */
};

struct pp_shared {
  struct queue ping, pong;
};

static int pp_initiator(struct role *r) {
  const struct pp_shared *s = r->shared;
  const struct queue ping = s->ping, pong = s->pong;
  uint64_t v = 0;
  for (uint64_t i = 0; i < r->count; i++) {
    int64_t t = now_ns();
    int rc = ping.ops->send(ping.h, &v);
    if (rc != CHAN_OK)
      return role_fail(r, "send ping", rc);
    rc = pong.ops->recv(pong.h, &v);
    if (rc != CHAN_OK)
      return role_fail(r, "recv pong", rc);
    hist_add(r->hist, (uint64_t)(now_ns() - t));
    v++;
  }
  return 0;
}

static int pp_echo(struct role *r) {
  const struct pp_shared *s = r->shared;
  const struct queue ping = s->ping, pong = s->pong;
  uint64_t v;
  for (uint64_t i = 0; i < r->count; i++) {
    int rc = ping.ops->recv(ping.h, &v);
    if (rc != CHAN_OK)
      return role_fail(r, "recv ping", rc);
    rc = pong.ops->send(pong.h, &v);
    if (rc != CHAN_OK)
      return role_fail(r, "send pong", rc);
  }
  return 0;
}

static int pp_setup(bench_state *st, const void *arg, void *shared) {
  const struct pp_arg *a = arg;
  struct pp_shared *s = shared;
  size_t cap = a->q->features & BQ_RENDEZVOUS ? 0 : 1;
  if (queue_make(st, a->q, 8, cap, &s->ping) != 0)
    return -1;
  return queue_make(st, a->q, 8, cap, &s->pong);
}

static void pp_teardown(void *shared) {
  struct pp_shared *s = shared;
  queue_destroy(&s->ping);
  queue_destroy(&s->pong);
}

static void bm_pingpong(bench_state *st, void *user) {
  const struct pp_arg *a = user;
  const struct roles ro = {ROLES_ROUNDTRIP(pp_initiator, pp_echo),
                           .shared_size = sizeof(struct pp_shared),
                           .setup = pp_setup, .teardown = pp_teardown,
                           .fibers = a->fibers};
  round_drive(st, a->pl, &ro, a);
}

void register_pingpong(const struct scenario *sc) {
  const struct bq_ops *qs[QUEUES_MAX];
  int nq = suite_queues(sc, 0, qs);
  const struct placement *pls[PLACE_NCLASSES];
  int npl = suite_placements(pls, true);
  for (int i = 0; i < nq; i++)
    for (int p = 0; p < npl; p++) {
      if (!(qs[i]->features & BQ_BLOCKING) && pls[p]->cls == PLACE_SAME_PU) {
        suite_absent(sc, qs[i],
                     "spins: on one PU it would only measure yields");
        continue;
      }
      struct pp_arg a = {qs[i], pls[p], NULL};
      if (suite_measures(sc, a.q, a.pl, false))
        bench_use_manual_time(
            suite_register(sc, a.q, a.pl, bm_pingpong, &a, sizeof a));
      if (suite_own_fibers(a.q, a.pl) && suite_measures(sc, a.q, a.pl, true)) {
        a.fibers = a.q->fibers;
        bench_use_manual_time(suite_register_exec(sc, a.q, a.pl, "fiber",
                                                  bm_pingpong, &a, sizeof a));
      }
    }
}
