/*
 * core_memory_model.c - Go's memory model for channels, on plain memory.
 *
 * The Go memory model (go.dev/ref/mem, "Channel communication") makes four
 * promises, and chan.h makes them too:
 *   rule 1  a send happens before the corresponding receive completes;
 *   rule 2  the closing of a channel happens before a receive that returns
 *           because the channel is closed;
 *   rule 3  a receive from an unbuffered channel happens before the
 *           corresponding send completes;
 *   rule 4  the k-th receive on a channel with capacity C happens before the
 *           (k+C)-th send on it completes.
 * Each test writes plain (non-atomic) memory on one side of its rule and
 * reads it on the other side after the operation the rule orders it by, with
 * nothing else synchronizing the two threads. If an implementation breaks
 * the rule, ThreadSanitizer (tsan preset) reports a data race on that memory
 * and halts the program; on a weakly ordered CPU the read may also see a
 * stale value, which every test checks.
 *
 * A blocked operation is woken through its parker's release/acquire
 * (common/parker.h), which would hide a missing release or acquire on an
 * implementation's fast path. So on every other operation one side first
 * waits until the other is ahead, on a RELAXED atomic progress counter (which
 * carries no happens-before, for TSan as for C11): that operation then
 * completes without parking, on the fast path.
 *
 * Every rule runs on capacities 0, 1, 2 and 128 where it applies, and on
 * every way of making the operation the rule is about (core_util.h: blocking,
 * try, timeout, select blocking / with a timeout / polling).
 */
#include "core_util.h"

#include <stdatomic.h>
#include <stdlib.h>

static const size_t caps[] = {0, 1, 2, 128};
#define NCAPS (sizeof caps / sizeof caps[0])

/* What the writer stores at index i, so a stale read shows. */
static uint64_t payload(uint64_t seed, uint64_t i) {
  uint64_t z = seed + (i + 1) * 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 31)) * 0xbf58476d1ce4e5b9ull;
  return (z ^ (z >> 29)) | 1; /* never the zero of fresh memory */
}

/* Waits until a relaxed counter reaches `target`: orders the two threads'
 * progress without creating any happens-before between them. */
static bool wait_relaxed(_Atomic uint64_t *counter, uint64_t target) {
  int64_t deadline = test_now_ns() + 60 * (int64_t)1000000000;
  while (atomic_load_explicit(counter, memory_order_relaxed) < target) {
    if (test_now_ns() > deadline) {
      test_fail(__FILE__, __LINE__, "progress counter stuck below %llu",
                (unsigned long long)target);
      return false;
    }
    test_yield();
  }
  return true;
}

static void check_payload(const char *rule, const uint64_t *data, uint64_t i,
                          uint64_t seed) {
  uint64_t got = data[i]; /* the plain read the rule orders */
  if (got != payload(seed, i))
    test_fail(__FILE__, __LINE__,
              "%s: stale read at %llu: %#llx, written %#llx", rule,
              (unsigned long long)i, (unsigned long long)got,
              (unsigned long long)payload(seed, i));
}

/* Prints the configuration before running it, so a TSan report (which
 * halts the program) is read against the right one. */
static void announce(const char *rule, size_t cap, const char *way) {
  printf("  %s: %s, capacity %zu, %s\n", rule, test_impl(), cap, way);
  fflush(stdout);
}

/* ---- rule 1: a send happens before the corresponding receive completes -- */

struct rule1 {
  chan_t *ch;
  size_t n;
  uint64_t seed;
  uint64_t *data;        /* plain; data[i] written before send i */
  _Atomic uint64_t sent; /* relaxed: sends completed */
};

static void *rule1_sender(void *arg) {
  struct rule1 *t = arg;
  for (uint64_t i = 0; i < t->n; i++) {
    t->data[i] = payload(t->seed, i);
    CHECK_STATUS(chan_send(t->ch, &i), CHAN_OK);
    atomic_store_explicit(&t->sent, i + 1, memory_order_relaxed);
  }
  return NULL;
}

static void rule1_run(size_t cap, enum op_way way, size_t n) {
  announce("rule 1", cap, way_name(way, CHAN_RECV));
  struct rule1 t = {.ch = test_chan(sizeof(uint64_t), cap),
                    .n = n,
                    .seed = test_seed() ^ (cap << 8 | way),
                    .data = calloc(n, sizeof(uint64_t))};
  chan_t *idle = test_chan(0, 0);
  REQUIRE(t.ch && idle && t.data);
  atomic_init(&t.sent, 0);
  test_task sender = test_spawn(rule1_sender, &t);
  for (uint64_t i = 0; i < n; i++) {
    /* Buffered: every other value is received only once it is buffered,
     * so the receive takes it on the fast path. */
    if (cap > 0 && i % 2 == 0 && !wait_relaxed(&t.sent, i + 1))
      break;
    uint64_t v = ~0ull;
    int rc = way_op(way, CHAN_RECV, t.ch, idle, &v);
    if (rc != CHAN_OK || v != i) {
      test_fail(__FILE__, __LINE__, "rule 1: receive %llu got %s, value %llu",
                (unsigned long long)i, chan_strerror(rc),
                (unsigned long long)v);
      break;
    }
    check_payload("rule 1", t.data, i, t.seed);
  }
  chan_close(t.ch); /* releases the sender if we stopped early */
  test_join(sender);
  chan_destroy(t.ch);
  chan_destroy(idle);
  free(t.data);
}

/* Runs a rule on every capacity, receiving every way. */
static void every_cap_and_way(void (*run)(size_t cap, enum op_way way,
                                          size_t n),
                              size_t n) {
  for (size_t c = 0; c < NCAPS; c++)
    for (int way = 0; way < WAY_COUNT; way++)
      run(caps[c], (enum op_way)way, n);
}

TEST(rule1_send_happens_before_its_receive_completes) {
  every_cap_and_way(rule1_run, test_scale(2000));
}

/* ---- rule 2: close happens before a receive that reports it ------------ */

struct rule2 {
  chan_t **chans; /* one per round */
  size_t rounds, cap;
  uint64_t seed;
  uint64_t *data;          /* plain; data[r] written before close r */
  _Atomic uint64_t closed; /* relaxed: rounds closed */
};

/* Values buffered before round r's close (none on an unbuffered channel):
 * the receive that reports the close then comes after a drain. */
static size_t rule2_buffered(size_t r, size_t cap) {
  size_t k = r % 3;
  return k < cap ? k : cap;
}

static void *rule2_closer(void *arg) {
  struct rule2 *t = arg;
  for (uint64_t r = 0; r < t->rounds; r++) {
    for (uint64_t j = 0; j < rule2_buffered(r, t->cap); j++)
      CHECK_STATUS(chan_send(t->chans[r], &j), CHAN_OK);
    /* After the sends: only the close can order this write. */
    t->data[r] = payload(t->seed, r);
    CHECK_STATUS(chan_close(t->chans[r]), CHAN_OK);
    atomic_store_explicit(&t->closed, r + 1, memory_order_relaxed);
  }
  return NULL;
}

static void rule2_run(size_t cap, enum op_way way, size_t rounds) {
  announce("rule 2", cap, way_name(way, CHAN_RECV));
  struct rule2 t = {.chans = calloc(rounds, sizeof(chan_t *)),
                    .rounds = rounds,
                    .cap = cap,
                    .seed = test_seed() ^ (cap << 8 | way),
                    .data = calloc(rounds, sizeof(uint64_t))};
  chan_t *idle = test_chan(0, 0);
  REQUIRE(t.chans && t.data && idle);
  for (size_t r = 0; r < rounds; r++)
    REQUIRE((t.chans[r] = test_chan(sizeof(uint64_t), cap)));
  atomic_init(&t.closed, 0);
  test_task closer = test_spawn(rule2_closer, &t);
  for (uint64_t r = 0; r < rounds; r++) {
    /* Every other round, receive only once the channel is closed, so the
     * receive sees the close on the fast path instead of being woken. */
    if (r % 2 == 0 && !wait_relaxed(&t.closed, r + 1))
      break;
    uint64_t v;
    for (uint64_t j = 0; j < rule2_buffered(r, cap); j++) {
      v = ~0ull;
      CHECK_STATUS(way_op(way, CHAN_RECV, t.chans[r], idle, &v), CHAN_OK);
      CHECK_EQ(v, j);
    }
    v = ~0ull;
    int rc = way_op(way, CHAN_RECV, t.chans[r], idle, &v);
    if (rc != CHAN_CLOSED || v != 0) {
      test_fail(__FILE__, __LINE__, "rule 2: round %llu: %s, value %llu",
                (unsigned long long)r, chan_strerror(rc),
                (unsigned long long)v);
      break;
    }
    check_payload("rule 2", t.data, r, t.seed);
  }
  test_join(closer);
  for (size_t r = 0; r < rounds; r++)
    chan_destroy(t.chans[r]);
  chan_destroy(idle);
  free(t.chans);
  free(t.data);
}

TEST(rule2_close_happens_before_a_receive_that_reports_it) {
  every_cap_and_way(rule2_run, test_scale(500));
}

/* ---- rules 3 and 4: the k-th receive happens before the (k+C)-th send
 * completes (C = 0: an unbuffered receive before its send completes) ---- */

struct rule34 {
  const char *rule;
  chan_t *ch, *idle;
  size_t cap, n;
  enum op_way send_way, recv_way;
  uint64_t seed;
  uint64_t *data;            /* plain; data[k] written before receive k */
  _Atomic uint64_t received; /* relaxed: receives completed */
};

static void *rule34_receiver(void *arg) {
  struct rule34 *t = arg;
  for (uint64_t k = 0; k < t->n; k++) {
    t->data[k] = payload(t->seed, k);
    uint64_t v = ~0ull;
    int rc = way_op(t->recv_way, CHAN_RECV, t->ch, t->idle, &v);
    if (rc != CHAN_OK || v != k) {
      test_fail(__FILE__, __LINE__, "%s: receive %llu got %s, value %llu",
                t->rule, (unsigned long long)k, chan_strerror(rc),
                (unsigned long long)v);
      break;
    }
    atomic_store_explicit(&t->received, k + 1, memory_order_relaxed);
  }
  return NULL;
}

static void rule34_run(const char *rule, size_t cap, enum op_way send_way,
                       enum op_way recv_way, size_t n) {
  char how[96];
  snprintf(how, sizeof how, "%s to %s", way_name(send_way, CHAN_SEND),
           way_name(recv_way, CHAN_RECV));
  announce(rule, cap, how);
  struct rule34 t = {.rule = rule,
                     .ch = test_chan(sizeof(uint64_t), cap),
                     .idle = test_chan(0, 0),
                     .cap = cap,
                     .n = n,
                     .send_way = send_way,
                     .recv_way = recv_way,
                     .seed =
                         test_seed() ^ (cap << 16 | send_way << 8 | recv_way),
                     .data = calloc(n, sizeof(uint64_t))};
  REQUIRE(t.ch && t.idle && t.data);
  atomic_init(&t.received, 0);
  test_task receiver = test_spawn(rule34_receiver, &t);
  for (uint64_t j = 0; j < n; j++) {
    /* Buffered: every other send that needs a freed slot is made only once
     * the receive that frees it is done, so it completes on the fast path
     * instead of being woken. */
    if (cap > 0 && j >= cap && j % 2 == 0 &&
        !wait_relaxed(&t.received, j - cap + 1))
      break;
    uint64_t v = j;
    int rc = way_op(send_way, CHAN_SEND, t.ch, t.idle, &v);
    if (rc != CHAN_OK) {
      test_fail(__FILE__, __LINE__, "%s: send %llu got %s", rule,
                (unsigned long long)j, chan_strerror(rc));
      break;
    }
    if (j >= cap)
      check_payload(rule, t.data, j - cap, t.seed);
  }
  chan_close(t.ch); /* releases the receiver if we stopped early */
  test_join(receiver);
  chan_destroy(t.ch);
  chan_destroy(t.idle);
  free(t.data);
}

/* Each way on one side, the other side blocking (two non-blocking sides of
 * an unbuffered channel would never meet). */
static void rule34_all_ways(const char *rule, size_t cap, size_t n) {
  for (int way = 0; way < WAY_COUNT; way++) {
    rule34_run(rule, cap, (enum op_way)way, WAY_BLOCKING, n);
    if (way != WAY_BLOCKING)
      rule34_run(rule, cap, WAY_BLOCKING, (enum op_way)way, n);
  }
}

TEST(rule3_unbuffered_receive_happens_before_its_send_completes) {
  rule34_all_ways("rule 3", 0, test_scale(1000));
}

TEST(rule4_kth_receive_happens_before_send_k_plus_cap_completes) {
  for (size_t c = 0; c < NCAPS; c++)
    if (caps[c] > 0)
      rule34_all_ways("rule 4", caps[c], caps[c] + test_scale(1000));
}
