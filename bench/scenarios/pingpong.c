/*
 * pingpong.c - round-trip latency over two unbuffered channels.
 *
 * One thread sends on "ping" and waits on "pong"; its peer echoes. Every
 * round trip is timed into a histogram so the report shows p50/p99/p99.9,
 * not only the mean; the mean is Google Benchmark's time per iteration (one
 * iteration = one round trip, manual time). Runs on every placement the
 * machine has, next to the floors in floor.c.
 */
#include "../bench_common.h"

#include <stdlib.h>

struct pp_arg {
  const char *impl;
  const struct placement *pl;
};

struct pp_shared {
  chan_t *ping, *pong;
};

static int pp_initiator(struct role *r) {
  struct pp_shared *s = r->shared;
  uint64_t v = 0;
  for (uint64_t i = 0; i < r->count; i++) {
    int64_t t = now_ns();
    int rc = chan_send(s->ping, &v);
    if (rc != CHAN_OK)
      return role_fail(r, "send ping", rc);
    rc = chan_recv(s->pong, &v);
    if (rc != CHAN_OK)
      return role_fail(r, "recv pong", rc);
    hist_add(r->hist, (uint64_t)(now_ns() - t));
    v++;
  }
  return 0;
}

static int pp_echo(struct role *r) {
  struct pp_shared *s = r->shared;
  uint64_t v;
  for (uint64_t i = 0; i < r->count; i++) {
    int rc = chan_recv(s->ping, &v);
    if (rc != CHAN_OK)
      return role_fail(r, "recv ping", rc);
    rc = chan_send(s->pong, &v);
    if (rc != CHAN_OK)
      return role_fail(r, "send pong", rc);
  }
  return 0;
}

void latency_report(bench_state *st, const struct hist *h) {
  bench_counter(st, "p50_ns", hist_quantile(h, 0.50), 0);
  bench_counter(st, "p99_ns", hist_quantile(h, 0.99), 0);
  bench_counter(st, "p999_ns", hist_quantile(h, 0.999), 0);
}

static void bm_pingpong(bench_state *st, void *user) {
  const struct pp_arg *a = user;
  const int64_t hi = g_suite.full ? 5000 : 2000;
  int64_t batch;
  struct hist *hists = calloc(2, sizeof *hists), total;
  struct round *rd = malloc(sizeof *rd);
  struct cost cost = {0};
  hist_clear(&total);
  int64_t trips = 0;
  while (rd && hists &&
         bench_keep_running_batch(st, batch = round_batch(st, 200, hi))) {
    struct pp_shared s = {bench_chan(st, a->impl, 8, 0), NULL};
    if (s.ping)
      s.pong = bench_chan(st, a->impl, 8, 0);
    if (!s.pong) {
      chan_destroy(s.ping);
      break;
    }
    hist_clear(&hists[0]);
    int rc = round_run(rd, a->pl, 1, pp_initiator, (uint64_t)batch, 1, pp_echo,
                       (uint64_t)batch, &s, hists);
    chan_destroy(s.ping);
    chan_destroy(s.pong);
    if (rc != 0) {
      bench_skip_with_error(st, rd->err);
      break;
    }
    bench_set_iteration_time(st, (double)rd->elapsed_ns * 1e-9);
    hist_merge(&total, &hists[0]);
    struct cost zero = {0};
    cost_add_delta(&cost, &zero, &rd->cost);
    trips += batch;
  }
  if (trips > 0) {
    bench_set_items_processed(st, trips);
    latency_report(st, &total);
    cost_report(st, &cost, (double)trips);
  }
  free(hists);
  free(rd);
}

void register_pingpong(void) {
  if (!suite_wants("pingpong"))
    return;
  const struct placement *pls[PLACE_NCLASSES];
  int npl = suite_placements(pls, true);
  for (int i = 0; i < g_suite.nimpls; i++)
    for (int p = 0; p < npl; p++) {
      struct pp_arg a = {g_suite.impls[i], pls[p]};
      bench_use_manual_time(
          suite_register("pingpong", a.impl, a.pl, bm_pingpong, &a, sizeof a));
    }
}
