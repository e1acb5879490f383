/*
 * floor.c - the hardware floor, measured in the same run as the channels.
 *
 *   floor_cacheline: two threads bounce one cache line (spinning, with a
 *                    yield after a while so "same PU" still progresses): the
 *                    least a cross-thread round trip can cost.
 *   floor_futex:     the same round trip through FUTEX_WAIT/FUTEX_WAKE with
 *                    no spinning: the least a blocking round trip can cost.
 *   pair_cacheline:  the cache-line round trip for every PU pair, for the
 *                    per-pair heatmap (registered only with more than 2 PUs).
 *
 * Each is per placement, so every channel figure has its floor beside it.
 * The raw-ring floor (what a non-blocking SPSC queue reaches without any
 * channel semantics) is Concurrency Kit's ck_ring, a queue row of its own
 * (bench/peers/ck_ring.c, marked bq_ops.floor) that runs the SPSC
 * scenarios beside the channels.
 */
#include "../bench_common.h"

#include <linux/futex.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SPINS_BEFORE_YIELD 2000

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

/* Spins until *word == want, yielding the PU now and then (needed when both
 * threads share one PU). */
static void spin_until(_Atomic uint32_t *word, uint32_t want, unsigned limit) {
  for (unsigned spins = 0;
       atomic_load_explicit(word, memory_order_acquire) != want; spins++) {
    if (spins < limit)
      cpu_relax();
    else
      sched_yield();
  }
}

struct floor_arg {
  const struct placement *pl;
};

struct line_shared {
  _Alignas(64) _Atomic uint32_t word;
  unsigned spin_limit; /* 0 on one PU: spinning there only burns the slice */
  char pad[56];
};

/* ---- cache-line ping-pong -------------------------------------------------
 */

static int line_initiator(struct role *r) {
  struct line_shared *s = r->shared;
  for (uint32_t i = 0; i < r->count; i++) {
    int64_t t = now_ns();
    atomic_store_explicit(&s->word, 2 * i + 1, memory_order_release);
    spin_until(&s->word, 2 * i + 2, s->spin_limit);
    hist_add(r->hist, (uint64_t)(now_ns() - t));
  }
  return 0;
}

static int line_echo(struct role *r) {
  struct line_shared *s = r->shared;
  for (uint32_t i = 0; i < r->count; i++) {
    spin_until(&s->word, 2 * i + 1, s->spin_limit);
    atomic_store_explicit(&s->word, 2 * i + 2, memory_order_release);
  }
  return 0;
}

/* ---- futex round trip -----------------------------------------------------
 */

static long futex(_Atomic uint32_t *word, int op, uint32_t val) {
  return syscall(SYS_futex, (uint32_t *)word, op | FUTEX_PRIVATE_FLAG, val,
                 NULL, NULL, 0);
}

/* Blocks (never spins) until *word == want. */
static void futex_until(_Atomic uint32_t *word, uint32_t want) {
  uint32_t v;
  while ((v = atomic_load_explicit(word, memory_order_acquire)) != want)
    futex(word, FUTEX_WAIT, v);
}

static int futex_initiator(struct role *r) {
  struct line_shared *s = r->shared;
  for (uint32_t i = 0; i < r->count; i++) {
    int64_t t = now_ns();
    atomic_store_explicit(&s->word, 2 * i + 1, memory_order_release);
    futex(&s->word, FUTEX_WAKE, 1);
    futex_until(&s->word, 2 * i + 2);
    hist_add(r->hist, (uint64_t)(now_ns() - t));
  }
  return 0;
}

static int futex_echo(struct role *r) {
  struct line_shared *s = r->shared;
  for (uint32_t i = 0; i < r->count; i++) {
    futex_until(&s->word, 2 * i + 1);
    atomic_store_explicit(&s->word, 2 * i + 2, memory_order_release);
    futex(&s->word, FUTEX_WAKE, 1);
  }
  return 0;
}

/* Before each round: the word at 0; no spinning on one PU (it would only
 * burn the time slice the peer needs). */
static int line_setup(bench_state *st, const void *arg, void *shared) {
  (void)st;
  const struct placement *pl = *(const struct placement *const *)arg;
  struct line_shared *s = shared;
  atomic_init(&s->word, 0);
  s->spin_limit = pl->cls == PLACE_SAME_PU ? 0 : SPINS_BEFORE_YIELD;
  return 0;
}

static void run_roundtrips(bench_state *st, const struct placement *pl,
                           role_fn init, role_fn echo) {
  const struct roles ro = {ROLES_ROUNDTRIP(init, echo),
                           .shared_size = sizeof(struct line_shared),
                           .setup = line_setup};
  round_drive(st, &(struct where){.exec = EXEC_THREAD, .pl = pl}, &ro, &pl);
}

static void bm_cacheline(bench_state *st, void *user) {
  const struct floor_arg *a = user;
  run_roundtrips(st, a->pl, line_initiator, line_echo);
}

static void bm_futex(bench_state *st, void *user) {
  const struct floor_arg *a = user;
  run_roundtrips(st, a->pl, futex_initiator, futex_echo);
}

/* ---- per-PU-pair heatmap --------------------------------------------------
 */

struct pair_arg {
  struct placement pl; /* a one-PU-per-side placement for this pair */
  int side_a, side_b;
};

static void bm_pair(bench_state *st, void *user) {
  struct pair_arg *a = user;
  a->pl.side_a = &a->side_a;
  a->pl.side_b = &a->side_b;
  run_roundtrips(st, &a->pl, line_initiator, line_echo);
}

static void register_roundtrip(const struct scenario *sc, bench_fn fn) {
  const struct placement *pls[PLACE_NCLASSES];
  int npl = suite_placements(pls, true);
  for (int p = 0; p < npl; p++) {
    struct floor_arg a = {pls[p]};
    bench_use_manual_time(suite_register(sc, NULL, pls[p], fn, &a, sizeof a));
  }
}

void register_floor_cacheline(const struct scenario *sc) {
  register_roundtrip(sc, bm_cacheline);
}

void register_floor_futex(const struct scenario *sc) {
  register_roundtrip(sc, bm_futex);
}

void register_pair_cacheline(const struct scenario *sc) {
  int n = g_suite.npus;
  if (n <= 2 || (!g_suite.full && n > 16))
    return;
  for (int i = 0; i < n; i++)
    for (int j = i + 1; j < n; j++) {
      struct pair_arg a = {0};
      a.pl.cls = topo_classify(g_suite.topo, i, j);
      a.pl.available = true;
      a.pl.nside_a = a.pl.nside_b = 1;
      a.side_a = topo_pu_os(g_suite.topo, i);
      a.side_b = topo_pu_os(g_suite.topo, j);
      bench_def *b = suite_register(sc, NULL, NULL, bm_pair, &a, sizeof a);
      bench_arg_names(b, (const char *const[]){"a", "b"}, 2);
      bench_args(b, (const int64_t[]){a.side_a, a.side_b}, 2);
      bench_use_manual_time(b);
    }
}
