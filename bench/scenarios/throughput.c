/*
 * throughput.c - SPSC, MPSC, SPMC and MPMC message throughput.
 *
 * Producers and consumers are role threads with fixed message counts (the
 * total split evenly), so the run ends without closing the channel; one
 * iteration is one message and the reported time is real (wall) time per
 * message. Capacities 0, 1, 128 and 1024; thread counts swept up to 4x the
 * PUs, because oversubscription is where spinning designs fall over.
 */
#include "../bench_common.h"

#include <stdlib.h>

struct tp_arg {
  const char *impl;
  const struct placement *pl;
  int64_t cap, producers, consumers;
  size_t elem_size; /* 8, or the payload sweep's size */
};

struct tp_shared {
  chan_t *ch;
  size_t elem_size;
};

static int tp_producer(struct role *r) {
  struct tp_shared *s = r->shared;
  _Alignas(64) unsigned char buf[4096] = {0};
  for (uint64_t i = 0; i < r->count; i++) {
    if (s->elem_size >= sizeof i)
      __builtin_memcpy(buf, &i, sizeof i);
    int rc = chan_send(s->ch, buf);
    if (rc != CHAN_OK)
      return role_fail(r, "send", rc);
  }
  return 0;
}

static int tp_consumer(struct role *r) {
  struct tp_shared *s = r->shared;
  _Alignas(64) unsigned char buf[4096];
  for (uint64_t i = 0; i < r->count; i++) {
    int rc = chan_recv(s->ch, buf);
    if (rc != CHAN_OK)
      return role_fail(r, "recv", rc);
  }
  return 0;
}

void bm_throughput(bench_state *st, void *user) {
  const struct tp_arg *a = user;
  int64_t batch;
  struct round *rd = malloc(sizeof *rd);
  struct cost cost = {0};
  int64_t msgs = 0;
  while (rd && bench_keep_running_batch(
                   st, batch = round_batch(st, 1000, g_suite.messages))) {
    struct tp_shared s = {bench_chan(st, a->impl, a->elem_size, (size_t)a->cap),
                          a->elem_size};
    if (!s.ch)
      break;
    int rc =
        round_run(rd, a->pl, (int)a->producers, tp_producer, (uint64_t)batch,
                  (int)a->consumers, tp_consumer, (uint64_t)batch, &s, NULL);
    chan_destroy(s.ch);
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
    bench_set_bytes_processed(st, msgs * (int64_t)a->elem_size);
    cost_report(st, &cost, (double)msgs);
  }
  free(rd);
}

static void reg(const char *shape, struct tp_arg a) {
  bench_def *b =
      suite_register(shape, a.impl, a.pl, bm_throughput, &a, sizeof a);
  bench_arg_names(b, (const char *const[]){"cap", "p", "c"}, 3);
  bench_args(b, (const int64_t[]){a.cap, a.producers, a.consumers}, 3);
  bench_use_manual_time(b);
}

void register_throughput(void) {
  static const int64_t caps[] = {0, 1, 128, 1024};
  const struct placement *pls[PLACE_NCLASSES];
  int npl_spsc = suite_placements(pls, true);
  const struct placement *sweep[PLACE_NCLASSES];
  int npl_sweep = suite_placements(sweep, false);
  int max_threads = 4 * g_suite.npus;
  if (max_threads > ROLES_MAX - 1)
    max_threads = ROLES_MAX - 1; /* n producers + 1 consumer */
  for (int i = 0; i < g_suite.nimpls; i++)
    for (int c = 0; c < 4; c++) {
      struct tp_arg a = {g_suite.impls[i], NULL, caps[c], 1, 1, 8};
      for (int p = 0; p < npl_spsc && suite_wants("spsc"); p++) {
        a.pl = pls[p];
        reg("spsc", a);
      }
      for (int p = 0; p < npl_sweep; p++) {
        a.pl = sweep[p];
        /* Many-to-one and one-to-many: 2, 4, ... producers (consumers) up to
         * 4x the PUs; many-to-many: n x n with 2n up to 4x the PUs. */
        for (int n = 2; n <= max_threads; n *= 2) {
          if (suite_wants("mpsc")) {
            a.producers = n, a.consumers = 1;
            reg("mpsc", a);
          }
          if (suite_wants("spmc")) {
            a.producers = 1, a.consumers = n;
            reg("spmc", a);
          }
          if (suite_wants("mpmc") && 2 * n <= max_threads) {
            a.producers = n, a.consumers = n;
            reg("mpmc", a);
          }
        }
      }
    }
}

void register_payload(void) {
  if (!suite_wants("payload"))
    return;
  static const int64_t sizes[] = {0, 8, 64, 256, 1024, 4096};
  const struct placement *pls[PLACE_NCLASSES];
  int npl = suite_placements(pls, false);
  for (int i = 0; i < g_suite.nimpls; i++)
    for (int p = 0; p < npl; p++)
      for (int s = 0; s < 6; s++) {
        struct tp_arg a = {g_suite.impls[i], pls[p], 128, 1, 1,
                           (size_t)sizes[s]};
        bench_def *b = suite_register("payload", a.impl, a.pl, bm_throughput,
                                      &a, sizeof a);
        bench_arg_names(b, (const char *const[]){"bytes", "cap"}, 2);
        bench_args(b, (const int64_t[]){sizes[s], 128}, 2);
        bench_use_manual_time(b);
      }
}
