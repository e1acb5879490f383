/*
 * pingpong.c - round-trip latency over two unbuffered queues.
 *
 * One thread sends on "ping" and waits on "pong"; its peer echoes. Every
 * round trip is timed into a histogram so the report shows p50/p99/p99.9,
 * not only the mean; the mean is Google Benchmark's time per iteration (one
 * iteration = one round trip, manual time). Runs on every placement the
 * machine has, next to the floors in floor.c. A queue without a rendezvous
 * uses capacity 1: with one value in flight at a time the round trip is the
 * same exchange. On fibers (exec:fiber) the two are fibers of one runtime:
 * on chanlab's, the echo is woken to run next on the sender's worker (Go's
 * runnext), so the round trip is two switches in user space; a row with a
 * fiber scheduler of its own (Boost.Fiber) runs them as fibers of that.
 */
#include "../bench_common.h"

struct pp_arg {
  const struct bq_ops *q;
  struct where w;
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
                           .setup = pp_setup, .teardown = pp_teardown};
  round_drive(st, &a->w, &ro, a);
}

void register_pingpong(const struct scenario *sc) {
  const struct bq_ops *qs[QUEUES_MAX];
  int nq = suite_queues(sc, 0, qs);
  for (int i = 0; i < nq; i++) {
    struct where ws[SUITE_WHERE_MAX];
    int nw = suite_wheres(sc, qs[i], true, ws);
    for (int p = 0; p < nw; p++) {
      if (!(qs[i]->features & BQ_BLOCKING) && ws[p].exec == EXEC_THREAD &&
          ws[p].pl->cls == PLACE_SAME_PU) {
        suite_absent(sc, qs[i],
                     "spins: on one PU it would only measure yields");
        continue;
      }
      struct pp_arg a = {qs[i], ws[p]};
      bench_use_manual_time(
          suite_register_at(sc, a.q, &a.w, bm_pingpong, &a, sizeof a));
    }
  }
}
