/*
 * floor.c - the hardware floor, measured in the same run as the channels.
 *
 *   floor_cacheline: two threads bounce one cache line (spinning, with a
 *                    yield after a while so "same PU" still progresses): the
 *                    least a cross-thread round trip can cost.
 *   floor_futex:     the same round trip through FUTEX_WAIT/FUTEX_WAKE with
 *                    no spinning: the least a blocking round trip can cost.
 *   floor_ring:      a raw single-producer single-consumer ring (Lamport's
 *                    queue with cached indices, spin-then-yield on full or
 *                    empty): what a non-blocking SPSC queue reaches without
 *                    any channel semantics. Not a channel; a yardstick.
 *   pair_cacheline:  the cache-line round trip for every PU pair, for the
 *                    per-pair heatmap (registered only with more than 2 PUs).
 *
 * Each is per placement, so every channel figure has its floor beside it.
 */
#include "../bench_common.h"

#include <linux/futex.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
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
  int64_t cap; /* floor_ring only */
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
  round_drive(st, &(struct where){EXEC_THREAD, pl}, &ro, &pl);
}

static void bm_cacheline(bench_state *st, void *user) {
  const struct floor_arg *a = user;
  run_roundtrips(st, a->pl, line_initiator, line_echo);
}

static void bm_futex(bench_state *st, void *user) {
  const struct floor_arg *a = user;
  run_roundtrips(st, a->pl, futex_initiator, futex_echo);
}

/* ---- raw SPSC ring --------------------------------------------------------
 */

struct ring {
  _Alignas(64) _Atomic uint64_t head; /* next slot to read (consumer) */
  uint64_t tail_cache;                /* consumer's view of tail */
  _Alignas(64) _Atomic uint64_t tail; /* next slot to write (producer) */
  uint64_t head_cache;                /* producer's view of head */
  _Alignas(64) uint64_t cap;
  uint64_t *slots;
};

static int ring_producer(struct role *r) {
  struct ring *q = r->shared;
  uint64_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
  for (uint64_t i = 0; i < r->count; i++, tail++) {
    for (unsigned spins = 0; tail - q->head_cache >= q->cap; spins++) {
      q->head_cache = atomic_load_explicit(&q->head, memory_order_acquire);
      if (tail - q->head_cache < q->cap)
        break;
      if (spins < SPINS_BEFORE_YIELD)
        cpu_relax();
      else
        sched_yield();
    }
    q->slots[tail % q->cap] = i;
    atomic_store_explicit(&q->tail, tail + 1, memory_order_release);
  }
  return 0;
}

static int ring_consumer(struct role *r) {
  struct ring *q = r->shared;
  uint64_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
  uint64_t sum = 0;
  for (uint64_t i = 0; i < r->count; i++, head++) {
    for (unsigned spins = 0; head == q->tail_cache; spins++) {
      q->tail_cache = atomic_load_explicit(&q->tail, memory_order_acquire);
      if (head != q->tail_cache)
        break;
      if (spins < SPINS_BEFORE_YIELD)
        cpu_relax();
      else
        sched_yield();
    }
    sum += q->slots[head % q->cap];
    atomic_store_explicit(&q->head, head + 1, memory_order_release);
  }
  /* Every value 0..count-1 arrives once; a wrong sum means a broken ring. */
  if (sum != r->count * (r->count - 1) / 2) {
    snprintf(r->err, sizeof r->err, "ring lost or duplicated values");
    return -1;
  }
  return 0;
}

static int ring_setup(bench_state *st, const void *arg, void *shared) {
  const struct floor_arg *a = arg;
  struct ring *q = shared;
  atomic_init(&q->head, 0);
  atomic_init(&q->tail, 0);
  q->cap = (uint64_t)a->cap;
  q->slots = calloc((size_t)a->cap, sizeof *q->slots);
  if (!q->slots) {
    bench_fail(st, "out of memory");
    return -1;
  }
  return 0;
}

static void ring_teardown(void *shared) {
  struct ring *q = shared;
  free(q->slots);
}

static void bm_ring(bench_state *st, void *user) {
  const struct floor_arg *a = user;
  const struct roles ro = {
      .side0 = ring_producer,
      .side1 = ring_consumer,
      .n0 = 1,
      .n1 = 1,
      .batch_lo = 1000,
      .shared_size = sizeof(struct ring),
      .setup = ring_setup,
      .teardown = ring_teardown,
  };
  round_drive(st, &(struct where){EXEC_THREAD, a->pl}, &ro, a);
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
    struct floor_arg a = {pls[p], 0};
    bench_use_manual_time(suite_register(sc, NULL, pls[p], fn, &a, sizeof a));
  }
}

void register_floor_cacheline(const struct scenario *sc) {
  register_roundtrip(sc, bm_cacheline);
}

void register_floor_futex(const struct scenario *sc) {
  register_roundtrip(sc, bm_futex);
}

void register_floor_ring(const struct scenario *sc) {
  static const int64_t caps[] = {128, 1024};
  const struct placement *pls[PLACE_NCLASSES];
  int npl = suite_placements(pls, true);
  for (int p = 0; p < npl; p++) {
    if (pls[p]->cls == PLACE_SAME_PU)
      continue; /* the ring spins by design; on one PU it measures yields */
    for (int c = 0; c < 2; c++) {
      struct floor_arg a = {pls[p], caps[c]};
      bench_def *b = suite_register(sc, NULL, pls[p], bm_ring, &a, sizeof a);
      bench_arg_names(b, (const char *const[]){"cap"}, 1);
      bench_arg(b, caps[c]);
      bench_use_manual_time(b);
    }
  }
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
