/*
 * round.c - roles and the round driver (see bench_common.h).
 *
 * A round starts every role and ends when the last has done its fixed
 * count; its wall time (first start to last end) is the manual time of the
 * round's iterations. On threads, the roles are pinned by placement and
 * wait at a barrier so they start together; each measures its own costs.
 * On fibers, the roles are fibers of one scheduler (struct bq_fibers:
 * chanlab's runtime, suite_fibers(), or a row's own, Boost.Fiber's), which
 * starts them together (chanlab's: they wait on a channel that is closed
 * once all are parked on it, since a barrier would block a worker thread
 * and the fibers queued behind it); the round's costs are then the rest of
 * the process's from the moment they are let go until the last has
 * returned (cost_snap_others: per-thread clocks do not follow a fiber from
 * worker to worker), the same meters whichever scheduler ran them.
 * round_run() is the one place roles are started; round_collect() the one
 * tally of a round; round_drive() the one loop of rounds.
 */
#include "bench_common.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- roles --------------------------------------------------------------- */

int role_fail(struct role *r, const char *what, int status) {
  snprintf(r->err, sizeof r->err, "%s: %s", what, chan_strerror(status));
  return -1;
}

static void *role_main(void *p) {
  struct role *r = p;
  int rc = place_pin_self(r->cpu);
  if (rc != 0)
    snprintf(r->err, sizeof r->err, "cannot pin to PU %d: %s", r->cpu,
             strerror(rc));
  if (rc != 0)
    atomic_fetch_add(r->pin_failures, 1);
  pthread_barrier_wait(r->start);
  /* The barrier orders every thread's pinning before anyone starts: if one
   * could not be pinned, none runs, since its peers would wait forever. */
  bool run = atomic_load(r->pin_failures) == 0;
  if (!run && rc == 0)
    snprintf(r->err, sizeof r->err, "not run: a peer could not be pinned");
  struct cost c0, c1;
  cost_snap(&c0);
  r->t_start = now_ns();
  if (run)
    r->fn(r);
  r->t_end = now_ns();
  cost_snap(&c1);
  memset(&r->cost, 0, sizeof r->cost);
  cost_add_delta(&r->cost, &c0, &c1);
  return NULL;
}

static void split(struct round *rd, int side, int n, role_fn f, uint64_t total,
                  const struct placement *pl, void *shared,
                  struct hist *hists) {
  for (int k = 0; k < n; k++) {
    struct role *r = &rd->roles[rd->nroles];
    memset(r, 0, sizeof *r);
    r->side = side;
    r->k = k;
    r->nside = n;
    r->cpu = pl ? placement_cpu(pl, side, k) : -1;
    r->count = total / (uint64_t)n + ((uint64_t)k < total % (uint64_t)n);
    r->shared = shared;
    r->hist = hists ? &hists[rd->nroles] : NULL;
    r->fn = f;
    rd->nroles++;
  }
}

/* After the roles of a round have ended: its span (first start to last
 * end) and the first error. */
static int round_collect(struct round *rd) {
  int64_t t0 = INT64_MAX, t1 = INT64_MIN;
  for (int i = 0; i < rd->nroles; i++) {
    struct role *r = &rd->roles[i];
    if (r->t_start < t0)
      t0 = r->t_start;
    if (r->t_end > t1)
      t1 = r->t_end;
    if (r->err[0] && !rd->err[0] && strncmp(r->err, "not run", 7) != 0)
      snprintf(rd->err, sizeof rd->err, "%s %d: %s",
               r->side ? "consumer" : "producer", r->k, r->err);
  }
  rd->elapsed_ns = t1 - t0;
  return rd->err[0] ? -1 : 0;
}

/* Starts the roles as threads, pinned, and waits for them; the round's cost
 * is the sum of theirs. */
static void run_threads(struct round *rd) {
  pthread_barrier_t start;
  pthread_barrier_init(&start, NULL, (unsigned)rd->nroles);
  _Atomic int pin_failures = 0;
  int started = 0;
  for (; started < rd->nroles; started++) {
    rd->roles[started].start = &start;
    rd->roles[started].pin_failures = &pin_failures;
    int rc = pthread_create(&rd->roles[started].thread, NULL, role_main,
                            &rd->roles[started]);
    if (rc != 0) {
      snprintf(rd->err, sizeof rd->err, "pthread_create: %s", strerror(rc));
      break;
    }
  }
  if (started < rd->nroles) {
    /* The started threads wait at the barrier forever; this is a resource
     * failure the benchmark cannot recover from. */
    fprintf(stderr, "chanbench: %s\n", rd->err);
    exit(1);
  }
  for (int i = 0; i < rd->nroles; i++)
    pthread_join(rd->roles[i].thread, NULL);
  pthread_barrier_destroy(&start);
  memset(&rd->cost, 0, sizeof rd->cost);
  for (int i = 0; i < rd->nroles; i++) {
    struct cost zero = {0};
    cost_add_delta(&rd->cost, &zero, &rd->roles[i].cost);
  }
}

/* ---- roles as fibers ------------------------------------------------------
 */

/* A role on a fiber, once the scheduler lets it go: runs, timing itself. */
static void role_fiber(void *arg, size_t i) {
  struct role *r = &((struct round *)arg)->roles[i];
  r->t_start = now_ns();
  r->fn(r);
  r->t_end = now_ns();
}

/* The fibers are all waiting to start: the round's costs begin here. */
static void fibers_go(void *arg) {
  cost_snap_others(&((struct round *)arg)->cost);
}

/* Runs the roles as fibers of fb; the round's cost is the rest of the
 * process's from fibers_go() until the last fiber returned. */
static void run_fibers(struct round *rd, const struct bq_fibers *fb) {
  struct cost end;
  if (fb->run((size_t)rd->nroles, role_fiber, fibers_go, rd) != 0) {
    snprintf(rd->err, sizeof rd->err, "%s: %s", fb->name, bq_error());
    return;
  }
  cost_snap_others(&end);
  struct cost start = rd->cost;
  memset(&rd->cost, 0, sizeof rd->cost);
  cost_add_delta(&rd->cost, &start, &end);
}

int round_run(struct round *rd, const struct placement *pl,
              const struct bq_fibers *fibers, int n0, role_fn f0,
              uint64_t total0, int n1, role_fn f1, uint64_t total1,
              void *shared, struct hist *hists) {
  rd->nroles = 0;
  rd->err[0] = '\0';
  if (n0 < 0 || n1 < 0 || n0 + n1 <= 0 || n0 + n1 > ROLES_MAX) {
    snprintf(rd->err, sizeof rd->err, "bad role counts %d+%d", n0, n1);
    return -1;
  }
  split(rd, 0, n0, f0, total0, fibers ? NULL : pl, shared, hists);
  split(rd, 1, n1, f1, total1, fibers ? NULL : pl, shared, hists);
  if (fibers)
    run_fibers(rd, fibers);
  else
    run_threads(rd);
  if (rd->err[0])
    return -1; /* the roles did not run */
  return round_collect(rd);
}

int64_t round_batch(bench_state *st, int64_t lo, int64_t hi) {
  int64_t want = bench_max_iterations(st) - bench_iteration_count(st);
  if (want < 1)
    return 1; /* the loop is over: Google Benchmark ends it */
  return want < lo ? want : want > hi ? hi : want;
}

void round_drive(bench_state *st, const struct where *w, const struct roles *ro,
                 const void *arg) {
  const int64_t hi = ro->batch_hi ? ro->batch_hi : g_suite.messages;
  const int nroles = ro->n0 + ro->n1;
  const size_t shared_size = (ro->shared_size + 63) / 64 * 64;
  struct round *rd = malloc(sizeof *rd);
  void *shared = aligned_alloc(64, shared_size ? shared_size : 64);
  struct hist *hists =
                  ro->latency ? calloc((size_t)nroles, sizeof *hists) : NULL,
              *total = ro->latency ? calloc(1, sizeof *total) : NULL;
  /* On fibers: the row's own scheduler, or chanlab's runtime. */
  const struct bq_fibers *fibers = w->exec != EXEC_FIBER ? NULL
                                   : w->own              ? w->own
                                            : suite_fibers(ro->runtime);
  if (!rd || !shared || (ro->latency && (!hists || !total))) {
    bench_fail(st, "out of memory");
  } else if (fibers && fibers->workers() == 0) {
    char msg[256];
    snprintf(msg, sizeof msg, "%s: %s", fibers->name, bq_error());
    bench_fail(st, msg);
  } else {
    struct cost cost = {0};
    int64_t batch, ops = 0, started = now_ns();
    while (bench_keep_running_batch(
        st, batch = round_batch(st, ro->batch_lo, hi))) {
      if (suite_over_budget(st, started))
        break;
      memset(shared, 0, shared_size);
      int rc = ro->setup ? ro->setup(st, arg, shared) : 0;
      if (rc == 0) {
        for (int i = 0; hists && i < nroles; i++)
          hist_clear(&hists[i]);
        rc = round_run(rd, w->pl, fibers, ro->n0, ro->side0, (uint64_t)batch,
                       ro->n1, ro->side1, (uint64_t)batch, shared, hists);
        if (rc == 0 && ro->verify)
          rc =
              ro->verify(arg, shared, (uint64_t)batch, rd->err, sizeof rd->err);
        if (rc != 0)
          bench_fail(st, rd->err);
      }
      if (ro->teardown)
        ro->teardown(shared);
      if (rc != 0)
        break;
      bench_set_iteration_time(st, (double)rd->elapsed_ns * 1e-9);
      for (int i = 0; hists && i < nroles; i++)
        hist_merge(total, &hists[i]);
      struct cost zero = {0};
      cost_add_delta(&cost, &zero, &rd->cost);
      ops += batch;
    }
    if (ops > 0) {
      bench_set_items_processed(st, ops);
      if (ro->report_bytes)
        bench_set_bytes_processed(st, ops * ro->bytes_per_op);
      if (total)
        latency_report(st, total);
      cost_report(st, &cost, (double)ops);
    }
  }
  free(total);
  free(hists);
  free(shared);
  free(rd);
}
