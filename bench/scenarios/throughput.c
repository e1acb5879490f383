/*
 * throughput.c - SPSC, MPSC, SPMC and MPMC message throughput, and the
 * payload size sweep.
 *
 * Producers and consumers are role threads with fixed message counts (the
 * total split evenly), so the run ends without closing the queue; one
 * iteration is one message and the reported time is real (wall) time per
 * message. Producer k sends 0, 1, ..., its count - 1; the consumers' sum
 * must come to what was sent, or the round fails (a lost or duplicated
 * value). Capacities 0, 1, 128 and 1024; thread counts swept up to 4x the
 * PUs, because oversubscription is where spinning designs fall over. The
 * shapes (not the payload sweep) run on both executors: role threads, or
 * role fibers (exec:fiber, place:runtime) of chanlab's runtime or, for a
 * row with a fiber scheduler of its own (Boost.Fiber), of that one.
 */
#include "../bench_common.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tp_arg {
  const struct bq_ops *q;
  struct where w;
  int64_t cap, producers, consumers;
  size_t elem_size; /* 8, or the payload sweep's size */
};

struct tp_shared {
  struct queue q;
  size_t elem_size;
  _Atomic uint64_t sum; /* of the values received (elem_size >= 8) */
};

static int tp_producer(struct role *r) {
  const struct tp_shared *s = r->shared;
  const struct queue q = s->q;
  const bool numbered = s->elem_size >= sizeof(uint64_t);
  _Alignas(64) unsigned char buf[4096] = {0};
  for (uint64_t i = 0; i < r->count; i++) {
    if (numbered)
      memcpy(buf, &i, sizeof i);
    int rc = q.ops->send(q.h, buf);
    if (rc != CHAN_OK)
      return role_fail(r, "send", rc);
  }
  return 0;
}

/* Test hook (bench_cli): with CHANBENCH_TEST_ALLOC=N the producers
 * allocate and free N bytes per message, which the cost meters must count
 * on both executors (a fiber's allocations happen on whichever worker runs
 * it). Chosen once per benchmark, so the measured roles carry no check. */
static int tp_producer_allocating(struct role *r) {
  static size_t bytes;
  if (!bytes)
    bytes = (size_t)atoll(getenv("CHANBENCH_TEST_ALLOC"));
  const struct tp_shared *s = r->shared;
  const struct queue q = s->q;
  _Alignas(64) unsigned char buf[4096] = {0};
  for (uint64_t i = 0; i < r->count; i++) {
    void *volatile p = malloc(bytes);
    free(p);
    memcpy(buf, &i, sizeof i);
    int rc = q.ops->send(q.h, buf);
    if (rc != CHAN_OK)
      return role_fail(r, "send", rc);
  }
  return 0;
}

static int tp_consumer(struct role *r) {
  struct tp_shared *s = r->shared;
  const struct queue q = s->q;
  const bool numbered = s->elem_size >= sizeof(uint64_t);
  _Alignas(64) unsigned char buf[4096];
  uint64_t sum = 0;
  for (uint64_t i = 0; i < r->count; i++) {
    int rc = q.ops->recv(q.h, buf);
    if (rc != CHAN_OK)
      return role_fail(r, "recv", rc);
    if (numbered) {
      uint64_t v;
      memcpy(&v, buf, sizeof v);
      sum += v;
    }
  }
  atomic_fetch_add_explicit(&s->sum, sum, memory_order_relaxed);
  return 0;
}

static int tp_setup(bench_state *st, const void *arg, void *shared) {
  const struct tp_arg *a = arg;
  struct tp_shared *s = shared;
  s->elem_size = a->elem_size;
  return queue_make(st, a->q, a->elem_size, (size_t)a->cap, &s->q);
}

/* The round is over (every role joined): the sum is complete. */
static int tp_verify(const void *arg, void *shared, uint64_t total, char *err,
                     size_t errlen) {
  const struct tp_arg *a = arg;
  struct tp_shared *s = shared;
  if (a->elem_size < sizeof(uint64_t))
    return 0; /* no room for a number */
  uint64_t want = 0, n = (uint64_t)a->producers;
  for (uint64_t k = 0; k < n; k++) {
    uint64_t c = total / n + (k < total % n);
    want += c * (c - 1) / 2;
  }
  uint64_t got = atomic_load_explicit(&s->sum, memory_order_relaxed);
  if (got == want)
    return 0;
  snprintf(err, errlen,
           "the consumers' values sum to %llu, not %llu: a value was lost or "
           "duplicated",
           (unsigned long long)got, (unsigned long long)want);
  return -1;
}

static void tp_teardown(void *shared) {
  struct tp_shared *s = shared;
  queue_destroy(&s->q);
}

static void bm_throughput(bench_state *st, void *user) {
  const struct tp_arg *a = user;
  static int allocating = -1;
  if (allocating < 0)
    allocating = getenv("CHANBENCH_TEST_ALLOC") != NULL;
  const struct roles ro = {
      .side0 = allocating ? tp_producer_allocating : tp_producer,
      .side1 = tp_consumer,
      .n0 = (int)a->producers,
      .n1 = (int)a->consumers,
      .batch_lo = 1000,
      .shared_size = sizeof(struct tp_shared),
      .setup = tp_setup,
      .verify = tp_verify,
      .teardown = tp_teardown,
      .report_bytes = true,
      .bytes_per_op = (int64_t)a->elem_size,
  };
  round_drive(st, &a->w, &ro, a);
}

/* Why queue row q cannot run this configuration honestly, or NULL. */
static const char *unfit(const struct tp_arg *a) {
  unsigned f = a->q->features;
  if (a->cap == 0 && !(f & BQ_RENDEZVOUS))
    return "cap 0: capacity 0 is not a rendezvous";
  if (a->cap > 0 && !(f & BQ_BOUNDED))
    return "cap > 0: unbounded";
  if (a->producers > 1 && !(f & BQ_MULTI_PRODUCER))
    return "several producers: single-producer queue";
  if (a->consumers > 1 && !(f & BQ_MULTI_CONSUMER))
    return "several consumers: single-consumer queue";
  if (a->elem_size != 8 && !(f & BQ_PAYLOAD))
    return "payload sizes other than 8 bytes";
  if (!(f & BQ_BLOCKING) && a->w.exec == EXEC_THREAD &&
      (a->w.pl->cls == PLACE_SAME_PU ||
       a->producers + a->consumers > g_suite.npus))
    return "spins: one PU or more threads than PUs would only measure yields";
  return NULL;
}

/* Registers one configuration, or records why the row cannot run it. The
 * payload sweep has no executor axis (threads only, no exec: part). */
static void reg_args(const struct scenario *sc, const struct tp_arg *a,
                     bool exec_axis, const char *const *names,
                     const int64_t *values, int n) {
  const char *why = unfit(a);
  if (why) {
    suite_absent(sc, a->q, why);
    return;
  }
  bench_def *b =
      exec_axis
          ? suite_register_at(sc, a->q, &a->w, bm_throughput, a, sizeof *a)
          : suite_register(sc, a->q, a->w.pl, bm_throughput, a, sizeof *a);
  bench_arg_names(b, names, n);
  bench_args(b, values, n);
  bench_use_manual_time(b);
}

static void reg(const struct scenario *sc, const struct tp_arg *a) {
  reg_args(sc, a, true, (const char *const[]){"cap", "p", "c"},
           (const int64_t[]){a->cap, a->producers, a->consumers}, 3);
}

/* The quick suite measures fewer configurations rather than fewer
 * repetitions. Threads: SPSC at capacity 128 on every placement, 0 and 1024
 * where the OS places the threads; the sweeps at capacity 128 up to 4
 * threads a side (2x2 and 4x4 for MPMC, which oversubscribes 2 PUs), and
 * unbuffered MPMC 2x2. Fibers: SPSC at capacities 0 and 128, MPSC 4x1,
 * SPMC 1x4 and MPMC 2x2 at 128 (the configurations the report compares
 * with Go). The full suite runs every capacity and count on both. */
static bool in_quick(const struct tp_arg *a, int64_t n, bool spsc) {
  if (a->w.exec == EXEC_FIBER) {
    if (spsc)
      return a->cap == 0 || a->cap == 128;
    bool mpmc = a->producers > 1 && a->consumers > 1;
    return a->cap == 128 && n == (mpmc ? 2 : 4);
  }
  if (spsc)
    return a->cap == 128 || (a->cap != 1 && a->w.pl->cls == PLACE_UNPINNED);
  if (a->cap == 0)
    return n == 2 && a->producers > 1 && a->consumers > 1;
  return a->cap == 128 && n <= 4;
}

/* The thread-count sweeps: many-to-one and one-to-many with 2, 4, ...
 * producers (consumers) up to 4x the PUs; many-to-many n x n with 2n up to
 * 4x the PUs. SPSC runs on every placement, the sweeps on unpinned in the
 * quick suite; fibers on the runtime. */
static void register_shape(const struct scenario *sc, int p_mul, int c_mul) {
  static const int64_t caps[] = {0, 1, 128, 1024};
  const bool spsc = p_mul == 0 && c_mul == 0;
  const struct bq_ops *qs[QUEUES_MAX];
  int nq = suite_queues(sc, 0, qs);
  int max_threads = 4 * g_suite.npus;
  if (max_threads > ROLES_MAX - 1)
    max_threads = ROLES_MAX - 1; /* n producers + 1 consumer */
  for (int i = 0; i < nq; i++) {
    struct where ws[SUITE_WHERE_MAX];
    int nw = suite_wheres(sc, qs[i], spsc, ws);
    for (int c = 0; c < 4; c++)
      for (int p = 0; p < nw; p++) {
        struct tp_arg a = {qs[i], ws[p], caps[c], 1, 1, 8};
        if (spsc) {
          if (g_suite.full || in_quick(&a, 1, true))
            reg(sc, &a);
          continue;
        }
        for (int64_t n = 2; (p_mul + c_mul) * n <= max_threads; n *= 2) {
          a.producers = p_mul ? n : 1;
          a.consumers = c_mul ? n : 1;
          if (g_suite.full || in_quick(&a, n, false))
            reg(sc, &a);
        }
      }
  }
}

void register_spsc(const struct scenario *sc) {
  register_shape(sc, 0, 0);
}
void register_mpsc(const struct scenario *sc) {
  register_shape(sc, 1, 0);
}
void register_spmc(const struct scenario *sc) {
  register_shape(sc, 0, 1);
}
void register_mpmc(const struct scenario *sc) {
  register_shape(sc, 1, 1);
}

void register_payload(const struct scenario *sc) {
  static const int64_t sizes[] = {0, 8, 64, 256, 1024, 4096};
  /* quick: empty (a signal), and a page */
  const unsigned quick = 1u << 0 | 1u << 5;
  const struct bq_ops *qs[QUEUES_MAX];
  int nq = suite_queues(sc, 0, qs);
  const struct placement *pls[PLACE_NCLASSES];
  int npl = suite_placements(pls, false);
  for (int i = 0; i < nq; i++)
    for (int p = 0; p < npl; p++)
      for (int s = 0; s < 6; s++) {
        if (!g_suite.full && !(quick >> s & 1))
          continue;
        struct tp_arg a = {
            qs[i], {EXEC_THREAD, pls[p], NULL}, 128, 1, 1, (size_t)sizes[s]};
        if (suite_measures(sc, a.q, &a.w))
          reg_args(sc, &a, false, (const char *const[]){"bytes", "cap"},
                   (const int64_t[]){sizes[s], 128}, 2);
      }
}
