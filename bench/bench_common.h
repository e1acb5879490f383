/*
 * bench_common.h - what every chanlab scenario shares: the scenario list
 * (scenarios.def), the suite's configuration (queues, placements, quick or
 * full), a latency histogram, the cost meters (CPU time, context switches,
 * allocations) and the round driver that runs a scenario's roles.
 *
 * Google Benchmark runs the same function on every one of its threads, which
 * fits symmetric scenarios (try-ops contention) but not producer/consumer
 * shapes; for those a benchmark iteration is one message and a "round" moves
 * a batch of them: start the role threads, let them move a fixed number of
 * messages, and report the round's wall time as manual time (real time, as
 * throughput needs). round_drive() is that loop, written once; a scenario
 * keeps only its roles and its per-round setup.
 */
#ifndef CHAN_BENCH_COMMON_H
#define CHAN_BENCH_COMMON_H

#include <chan/chan_debug.h>
#include "placement.h"
#include "queue.h"
#include "shim/bench_shim.h"

#include <chan/chan.h>
#include <chan/fiber.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* ---- the scenarios (scenarios.def) --------------------------------------- */

enum scenario_group { GROUP_QUEUE, GROUP_FLOOR, GROUP_PATTERN, GROUP_RUNTIME };
enum scenario_metric {
  METRIC_RATE,
  METRIC_LATENCY,
  METRIC_TIME,
  METRIC_IDLE_CPU
};

struct scenario {
  const char *name;
  enum scenario_group group;
  enum scenario_metric metric;
  const char *summary;
  void (*reg)(const struct scenario *sc); /* registers its benchmarks */
};

/* Every scenario, in scenarios.def order; a NULL name ends the list. */
extern const struct scenario scenarios[];

const char *scenario_group_name(enum scenario_group g);   /* "queue", ... */
const char *scenario_metric_name(enum scenario_metric m); /* "rate", ... */

#define SCENARIO(n, g, m, s) void register_##n(const struct scenario *sc);
#include "scenarios.def"
#undef SCENARIO

/* ---- executors ----------------------------------------------------------
 * Who runs a benchmark's goroutines (its roles, a pattern's components):
 * OS threads, or fibers of chanlab's M:N runtime (include/chan/fiber.h).
 * Scenarios with the executor axis name it in their benchmarks
 * (`exec:thread`, `exec:fiber`); on fibers the runtime places its workers
 * (one per PU, pinned by the runtime), so a fiber row has the one placement
 * `place:runtime` instead of the placement classes. Only chanlab's channels
 * (BQ_CHAN) run on fibers: a peer's queue would block the worker thread
 * under a blocked fiber, not park the fiber.
 */
enum exec { EXEC_THREAD, EXEC_FIBER };
#define EXEC_N 2
const char *exec_name(enum exec e); /* "thread", "fiber" */
int exec_from_name(const char *s);  /* -1 if unknown */
/* One line about what runs the goroutines (for --list and the JSON). */
const char *executor_summary(enum exec e);

/* The fiber runtimes chanbench uses, one of each kind per process, started
 * on first use (one worker per PU) and stopped by suite_release(). */
enum suite_rt {
  RT_MAIN,      /* guarded stacks (the default options) */
  RT_UNGUARDED, /* .unguarded = true: for 100000 fibers at once (a guarded
                   stack takes two of Linux's ~65530 mappings) */
  RT_SINGLE,    /* one worker: fibers that must share a thread (switches) */
};
#define SUITE_RT_N 3
/* The runtime of that kind, or NULL after failing the benchmark with the
 * reason. */
chan_rt *suite_runtime(bench_state *st, enum suite_rt kind);
/* The runtime of that kind as a fiber scheduler for a round's roles (struct
 * bq_fibers, queue.h): the round driver runs chanlab's fiber rounds and a
 * row's own scheduler's (Boost.Fiber) through the same interface. Its roles
 * wait on a chanlab channel until all are parked on it, then it is closed
 * (a barrier would block a worker thread, and the fibers queued behind
 * it). */
const struct bq_fibers *suite_fibers(enum suite_rt kind);
/* Stops and frees the runtimes (suite_release() calls it). */
void exec_release(void);
/* The scheduling counters of every fiber runtime started so far, summed
 * (chan_debug.h); a runtime started later counts from zero. */
void exec_sched_snap(struct chan_debug_rt_stats *out);

/* Where a benchmark's roles run: an executor and, for threads, a
 * placement class (NULL for fibers, whose runtime places them: every fiber
 * row is `place:runtime`). On fibers, whose: chanlab's runtime (own NULL),
 * or a queue row's own scheduler (bq_ops.fibers, Boost.Fiber's). */
struct where {
  enum exec exec;
  const struct placement *pl;
  const struct bq_fibers *own;
};

/* One goroutine of a benchmark: a thread, or a fiber. */
struct task {
  pthread_t thread;
  chan_fiber *fiber;
  bool started;
};
/* Starts fn(arg) on executor e: a new thread, or a fiber of rt (for a
 * fiber, NULL means the calling fiber's runtime). 0, or -1 with the reason
 * in err. */
int task_start(struct task *t, enum exec e, chan_rt *rt, void *(*fn)(void *),
               void *arg, char *err, size_t errlen);
/* Waits for a started task and returns fn's result (NULL if never
 * started). */
void *task_join(struct task *t);
/* Runs fn(arg) on e and waits for it: on the calling thread, or on a new
 * fiber of the suite's RT_MAIN runtime (rt NULL) or of rt. Returns 0 and
 * stores fn's result in *ret (if not NULL), or -1 after failing the
 * benchmark. */
int exec_call(bench_state *st, enum exec e, chan_rt *rt, void *(*fn)(void *),
              void *arg, void **ret);
/* Lets other goroutines run while waiting for one: chan_fiber_yield on a
 * fiber, sched_yield on a thread. */
void exec_yield(void);

/* ---- the suite ----------------------------------------------------------- */

#define QUEUES_MAX 64

struct suite {
  struct topo *topo;
  int npus;
  bool full; /* --full: every axis; otherwise the quick suite */
  const struct bq_ops *queues[QUEUES_MAX]; /* queue rows to run */
  int nqueues;
  bool place_on[PLACE_NCLASSES]; /* placements selected (and available) */
  bool exec_on[2];               /* executors selected (enum exec) */
  int64_t messages;              /* messages per round (throughput scenarios) */
  double min_time;               /* seconds per repetition */
};

extern struct suite g_suite;

/* The suite's queue rows that have every feature in needs, into out[]
 * (QUEUES_MAX); returns the count. A row lacking some is recorded as absent
 * from sc, with the missing features named. */
int suite_queues(const struct scenario *sc, unsigned needs,
                 const struct bq_ops **out);

/* Records in the JSON context (`absent.<scenario>.<queue>`) why sc has no
 * benchmark (or not every configuration) for queue q. */
void suite_absent(const struct scenario *sc, const struct bq_ops *q,
                  const char *why);

/* Writes the recorded absences into the JSON context (once, before the run). */
void suite_absent_flush(void);

/* Frees what the registrations hold (after the run). */
void suite_release(void);

/* True, after dropping the repetition as noisy (bench_drop), when the
 * benchmark body that started at started_ns (now_ns()) has run past its
 * budget, 20x the minimum time and at least 1 s. Google Benchmark fixes a
 * repetition's iterations from the first one, so a machine that turns busy
 * (a spinning floor time-slicing with other processes: 300x slower) would
 * otherwise stretch one repetition to minutes. Loops call it between rounds. */
bool suite_over_budget(bench_state *st, int64_t started_ns);

/* Placements to use for a multi-thread scenario: all selected ones (full or
 * when all_in_quick), else only "unpinned". Fills out[] and returns the
 * count. */
int suite_placements(const struct placement **out, bool all_in_quick);

/* Registers a benchmark named "<scenario>/impl:<queue>/place:<place>" (parts
 * that are NULL are left out) with a heap copy of the given argument block,
 * which stays alive until suite_release(), after the run. */
bench_def *suite_register(const struct scenario *sc, const struct bq_ops *q,
                          const struct placement *pl, bench_fn fn,
                          const void *arg, size_t arg_size);

/* Whether the suite measures queue row q in scenario sc at w (NULL for
 * scenarios without executors or placements); the scenario's own
 * quick/full rules apply on top. The full suite measures every row
 * everywhere. The quick suite keeps its budget by measuring chanlab's rows
 * everywhere and fewer of the others: a peer only in the scenarios that
 * compare queues (ping-pong, the throughput shapes, payload), on threads
 * where the OS places them ("unpinned") and, for ping-pong, also across
 * cores (the nearest pinned class with two PUs); a row's own fibers in
 * ping-pong and SPSC; a floor only in the shapes it is the floor of (a
 * single-producer ring in SPSC, a multi-producer one in MPSC, SPMC and
 * MPMC). */
bool suite_measures(const struct scenario *sc, const struct bq_ops *q,
                    const struct where *w);

/* Registers fn under a name made by the caller (the scenarios without a
 * queue: "<scenario>/impl:<what>/place:<placement>"), as suite_register()
 * does. */
bench_def *suite_register_name(const char *name, bench_fn fn, const void *arg,
                               size_t arg_size);

/* The executors and placements to run queue q on in scenario sc: threads on
 * each of suite_placements(all_in_quick), then fibers on `place:runtime`:
 * chanlab's runtime for a chanlab channel, the row's own scheduler for a
 * row that has one (bq_ops.fibers); for any other row the reason is
 * recorded as absent. Only those suite_measures() keeps. Fills out[]
 * (SUITE_WHERE_MAX) and returns the count. */
#define SUITE_WHERE_MAX (PLACE_NCLASSES + 1)
int suite_wheres(const struct scenario *sc, const struct bq_ops *q,
                 bool all_in_quick, struct where *out);

/* Registers "<scenario>/impl:<queue>/exec:<executor>/place:<placement>",
 * as suite_register() does; a fiber benchmark's placement is `runtime`. */
bench_def *suite_register_at(const struct scenario *sc, const struct bq_ops *q,
                             const struct where *w, bench_fn fn,
                             const void *arg, size_t arg_size);
/* The same with a label after the placement ("stacks:unguarded"): a
 * name part that identifies what was measured, not a configuration. */
bench_def *suite_register_labeled(const struct scenario *sc,
                                  const struct bq_ops *q, const struct where *w,
                                  const char *label, bench_fn fn,
                                  const void *arg, size_t arg_size);

/* ---- queues under test ------------------------------------------------- */

/* A queue made from a row: what the roles call. */
struct queue {
  const struct bq_ops *ops;
  void *h;
};

/* Makes a queue, or skips the benchmark with the reason and returns -1. */
int queue_make(bench_state *st, const struct bq_ops *ops, size_t elem_size,
               size_t capacity, struct queue *q);
/* Destroys a queue made by queue_make (nothing for one never made). */
void queue_destroy(struct queue *q);

/* ---- time and latency ---------------------------------------------------- */

int64_t now_ns(void);

/* Log-linear histogram of nanosecond latencies: exact below 64 ns, then 32
 * sub-buckets per power of two (about 3% resolution). */
#define HIST_BUCKETS (64 + 40 * 32)
struct hist {
  uint64_t count[HIST_BUCKETS];
  uint64_t n;
};
void hist_clear(struct hist *h);
void hist_add(struct hist *h, uint64_t ns);
void hist_merge(struct hist *into, const struct hist *from);
/* The value at quantile q in [0,1] (upper edge of its bucket). */
double hist_quantile(const struct hist *h, double q);
/* Reports p50_ns, p99_ns and p999_ns counters from h. */
void latency_report(bench_state *st, const struct hist *h);

/* ---- cost meters ----------------------------------------------------------
 */

/* A snapshot of the calling thread's costs. */
struct cost {
  int64_t cpu_ns;       /* user + system CPU time */
  int64_t vcsw, ivcsw;  /* voluntary and involuntary context switches */
  uint64_t alloc_bytes; /* bytes allocated (jemalloc's thread.allocated) */
  uint64_t alloc_calls; /* allocation calls from chanlab code */
};
void cost_snap(struct cost *c);
/* A snapshot of the costs of the rest of the process: its CPU clock and
 * getrusage(RUSAGE_SELF) minus the calling thread's own, and the allocation
 * counters of every thread chanlab code started (alloc_wrap.h). What a
 * round of fibers costs: a fiber moves between worker threads, so no
 * per-thread clock follows it. */
void cost_snap_others(struct cost *c);
/* into += (end - start) */
void cost_add_delta(struct cost *into, const struct cost *start,
                    const struct cost *end);
/* Reports cost per message as counters: cpu_ns_per_msg, vcsw_per_msg,
 * alloc_bytes_per_op, allocs_per_op. */
void cost_report(bench_state *st, const struct cost *total, double messages);

/* The allocator in use ("jemalloc 5.3.0..." or "system malloc"). */
const char *alloc_name(void);
bool alloc_is_jemalloc(void);

/* ---- role threads and rounds --------------------------------------------- */

#define ROLES_MAX 1024

struct role;
typedef int (*role_fn)(struct role *r); /* returns 0 or -1 with r->err set */

struct role {
  int side;          /* 0 = producer side, 1 = consumer side */
  int k;             /* index within the side */
  int nside;         /* threads on this side */
  int cpu;           /* pinned OS PU, or -1 */
  uint64_t count;    /* messages (or operations) this thread must do */
  void *shared;      /* the scenario's shared state */
  struct hist *hist; /* optional per-thread latency histogram */
  /* results */
  int64_t t_start, t_end;
  struct cost cost;
  char err[160];
  /* internal */
  role_fn fn;
  pthread_barrier_t *start;  /* threads: the start barrier */
  _Atomic int *pin_failures; /* any > 0: nobody runs (a peer would hang) */
  pthread_t thread;
};

struct round {
  int nroles;
  struct role roles[ROLES_MAX];
  int64_t elapsed_ns; /* first start to last end */
  struct cost cost;   /* the roles' (fibers: the rest of the process's) */
  char err[200];      /* first error, if any */
};

/* Runs one round: n0 roles run f0 on side 0 sharing total0 operations, n1
 * roles run f1 on side 1 sharing total1: threads pinned by pl and started
 * together at a barrier (fibers NULL), or fibers of that scheduler,
 * started together by it (bq_fibers.run). The same counts, wall time
 * (first start to last end) and checks either way. The cost of a thread
 * round is the roles' own (each thread's meters); of a fiber round, the
 * rest of the process's from the moment the fibers are let go until the
 * last has returned (cost_snap_others: per-thread clocks do not follow a
 * fiber from worker to worker), whichever scheduler ran them. This is the
 * one place roles are started. Returns 0, or -1 with r->err set (start
 * failure or a role's error). */
int round_run(struct round *r, const struct placement *pl,
              const struct bq_fibers *fibers, int n0, role_fn f0,
              uint64_t total0, int n1, role_fn f1, uint64_t total1,
              void *shared, struct hist *hists);

/* Operations per round: what Google Benchmark still wants, at most hi (so
 * slow configurations do not run far past the minimum time), and at least
 * lo (to amortize starting the threads) unless fewer are wanted. Never more
 * than wanted: every repetition of a benchmark, one that ends early with an
 * error included, then reports exactly the iterations Google Benchmark asked
 * for, which its statistics check (they abort on a mismatch). Loops with a
 * fixed unit of work ask round_batch(st, n, n). */
int64_t round_batch(bench_state *st, int64_t lo, int64_t hi);

/* A round-based scenario: its roles and its per-round state. */
struct roles {
  role_fn side0, side1; /* producer (initiator) side, consumer (echo) side */
  int n0, n1;           /* threads per side */
  /* Operations per round, each side: round_batch() within [batch_lo,
   * batch_hi] (0: the suite's --messages). */
  int64_t batch_lo, batch_hi;
  size_t shared_size; /* the round's shared state, zeroed, 64-byte aligned */
  /* Before each round, untimed: fills the shared state (makes the queues);
   * 0, or -1 after skipping the benchmark with the reason. */
  int (*setup)(bench_state *st, const void *arg, void *shared);
  /* After a round that ran: checks what the roles did (e.g. that every
   * value arrived once); 0, or -1 with a message in err. May be NULL. */
  int (*verify)(const void *arg, void *shared, uint64_t ops, char *err,
                size_t errlen);
  /* After each round, also after a failed setup (so it must cope with a
   * half-made state); may be NULL. */
  void (*teardown)(void *shared);
  /* On chanlab's fibers: which runtime (default RT_MAIN); a row's own
   * scheduler (where.own) has one. */
  enum suite_rt runtime;
  bool latency;         /* roles fill r->hist: report p50/p99/p99.9 */
  bool report_bytes;    /* report bytes per second too, */
  int64_t bytes_per_op; /* counting this many bytes per operation */
};

/* A round trip: one initiator timing each exchange into its histogram, one
 * echo, and round sizes fit for latency (a round trip costs up to tens of
 * microseconds). The caller adds its shared state, setup and teardown. */
#define ROLES_ROUNDTRIP(init, echo)                                            \
  .side0 = (init), .side1 = (echo), .n0 = 1, .n1 = 1, .batch_lo = 200,         \
  .batch_hi = g_suite.full ? 5000 : 2000, .latency = true

/* The round loop every round-based scenario runs: rounds until Google
 * Benchmark has its iterations, each round's wall time as manual time, then
 * items (and bytes) processed, latency percentiles and cost per message. */
void round_drive(bench_state *st, const struct where *w, const struct roles *ro,
                 const void *arg);

/* Formats "what: status" into r->err; returns -1 for chaining. */
int role_fail(struct role *r, const char *what, int status);

/* Makes a chanlab channel or skips the benchmark with the reason; NULL on
 * failure. For the scenarios that need chanlab's own API (BQ_CHAN). */
chan_t *bench_chan(bench_state *st, const char *impl, size_t elem_size,
                   size_t capacity);

#endif /* CHAN_BENCH_COMMON_H */
