/*
 * bench_common.c - the scenario list, the suite configuration, queues under
 * test, the latency histogram and the cost meters shared by the scenarios
 * (see bench_common.h; the role threads and rounds are in round.c).
 */
#include "bench_common.h"
#include "alloc_wrap.h"

#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#ifdef CHAN_BENCH_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

struct suite g_suite;

static int64_t clock_read(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- the scenarios ------------------------------------------------------- */

const struct scenario scenarios[] = {
#define SCENARIO(n, g, m, s) {#n, GROUP_##g, METRIC_##m, s, register_##n},
#include "scenarios.def"
#undef SCENARIO
    {NULL, 0, 0, NULL, NULL}};

const char *scenario_group_name(enum scenario_group g) {
  static const char *const names[] = {"queue", "floor", "pattern", "runtime"};
  return names[g];
}

const char *scenario_metric_name(enum scenario_metric m) {
  static const char *const names[] = {"rate", "latency", "time", "idle_cpu"};
  return names[m];
}

/* ---- the suite ----------------------------------------------------------- */

/* Absences recorded during registration, written into the context once. */
#define ABSENT_MAX 512
static struct {
  char key[96];
  char why[256];
} absent[ABSENT_MAX];
static int nabsent;

void suite_absent(const struct scenario *sc, const struct bq_ops *q,
                  const char *why) {
  char key[96];
  snprintf(key, sizeof key, "absent.%s.%s", sc->name, q->name);
  int i = 0;
  while (i < nabsent && strcmp(absent[i].key, key) != 0)
    i++;
  if (i == nabsent) {
    if (nabsent == ABSENT_MAX)
      return;
    snprintf(absent[i].key, sizeof absent[i].key, "%s", key);
    nabsent++;
  }
  char *w = absent[i].why;
  if (strstr(w, why))
    return; /* said already */
  size_t used = strlen(w);
  snprintf(w + used, sizeof absent[i].why - used, "%s%s", used ? "; " : "",
           why);
}

void suite_absent_flush(void) {
  for (int i = 0; i < nabsent; i++)
    bench_add_context(absent[i].key, absent[i].why);
  nabsent = 0;
}

int suite_queues(const struct scenario *sc, unsigned needs,
                 const struct bq_ops **out) {
  int n = 0;
  for (int i = 0; i < g_suite.nqueues; i++) {
    const struct bq_ops *q = g_suite.queues[i];
    unsigned missing = needs & ~q->features;
    if (!missing) {
      out[n++] = q;
      continue;
    }
    char why[128] = "lacks";
    for (unsigned bit = 1; bit < 1u << BQ_NFEATURES; bit <<= 1)
      if (missing & bit) {
        size_t used = strlen(why);
        snprintf(why + used, sizeof why - used, " %s", bq_feature_name(bit));
      }
    suite_absent(sc, q, why);
  }
  return n;
}

/* Test hook (bench_cli): CHANBENCH_TEST_DROP_CALL=N drops the N-th call of
 * every benchmark body as if it had run past its budget, so that some
 * repetitions of a benchmark end early and others do not. */
static _Thread_local bool test_drop_now;

bool suite_over_budget(bench_state *st, int64_t started_ns) {
  double budget = 20 * g_suite.min_time > 1 ? 20 * g_suite.min_time : 1;
  double ran = (double)(now_ns() - started_ns) * 1e-9;
  if (ran <= budget && !test_drop_now)
    return false;
  char why[160];
  if (test_drop_now)
    snprintf(why, sizeof why, "CHANBENCH_TEST_DROP_CALL");
  else
    snprintf(why, sizeof why,
             "ran %.1f s, past its %.0f s budget (the machine is busy)", ran,
             budget);
  bench_drop(st, why);
  return true;
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

/* The nearest pinned class with two different PUs that the suite runs
 * (PLACE_NCLASSES if none): "across cores" on this machine. */
static int cross_class(void) {
  for (int c = PLACE_SMT; c < PLACE_UNPINNED; c++)
    if (g_suite.place_on[c])
      return c;
  return PLACE_NCLASSES;
}

bool suite_measures(const struct scenario *sc, const struct bq_ops *q,
                    const struct where *w) {
  if (g_suite.full || q->features & BQ_CHAN)
    return true;
  const char *n = sc->name;
  bool pingpong = strcmp(n, "pingpong") == 0, spsc = strcmp(n, "spsc") == 0;
  bool sweep = strcmp(n, "mpsc") == 0 || strcmp(n, "spmc") == 0 ||
               strcmp(n, "mpmc") == 0;
  if (q->floor)
    return q->features & (BQ_MULTI_PRODUCER | BQ_MULTI_CONSUMER) ? sweep : spsc;
  if (w && w->exec == EXEC_FIBER)
    return pingpong || spsc;
  bool compares = pingpong || spsc || sweep || strcmp(n, "payload") == 0;
  return compares && w && w->pl &&
         (w->pl->cls == PLACE_UNPINNED ||
          (pingpong && (int)w->pl->cls == cross_class()));
}

int suite_wheres(const struct scenario *sc, const struct bq_ops *q,
                 bool all_in_quick, struct where *out) {
  struct where all[SUITE_WHERE_MAX];
  int n = 0;
  if (g_suite.exec_on[EXEC_THREAD]) {
    const struct placement *pls[PLACE_NCLASSES];
    int npl = suite_placements(pls, all_in_quick);
    for (int p = 0; p < npl; p++)
      all[n++] = (struct where){EXEC_THREAD, pls[p], NULL};
  }
  if (g_suite.exec_on[EXEC_FIBER]) {
    if (q->features & BQ_CHAN || q->fibers)
      all[n++] = (struct where){EXEC_FIBER, NULL, q->fibers};
    else
      suite_absent(sc, q,
                   "exec:fiber: neither a chanlab channel nor a library with "
                   "its own fiber scheduler (a blocked fiber would block its "
                   "worker thread)");
  }
  int kept = 0;
  for (int i = 0; i < n; i++)
    if (suite_measures(sc, q, &all[i]))
      out[kept++] = all[i];
  return kept;
}

/* ---- noise ----------------------------------------------------------------
 * What else the machine did while a benchmark ran, from /proc/stat: the CPU
 * time all processes used minus this process's own (other processes), and
 * the time the hypervisor gave our virtual CPUs to someone else (steal),
 * each as a share of the machine's capacity over the run. /proc/stat counts
 * in clock ticks (10 ms), so one repetition's figure is coarse (a 0.1 s
 * repetition on 2 PUs: steps of 5%) and none is given under 50 ms; the
 * report judges a benchmark by its repetitions together.
 */
struct noise {
  int64_t busy_ns, steal_ns; /* whole machine, from /proc/stat */
  int64_t self_ns, wall_ns;
  bool ok;
};

static void noise_snap(struct noise *n) {
  static int64_t tick_ns;
  if (!tick_ns)
    tick_ns = 1000000000 / sysconf(_SC_CLK_TCK);
  n->ok = false;
  n->wall_ns = now_ns();
  n->self_ns = clock_read(CLOCK_PROCESS_CPUTIME_ID);
  FILE *f = fopen("/proc/stat", "r");
  if (!f)
    return;
  unsigned long long user, nice, sys, idle, iowait, irq, softirq, steal = 0;
  if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &user, &nice,
             &sys, &idle, &iowait, &irq, &softirq, &steal) >= 7) {
    n->busy_ns = (int64_t)(user + nice + sys + irq + softirq) * tick_ns;
    n->steal_ns = (int64_t)steal * tick_ns;
    n->ok = true;
  }
  fclose(f);
}

/* What the fiber runtimes did per operation (an iteration is an operation,
 * a value or a link): resumes, hand-offs, steals, wake-ups, FUTEX_WAKEs...
 * Only where a runtime did anything, so thread rows carry none. */
static void sched_report(bench_state *st, const struct chan_debug_rt_stats *a,
                         const struct chan_debug_rt_stats *b) {
  double ops = (double)bench_iteration_count(st);
  if (ops <= 0 || b->resumes == a->resumes)
    return;
#define SCHED_COUNTER(name, what)                                              \
  bench_counter(st, "sched_" #name "_per_op", (double)(b->name - a->name) / ops, \
                BENCH_COUNTER_AVG_THREADS);
  CHAN_DEBUG_RT_COUNTERS(SCHED_COUNTER)
#undef SCHED_COUNTER
}

/* The benchmark as registered: the scenario's body between two noise
 * snapshots. Google Benchmark keeps the counters of a repetition's last
 * call, so each repetition carries its own noise figures. */
struct registered {
  bench_fn fn;
  _Atomic int calls; /* for the test hook */
  _Alignas(max_align_t) unsigned char arg[];
};

static void run_measured(bench_state *st, void *user) {
  struct registered *r = user;
  static int drop_call = -1;
  if (drop_call < 0) {
    const char *e = getenv("CHANBENCH_TEST_DROP_CALL");
    drop_call = e ? atoi(e) : 0;
  }
  test_drop_now =
      drop_call > 0 && atomic_fetch_add(&r->calls, 1) + 1 == drop_call;
  struct noise a, b;
  struct chan_debug_rt_stats sa, sb;
  exec_sched_snap(&sa);
  noise_snap(&a);
  r->fn(st, r->arg);
  noise_snap(&b);
  exec_sched_snap(&sb);
  sched_report(st, &sa, &sb);
  /* Below 50 ms (5 ticks) the tick counts say nothing. */
  double wall = (double)(b.wall_ns - a.wall_ns);
  if (!a.ok || !b.ok || wall < 50e6)
    return;
  double capacity = wall * g_suite.npus;
  double other = (double)((b.busy_ns - a.busy_ns) - (b.self_ns - a.self_ns));
  double steal = (double)(b.steal_ns - a.steal_ns);
  bench_counter(st, "noise_other_pct",
                other <= 0          ? 0
                : other >= capacity ? 100
                                    : 100 * other / capacity,
                BENCH_COUNTER_AVG_THREADS);
  bench_counter(st, "noise_steal_pct",
                steal >= capacity ? 100 : 100 * steal / capacity,
                BENCH_COUNTER_AVG_THREADS);
}

/* The registered argument blocks, freed after the run. */
static struct registered **registered;
static size_t nregistered, registered_cap;

void suite_release(void) {
  exec_release();
  for (size_t i = 0; i < nregistered; i++)
    free(registered[i]);
  free(registered);
  registered = NULL;
  nregistered = registered_cap = 0;
}

bench_def *suite_register_name(const char *name, bench_fn fn, const void *arg,
                               size_t arg_size) {
  struct registered *r = malloc(sizeof *r + arg_size);
  if (r && nregistered == registered_cap) {
    size_t cap = registered_cap ? 2 * registered_cap : 256;
    struct registered **grown = realloc(registered, cap * sizeof *grown);
    if (grown)
      registered = grown, registered_cap = cap;
  }
  if (!r || nregistered == registered_cap) {
    fprintf(stderr, "chanbench: out of memory registering %s\n", name);
    exit(1);
  }
  registered[nregistered++] = r;
  r->fn = fn;
  atomic_init(&r->calls, 0);
  if (arg_size)
    memcpy(r->arg, arg, arg_size);
  return bench_register(name, run_measured, r);
}

bench_def *suite_register(const struct scenario *sc, const struct bq_ops *q,
                          const struct placement *pl, bench_fn fn,
                          const void *arg, size_t arg_size) {
  char name[256];
  int len = snprintf(name, sizeof name, "%s", sc->name);
  if (q)
    len += snprintf(name + len, sizeof name - (size_t)len, "/impl:%s", q->name);
  if (pl)
    snprintf(name + len, sizeof name - (size_t)len, "/place:%s",
             place_class_name(pl->cls));
  return suite_register_name(name, fn, arg, arg_size);
}

bench_def *suite_register_labeled(const struct scenario *sc,
                                  const struct bq_ops *q, const struct where *w,
                                  const char *label, bench_fn fn,
                                  const void *arg, size_t arg_size) {
  char name[256];
  snprintf(name, sizeof name, "%s/impl:%s/exec:%s/place:%s%s%s", sc->name,
           q ? q->name : "?", exec_name(w->exec),
           w->exec == EXEC_FIBER ? "runtime" : place_class_name(w->pl->cls),
           label ? "/" : "", label ? label : "");
  return suite_register_name(name, fn, arg, arg_size);
}

bench_def *suite_register_at(const struct scenario *sc, const struct bq_ops *q,
                             const struct where *w, bench_fn fn,
                             const void *arg, size_t arg_size) {
  return suite_register_labeled(sc, q, w, NULL, fn, arg, arg_size);
}

/* ---- queues under test ------------------------------------------------- */

int queue_make(bench_state *st, const struct bq_ops *ops, size_t elem_size,
               size_t capacity, struct queue *q) {
  q->ops = ops;
  q->h = NULL;
  bq_fail(0, "%s: make failed", ops->name); /* if the row says nothing */
  if (ops->make(&q->h, elem_size, capacity) != 0) {
    q->h = NULL;
    bench_fail(st, bq_error());
    return -1;
  }
  return 0;
}

void queue_destroy(struct queue *q) {
  if (q->h)
    q->ops->destroy(q->h);
  q->h = NULL;
}

/* ---- time and latency ---------------------------------------------------- */

int64_t now_ns(void) {
  return clock_read(CLOCK_MONOTONIC);
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

void latency_report(bench_state *st, const struct hist *h) {
  bench_counter(st, "p50_ns", hist_quantile(h, 0.50), 0);
  bench_counter(st, "p99_ns", hist_quantile(h, 0.99), 0);
  bench_counter(st, "p999_ns", hist_quantile(h, 0.999), 0);
}

/* ---- cost meters ----------------------------------------------------------
 */

/* Bytes allocated by this thread: jemalloc's counter (any code), or the
 * wrapped malloc family's (chanlab code) with the system allocator. */
static _Thread_local uint64_t *je_allocated;
static _Thread_local bool je_looked_up;

static uint64_t thread_alloc_bytes(void) {
  if (!je_looked_up) {
    je_allocated = alloc_jemalloc_counter();
    je_looked_up = true;
  }
  if (je_allocated)
    return *je_allocated;
  return atomic_load_explicit(&alloc_wrap_bytes, memory_order_relaxed);
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
  /* CPU time from the thread's CPU clock, which counts nanoseconds:
   * getrusage's thread times move in scheduler ticks (4 ms on the reference
   * VM), longer than most rounds, so most rounds would record none. */
  c->cpu_ns = clock_read(CLOCK_THREAD_CPUTIME_ID);
  struct rusage ru;
  getrusage(RUSAGE_THREAD, &ru);
  c->vcsw = ru.ru_nvcsw;
  c->ivcsw = ru.ru_nivcsw;
  c->alloc_bytes = thread_alloc_bytes();
  c->alloc_calls =
      atomic_load_explicit(&alloc_wrap_calls, memory_order_relaxed);
}

void cost_snap_others(struct cost *c) {
  /* Process-wide clocks and counters minus this thread's own: the caller
   * (the benchmark's thread) only waits for the round. */
  c->cpu_ns = clock_read(CLOCK_PROCESS_CPUTIME_ID) -
              clock_read(CLOCK_THREAD_CPUTIME_ID);
  struct rusage self, me;
  getrusage(RUSAGE_SELF, &self);
  getrusage(RUSAGE_THREAD, &me);
  c->vcsw = self.ru_nvcsw - me.ru_nvcsw;
  c->ivcsw = self.ru_nivcsw - me.ru_nivcsw;
  struct alloc_total t;
  alloc_threads_total(&t);
  c->alloc_bytes = t.bytes;
  c->alloc_calls = t.calls;
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

chan_t *bench_chan(bench_state *st, const char *impl, size_t elem_size,
                   size_t capacity) {
  chan_t *ch = NULL;
  int rc = chan_make(&ch, impl, elem_size, capacity);
  if (rc != CHAN_OK) {
    char msg[256];
    snprintf(msg, sizeof msg, "chan_make(%s, %zu, %zu): %s (%s)", impl,
             elem_size, capacity, chan_strerror(rc), chan_last_error());
    bench_fail(st, msg);
    return NULL;
  }
  return ch;
}
