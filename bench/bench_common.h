/*
 * bench_common.h - what every chanlab scenario shares: the suite's
 * configuration (implementations, placements, quick or full), a latency
 * histogram, the cost meters (CPU time, context switches, allocations) and
 * the role runner that gives producers and consumers their own pinned
 * threads with fixed message counts.
 *
 * Google Benchmark runs the same function on every one of its threads, which
 * fits symmetric scenarios (try-ops contention) but not producer/consumer
 * shapes; for those a benchmark iteration is one "round": start the role
 * threads, let them move a fixed number of messages, and report the round's
 * wall time as manual time (real time, as throughput needs).
 */
#ifndef CHAN_BENCH_COMMON_H
#define CHAN_BENCH_COMMON_H

#include "placement.h"
#include "shim/bench_shim.h"

#include <chan/chan.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* ---- the suite ----------------------------------------------------------- */

struct suite {
  struct topo *topo;
  int npus;
  bool full;             /* --full: every axis; otherwise the quick suite */
  const char *impls[16]; /* implementations to run */
  int nimpls;
  bool place_on[PLACE_NCLASSES]; /* placements selected (and available) */
  const char *scenario_filter;   /* comma list of scenario names, or NULL */
  int64_t messages;              /* messages per round (throughput scenarios) */
};

extern struct suite g_suite;

/* True if scenario name is selected by --scenario. */
bool suite_wants(const char *scenario);

/* Placements to use for a multi-thread scenario: all selected ones (full or
 * when all_in_quick), else only "unpinned". Fills out[] and returns the
 * count. */
int suite_placements(const struct placement **out, bool all_in_quick);

/* Registers a benchmark named "<scenario>/impl:<impl>/place:<place>" (parts
 * that are NULL are left out) with a heap copy of the given argument block,
 * which stays alive for the run. */
bench_def *suite_register(const char *scenario, const char *impl,
                          const struct placement *pl, bench_fn fn,
                          const void *arg, size_t arg_size);

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
/* into += (end - start) */
void cost_add_delta(struct cost *into, const struct cost *start,
                    const struct cost *end);
/* Reports cost per message as counters: cpu_ns_per_msg, vcsw_per_msg,
 * alloc_bytes_per_op, allocs_per_op. */
void cost_report(bench_state *st, const struct cost *total, double messages);

/* The allocator in use ("jemalloc 5.3.0..." or "system malloc"). */
const char *alloc_name(void);
bool alloc_is_jemalloc(void);

/* ---- role threads -------------------------------------------------------- */

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
  pthread_barrier_t *start;
  _Atomic int *pin_failures; /* any > 0: nobody runs (a peer would hang) */
  pthread_t thread;
};

struct round {
  int nroles;
  struct role roles[ROLES_MAX];
  int64_t elapsed_ns; /* first start to last end */
  struct cost cost;   /* summed over the roles */
  char err[200];      /* first error, if any */
};

/* Runs one round: n0 threads run f0 on side 0 sharing total0 operations,
 * n1 threads run f1 on side 1 sharing total1, pinned by pl. Returns 0, or -1
 * with r->err set (thread start failure or a role's error). */
int round_run(struct round *r, const struct placement *pl, int n0, role_fn f0,
              uint64_t total0, int n1, role_fn f1, uint64_t total1,
              void *shared, struct hist *hists);

/* Messages per round: what Google Benchmark still wants, at least lo (to
 * amortize starting the threads) and at most hi, so slow configurations do
 * not run far past the minimum time. */
int64_t round_batch(bench_state *st, int64_t lo, int64_t hi);

/* ---- helpers for chan results ---------------------------------------------
 */

/* Formats "what: status (last error)" into err; returns -1 for chaining. */
int role_fail(struct role *r, const char *what, int status);

/* Makes a channel or skips the benchmark with the reason; NULL on failure. */
chan_t *bench_chan(bench_state *st, const char *impl, size_t elem_size,
                   size_t capacity);

/* Per-scenario registration hooks (one file each under scenarios/). */
void register_pingpong(void);
void register_floor(void);
void register_throughput(void);
void register_select(void);
void register_tryops(void);
void register_timed(void);
void register_close_storm(void);
void register_lifecycle(void);
void register_payload(void);
void register_idle(void);
void register_patterns(void);

#endif /* CHAN_BENCH_COMMON_H */
