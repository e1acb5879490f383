/*
 * bench_common.c - the suite configuration, latency histogram, cost meters
 * and role runner shared by the scenarios (see bench_common.h).
 */
#include "bench_common.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#ifdef CHAN_BENCH_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

struct suite g_suite;

bool suite_wants(const char *scenario) {
  const char *f = g_suite.scenario_filter;
  if (!f || !*f)
    return true;
  size_t n = strlen(scenario);
  for (const char *p = f; *p;) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    if (len == n && strncmp(p, scenario, n) == 0)
      return true;
    if (!comma)
      break;
    p = comma + 1;
  }
  return false;
}

int suite_placements(const struct placement **out, bool all_in_quick) {
  int n = 0;
  for (int c = 0; c < PLACE_NCLASSES; c++) {
    const struct placement *pl = topo_placement(g_suite.topo, c);
    if (!pl->available || !g_suite.place_on[c])
      continue;
    /* The quick suite sweeps threads only where the OS places them; the
     * placement axis is covered by ping-pong, SPSC and the floors. */
    if (!g_suite.full && !all_in_quick && c != PLACE_UNPINNED)
      continue;
    out[n++] = pl;
  }
  /* --placement without "unpinned" in the quick suite: sweep the first
   * selected placement rather than nothing. */
  for (int c = 0; n == 0 && c < PLACE_NCLASSES; c++)
    if (g_suite.place_on[c])
      out[n++] = topo_placement(g_suite.topo, c);
  return n;
}

bench_def *suite_register(const char *scenario, const char *impl,
                          const struct placement *pl, bench_fn fn,
                          const void *arg, size_t arg_size) {
  char name[256];
  int len = snprintf(name, sizeof name, "%s", scenario);
  if (impl)
    len += snprintf(name + len, sizeof name - (size_t)len, "/impl:%s", impl);
  if (pl)
    snprintf(name + len, sizeof name - (size_t)len, "/place:%s",
             place_class_name(pl->cls));
  void *copy = malloc(arg_size ? arg_size : 1);
  if (!copy) {
    fprintf(stderr, "chanbench: out of memory registering %s\n", name);
    exit(1);
  }
  if (arg_size)
    memcpy(copy, arg, arg_size);
  return bench_register(name, fn, copy);
}

/* ---- time and latency ---------------------------------------------------- */

int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void hist_clear(struct hist *h) {
  memset(h, 0, sizeof *h);
}

static int hist_index(uint64_t v) {
  if (v < 64)
    return (int)v;
  int msb = 63 - __builtin_clzll(v); /* >= 6 */
  int idx = 64 + (msb - 6) * 32 + (int)((v >> (msb - 5)) & 31);
  return idx < HIST_BUCKETS ? idx : HIST_BUCKETS - 1;
}

static double hist_upper(int idx) {
  if (idx < 64)
    return idx;
  int msb = (idx - 64) / 32 + 6, sub = (idx - 64) % 32;
  return (double)((uint64_t)(32 + sub + 1) << (msb - 5));
}

void hist_add(struct hist *h, uint64_t ns) {
  h->count[hist_index(ns)]++;
  h->n++;
}

void hist_merge(struct hist *into, const struct hist *from) {
  for (int i = 0; i < HIST_BUCKETS; i++)
    into->count[i] += from->count[i];
  into->n += from->n;
}

double hist_quantile(const struct hist *h, double q) {
  if (h->n == 0)
    return 0;
  uint64_t rank = (uint64_t)(q * (double)(h->n - 1)) + 1, seen = 0;
  for (int i = 0; i < HIST_BUCKETS; i++) {
    seen += h->count[i];
    if (seen >= rank)
      return hist_upper(i);
  }
  return hist_upper(HIST_BUCKETS - 1);
}

/* ---- cost meters ----------------------------------------------------------
 */

/* Allocation calls made by chanlab code on this thread, counted by the
 * linker-wrapped malloc family in alloc_wrap.c. */
extern _Thread_local uint64_t alloc_wrap_calls;
extern _Thread_local uint64_t alloc_wrap_bytes;

#ifdef CHAN_BENCH_JEMALLOC
static _Thread_local uint64_t *je_allocated;
static _Thread_local bool je_looked_up;
#endif

static uint64_t thread_alloc_bytes(void) {
#ifdef CHAN_BENCH_JEMALLOC
  if (!je_looked_up) {
    size_t sz = sizeof je_allocated;
    if (mallctl("thread.allocatedp", &je_allocated, &sz, NULL, 0) != 0)
      je_allocated = NULL;
    je_looked_up = true;
  }
  if (je_allocated)
    return *je_allocated;
#endif
  return alloc_wrap_bytes;
}

bool alloc_is_jemalloc(void) {
#ifdef CHAN_BENCH_JEMALLOC
  return true;
#else
  return false;
#endif
}

const char *alloc_name(void) {
#ifdef CHAN_BENCH_JEMALLOC
  static char name[96];
  const char *version = NULL;
  size_t sz = sizeof version;
  if (mallctl("version", &version, &sz, NULL, 0) != 0)
    version = "?";
  snprintf(name, sizeof name, "jemalloc %s", version);
  return name;
#else
  return "system malloc (glibc)";
#endif
}

void cost_snap(struct cost *c) {
  struct rusage ru;
  getrusage(RUSAGE_THREAD, &ru);
  c->cpu_ns = ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
              ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
  c->vcsw = ru.ru_nvcsw;
  c->ivcsw = ru.ru_nivcsw;
  c->alloc_bytes = thread_alloc_bytes();
  c->alloc_calls = alloc_wrap_calls;
}

void cost_add_delta(struct cost *into, const struct cost *a,
                    const struct cost *b) {
  into->cpu_ns += b->cpu_ns - a->cpu_ns;
  into->vcsw += b->vcsw - a->vcsw;
  into->ivcsw += b->ivcsw - a->ivcsw;
  into->alloc_bytes += b->alloc_bytes - a->alloc_bytes;
  into->alloc_calls += b->alloc_calls - a->alloc_calls;
}

void cost_report(bench_state *st, const struct cost *t, double messages) {
  if (messages <= 0)
    return;
  bench_counter(st, "cpu_ns_per_msg", (double)t->cpu_ns / messages, 0);
  bench_counter(st, "vcsw_per_msg", (double)t->vcsw / messages, 0);
  bench_counter(st, "alloc_bytes_per_op", (double)t->alloc_bytes / messages, 0);
  bench_counter(st, "allocs_per_op", (double)t->alloc_calls / messages, 0);
}

/* ---- role threads -------------------------------------------------------- */

int role_fail(struct role *r, const char *what, int status) {
  snprintf(r->err, sizeof r->err, "%s: %s (%s)", what, chan_strerror(status),
           chan_last_error());
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
    r->cpu = placement_cpu(pl, side, k);
    r->count = total / (uint64_t)n + ((uint64_t)k < total % (uint64_t)n);
    r->shared = shared;
    r->hist = hists ? &hists[rd->nroles] : NULL;
    r->fn = f;
    rd->nroles++;
  }
}

int round_run(struct round *rd, const struct placement *pl, int n0, role_fn f0,
              uint64_t total0, int n1, role_fn f1, uint64_t total1,
              void *shared, struct hist *hists) {
  rd->nroles = 0;
  rd->err[0] = '\0';
  if (n0 < 0 || n1 < 0 || n0 + n1 <= 0 || n0 + n1 > ROLES_MAX) {
    snprintf(rd->err, sizeof rd->err, "bad thread counts %d+%d", n0, n1);
    return -1;
  }
  split(rd, 0, n0, f0, total0, pl, shared, hists);
  split(rd, 1, n1, f1, total1, pl, shared, hists);
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
  int64_t t0 = INT64_MAX, t1 = INT64_MIN;
  memset(&rd->cost, 0, sizeof rd->cost);
  for (int i = 0; i < rd->nroles; i++) {
    struct role *r = &rd->roles[i];
    if (r->t_start < t0)
      t0 = r->t_start;
    if (r->t_end > t1)
      t1 = r->t_end;
    struct cost zero = {0};
    cost_add_delta(&rd->cost, &zero, &r->cost);
    if (r->err[0] && !rd->err[0] && strncmp(r->err, "not run", 7) != 0)
      snprintf(rd->err, sizeof rd->err, "%s %d: %s",
               r->side ? "consumer" : "producer", r->k, r->err);
  }
  rd->elapsed_ns = t1 - t0;
  return rd->err[0] ? -1 : 0;
}

int64_t round_batch(bench_state *st, int64_t lo, int64_t hi) {
  int64_t want = bench_max_iterations(st) - bench_iteration_count(st);
  return want < lo ? lo : want > hi ? hi : want;
}

chan_t *bench_chan(bench_state *st, const char *impl, size_t elem_size,
                   size_t capacity) {
  chan_t *ch = NULL;
  int rc = chan_make(&ch, impl, elem_size, capacity);
  if (rc != CHAN_OK) {
    char msg[256];
    snprintf(msg, sizeof msg, "chan_make(%s, %zu, %zu): %s (%s)", impl,
             elem_size, capacity, chan_strerror(rc), chan_last_error());
    bench_skip_with_error(st, msg);
    return NULL;
  }
  return ch;
}
