/*
 * peers_test.c - every built peer row (peers.def) does what its features
 * claim, and moves every value exactly once.
 *
 * bench_peers/registry checks that every row of peers.def is listed, built
 * or skipped with a reason. Per row, run by ctest as bench_peers/<row>
 * (tests named <row>__*):
 *   __shapes     SPSC, MPSC, SPMC and MPMC (as far as the row allows) at
 *                every capacity it supports (0 if BQ_RENDEZVOUS; 1, 128 and
 *                1024 if BQ_BOUNDED; a 128 hint if unbounded), element sizes
 *                0, 24 and 4096 too with BQ_PAYLOAD. Producers send
 *                (producer, sequence) values with a byte pattern filling the
 *                element; role threads start together and move fixed counts
 *                split evenly, as chanbench's rounds do. Each consumer checks
 *                the pattern and that each producer's values reach it in
 *                increasing order; afterwards every value must have been
 *                received exactly once (a per-value tally) and the sums of
 *                sent and received values must agree. A lost value leaves a
 *                consumer waiting: the harness watchdog fails the test.
 *   __make       bad input is refused with a reason: a NULL result, sizes
 *                the row does not take, capacity 0 without BQ_RENDEZVOUS.
 *   __bounded    with BQ_TRY: a bounded row fills to at most its capacity
 *                (and at least half of it: power-of-two rings keep a slot
 *                empty) and drains in order; an unbounded row never refuses.
 *   __parks      with BQ_BLOCKING: a receive on an empty queue (and a send on
 *                a full bounded one) sleeps in the kernel, uses no CPU while
 *                it waits, and completes when the counterpart arrives.
 *   __rendezvous with BQ_RENDEZVOUS: at capacity 0 a send completes only
 *                once a receiver takes the value, and a receive only once a
 *                sender comes.
 *   __close      with BQ_CLOSE: buffered values drain in order, then
 *                CHAN_CLOSED; send after close is CHAN_CLOSED; a second close
 *                is an error; close wakes a parked receiver and a parked
 *                sender; close racing senders and receivers loses nothing
 *                that was sent successfully.
 *   __own_fibers with a fiber scheduler of its own (bq_ops.fibers, the
 *                exec:fiber rows): tasks run once each, on worker threads,
 *                let go together after go() on the caller; the rounds above
 *                (1x1, and 8x8: more fibers than workers, so a fiber blocked
 *                in the row must free its worker) as fibers, every value
 *                exactly once; bad input and a run after shutdown refused
 *                with a reason.
 *
 * "Parked" is observed, never assumed after a sleep: the waiting thread's
 * kernel state (/proc/self/task/<tid>/stat) is 'S' while its operation has
 * not returned. Only the no-CPU check measures an interval (20 ms).
 */
#include "harness.h"
#include "peers.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The peers are queues of OS threads (Boost.Fiber's own fibers are not
 * chanlab's): their tests run on threads. */
TEST_EXECUTORS("thread")

#define MAX_ROLES 8 /* a side: threads, or fibers on the row's scheduler */
#define MAX_ELEM  4096

/* ---- values: (producer, sequence) plus a pattern over the element ------ */

static uint64_t value_of(int producer, uint64_t seq) {
  return ((uint64_t)(producer + 1) << 40) | seq;
}

static void fill(unsigned char *buf, size_t size, uint64_t v) {
  if (size >= sizeof v)
    memcpy(buf, &v, sizeof v);
  for (size_t i = sizeof v; i < size; i++)
    buf[i] = (unsigned char)(v * 31 + i);
}

/* Returns the value in buf, or UINT64_MAX if the pattern is torn. */
static uint64_t read_value(const unsigned char *buf, size_t size) {
  uint64_t v;
  memcpy(&v, buf, sizeof v);
  for (size_t i = sizeof v; i < size; i++)
    if (buf[i] != (unsigned char)(v * 31 + i))
      return UINT64_MAX;
  return v;
}

/* ---- one round of producers and consumers ------------------------------- */

struct round {
  const struct bq_ops *ops;
  void *q;
  size_t elem;
  int producers, consumers;
  uint64_t per_producer[MAX_ROLES];
  uint64_t per_consumer[MAX_ROLES];
  /* tally[p][seq]: how many times value (p, seq) was received */
  _Atomic uint8_t *tally[MAX_ROLES];
  _Atomic uint64_t sent_sum, received_sum;
  _Atomic int failures;
  bool on_fibers; /* roles on the row's own scheduler, which starts them */
  pthread_barrier_t start;
  char first_error[200];
  pthread_mutex_t error_mu;
};

struct role_arg {
  struct round *r;
  int k;
};

static void round_error(struct round *r, const char *fmt, unsigned long long a,
                        unsigned long long b) {
  if (atomic_fetch_add(&r->failures, 1) == 0) {
    pthread_mutex_lock(&r->error_mu);
    snprintf(r->first_error, sizeof r->first_error, fmt, a, b);
    pthread_mutex_unlock(&r->error_mu);
  }
}

static void *producer_main(void *p) {
  struct role_arg *a = p;
  struct round *r = a->r;
  unsigned char buf[MAX_ELEM];
  uint64_t sum = 0;
  if (!r->on_fibers)
    pthread_barrier_wait(&r->start);
  for (uint64_t i = 0; i < r->per_producer[a->k]; i++) {
    uint64_t v = value_of(a->k, i);
    fill(buf, r->elem, v);
    int rc = r->ops->send(r->q, buf);
    if (rc != CHAN_OK) {
      round_error(r, "send returned %lld at message %llu",
                  (unsigned long long)rc, i);
      break;
    }
    sum += v;
  }
  atomic_fetch_add(&r->sent_sum, sum);
  return NULL;
}

static void *consumer_main(void *p) {
  struct role_arg *a = p;
  struct round *r = a->r;
  unsigned char buf[MAX_ELEM];
  uint64_t next[MAX_ROLES] = {0}; /* lowest sequence still acceptable */
  uint64_t sum = 0;
  if (!r->on_fibers)
    pthread_barrier_wait(&r->start);
  for (uint64_t i = 0; i < r->per_consumer[a->k]; i++) {
    memset(buf, 0xee, r->elem);
    int rc = r->ops->recv(r->q, buf);
    if (rc != CHAN_OK) {
      round_error(r, "recv returned %lld at message %llu",
                  (unsigned long long)rc, i);
      break;
    }
    if (r->elem < sizeof(uint64_t))
      continue; /* nothing to check in a value-less element */
    uint64_t v = read_value(buf, r->elem);
    int prod = (int)(v >> 40) - 1;
    uint64_t seq = v & ((1ull << 40) - 1);
    if (v == UINT64_MAX || prod < 0 || prod >= r->producers ||
        seq >= r->per_producer[prod]) {
      round_error(r, "received a torn or foreign value %#llx (message %llu)", v,
                  i);
      break;
    }
    if (seq < next[prod])
      round_error(r,
                  "producer order broken: sequence %llu after %llu from the "
                  "same producer",
                  seq, next[prod] - 1);
    next[prod] = seq + 1;
    atomic_fetch_add(&r->tally[prod][seq], 1);
    sum += v;
  }
  atomic_fetch_add(&r->received_sum, sum);
  return NULL;
}

/* ---- roles on the row's own fiber scheduler (bq_ops.fibers) ------------- */

struct fiber_roles {
  struct role_arg *args; /* tasks [0, producers) produce, then consume */
  size_t producers, roles;
  _Atomic int *ran;         /* per task: how many times it ran */
  _Atomic int early;        /* tasks that began before go() was called */
  _Atomic int on_caller;    /* tasks that ran on the caller's thread */
  _Atomic int go_calls;     /* calls of go() */
  _Atomic int go_elsewhere; /* calls of go() not on the caller's thread */
  pthread_t caller;
};

static void fiber_role(void *arg, size_t i) {
  struct fiber_roles *f = arg;
  atomic_fetch_add(&f->ran[i], 1);
  if (atomic_load(&f->go_calls) == 0)
    atomic_fetch_add(&f->early, 1);
  if (pthread_equal(pthread_self(), f->caller))
    atomic_fetch_add(&f->on_caller, 1);
  if (i < f->producers)
    producer_main(&f->args[i]);
  else if (i < f->roles)
    consumer_main(&f->args[i]);
}

static void fibers_go(void *arg) {
  struct fiber_roles *f = arg;
  atomic_fetch_add(&f->go_calls, 1);
  if (!pthread_equal(pthread_self(), f->caller))
    atomic_fetch_add(&f->go_elsewhere, 1);
}

/* Runs n tasks on ops' scheduler, the first `producers` producers and the
 * next up to `roles` consumers (args), any others empty, and checks that
 * each ran once, on a worker thread (not the caller's), and that go() was
 * called once, on the caller's thread, before any task began. */
static void run_on_fibers(const struct bq_ops *ops, struct role_arg *args,
                          size_t producers, size_t roles, size_t n) {
  struct fiber_roles *f = calloc(1, sizeof *f);
  REQUIRE(f);
  f->args = args, f->producers = producers, f->roles = roles;
  f->caller = pthread_self();
  f->ran = calloc(n, sizeof *f->ran);
  unsigned workers = ops->fibers->workers();
  if (!f->ran || workers == 0) {
    test_fail(__FILE__, __LINE__, "%s: %u workers (%s)", ops->name, workers,
              bq_error());
  } else {
    CHECK_STATUS(ops->fibers->run(n, fiber_role, fibers_go, f), CHAN_OK);
    for (size_t i = 0; i < n; i++)
      if (atomic_load(&f->ran[i]) != 1)
        test_fail(__FILE__, __LINE__, "%s: task %zu ran %d times", ops->name, i,
                  atomic_load(&f->ran[i]));
    CHECK_EQ(atomic_load(&f->go_calls), 1);
    CHECK_EQ(atomic_load(&f->go_elsewhere), 0);
    CHECK_EQ(atomic_load(&f->early), 0);
    CHECK_EQ(atomic_load(&f->on_caller), 0);
  }
  free(f->ran);
  free(f);
}

/* Moves `total` messages from p producers to c consumers through a fresh
 * queue (on threads, or as fibers of the row's own scheduler) and checks
 * that each arrived exactly once. */
static void run_round_on(const struct bq_ops *ops, bool on_fibers, int p, int c,
                         size_t cap, size_t elem, uint64_t total) {
  struct round *r = calloc(1, sizeof *r);
  REQUIRE(r);
  r->ops = ops, r->elem = elem, r->producers = p, r->consumers = c;
  r->on_fibers = on_fibers;
  int rc = ops->make(&r->q, elem, cap);
  if (rc != CHAN_OK) {
    test_fail(__FILE__, __LINE__, "%s: make(elem %zu, cap %zu): %d (%s)",
              ops->name, elem, cap, rc, bq_error());
    free(r);
    return;
  }
  for (int k = 0; k < p; k++) {
    r->per_producer[k] = total / (uint64_t)p + ((uint64_t)k < total % p);
    r->tally[k] = calloc(r->per_producer[k] + 1, 1);
  }
  for (int k = 0; k < c; k++)
    r->per_consumer[k] = total / (uint64_t)c + ((uint64_t)k < total % c);
  pthread_mutex_init(&r->error_mu, NULL);
  pthread_barrier_init(&r->start, NULL, (unsigned)(p + c));
  struct role_arg args[2 * MAX_ROLES];
  pthread_t threads[2 * MAX_ROLES];
  for (int k = 0; k < p + c; k++)
    args[k] = (struct role_arg){r, k < p ? k : k - p};
  if (on_fibers) {
    run_on_fibers(ops, args, (size_t)p, (size_t)(p + c), (size_t)(p + c));
  } else {
    for (int k = 0; k < p + c; k++)
      threads[k] =
          test_thread_start(k < p ? producer_main : consumer_main, &args[k]);
    for (int k = 0; k < p + c; k++)
      test_thread_join(threads[k]);
  }

  if (atomic_load(&r->failures))
    test_fail(__FILE__, __LINE__, "%s %dx%d cap %zu elem %zu: %s (%d errors)",
              ops->name, p, c, cap, elem, r->first_error,
              atomic_load(&r->failures));
  if (elem >= sizeof(uint64_t)) {
    uint64_t lost = 0, dup = 0;
    for (int k = 0; k < p; k++)
      for (uint64_t s = 0; s < r->per_producer[k]; s++) {
        uint8_t n = atomic_load(&r->tally[k][s]);
        lost += n == 0, dup += n > 1;
      }
    if (lost || dup)
      test_fail(__FILE__, __LINE__,
                "%s %dx%d cap %zu elem %zu: %llu values lost, %llu "
                "received more than once",
                ops->name, p, c, cap, elem, (unsigned long long)lost,
                (unsigned long long)dup);
    if (atomic_load(&r->sent_sum) != atomic_load(&r->received_sum))
      test_fail(__FILE__, __LINE__,
                "%s %dx%d cap %zu elem %zu: sent sum %llu != received sum "
                "%llu",
                ops->name, p, c, cap, elem,
                (unsigned long long)atomic_load(&r->sent_sum),
                (unsigned long long)atomic_load(&r->received_sum));
  }
  ops->destroy(r->q);
  pthread_barrier_destroy(&r->start);
  pthread_mutex_destroy(&r->error_mu);
  for (int k = 0; k < p; k++)
    free((void *)r->tally[k]);
  free(r);
}

static void run_round(const struct bq_ops *ops, int p, int c, size_t cap,
                      size_t elem, uint64_t total) {
  run_round_on(ops, false, p, c, cap, elem, total);
}

static void check_shapes(const struct bq_ops *ops) {
  bool mp = ops->features & BQ_MULTI_PRODUCER;
  bool mc = ops->features & BQ_MULTI_CONSUMER;
  const int shapes[4][2] = {{1, 1}, {3, 1}, {1, 3}, {2, 2}};
  size_t caps[4];
  int ncaps = 0;
  if (ops->features & BQ_RENDEZVOUS)
    caps[ncaps++] = 0;
  if (ops->features & BQ_BOUNDED) {
    caps[ncaps++] = 1;
    caps[ncaps++] = 128;
    caps[ncaps++] = 1024;
  } else {
    caps[ncaps++] = 128; /* unbounded: only an initial size */
  }
  uint64_t total = test_scale(20000);
  for (int s = 0; s < 4; s++) {
    int p = shapes[s][0], c = shapes[s][1];
    if ((p > 1 && !mp) || (c > 1 && !mc))
      continue;
    for (int i = 0; i < ncaps; i++) {
      /* Capacities 0 and 1 hand over nearly every message: fewer of them. */
      run_round(ops, p, c, caps[i], 8, caps[i] <= 1 ? total / 4 : total);
      if (ops->features & BQ_PAYLOAD)
        for (size_t e = 0; e < 3; e++)
          run_round(ops, p, c, caps[i], (size_t[]){0, 24, 4096}[e], total / 10);
    }
  }
}

/* ---- make: bad input ---------------------------------------------------- */

static void expect_refused(const struct bq_ops *ops, size_t elem, size_t cap,
                           const char *what) {
  void *q = NULL;
  int rc = ops->make(&q, elem, cap);
  if (rc >= 0) {
    test_fail(__FILE__, __LINE__, "%s: make(%s) succeeded", ops->name, what);
    if (rc == CHAN_OK)
      ops->destroy(q);
    return;
  }
  if (!bq_error()[0])
    test_fail(__FILE__, __LINE__, "%s: make(%s) gave no reason", ops->name,
              what);
  printf("  %s refuses %s: %s\n", ops->name, what, bq_error());
}

static void check_make(const struct bq_ops *ops) {
  CHECK(ops->name && ops->library && ops->make && ops->send && ops->recv &&
        ops->destroy);
  CHECK((ops->try_send != NULL) == !!(ops->features & BQ_TRY));
  CHECK((ops->try_recv != NULL) == !!(ops->features & BQ_TRY));
  CHECK((ops->close != NULL) == !!(ops->features & BQ_CLOSE));
  printf("  %s: %s\n", ops->name, ops->library);
  CHECK(ops->make(NULL, 8, 1) < 0);
  if (!(ops->features & BQ_RENDEZVOUS))
    expect_refused(ops, 8, 0, "capacity 0");
  if (ops->features & BQ_PAYLOAD)
    expect_refused(ops, MAX_ELEM + 1, 1, "elements of 4097 bytes");
  else
    expect_refused(ops, 24, 1, "elements of 24 bytes");
  expect_refused(ops, 8, (size_t)-1, "capacity SIZE_MAX");
}

/* ---- bounded / unbounded ------------------------------------------------- */

static void check_bounded(const struct bq_ops *ops) {
  if (!(ops->features & BQ_TRY)) {
    printf("  no BQ_TRY: fill not checked without blocking\n");
    return;
  }
  const size_t caps[] = {1, 3, 128, 1024};
  for (int i = 0; i < 4; i++) {
    void *q;
    REQUIRE_STATUS(ops->make(&q, 8, caps[i]), CHAN_OK);
    size_t limit = ops->features & BQ_BOUNDED ? caps[i] : 10 * caps[i];
    uint64_t n = 0;
    int rc;
    while (n <= limit && (rc = ops->try_send(q, &n)) == CHAN_OK)
      n++;
    if (ops->features & BQ_BOUNDED) {
      CHECK_STATUS(rc, CHAN_WOULD_BLOCK);
      if (n > caps[i] || n < (caps[i] + 1) / 2)
        test_fail(__FILE__, __LINE__, "%s cap %zu holds %llu", ops->name,
                  caps[i], (unsigned long long)n);
      printf("  %s: capacity %zu holds %llu\n", ops->name, caps[i],
             (unsigned long long)n);
    } else {
      CHECK_EQ(n, limit + 1); /* never refused */
    }
    for (uint64_t i2 = 0; i2 < n; i2++) {
      uint64_t v = UINT64_MAX;
      CHECK_STATUS(ops->try_recv(q, &v), CHAN_OK);
      CHECK_EQ(v, i2);
    }
    uint64_t v;
    CHECK_STATUS(ops->try_recv(q, &v), CHAN_WOULD_BLOCK);
    ops->destroy(q);
  }
}

/* ---- observing a parked thread ------------------------------------------ */

/* A thread doing one operation, observable from outside. */
struct waiter {
  const struct bq_ops *ops;
  void *q;
  bool is_send;
  uint64_t value;
  _Atomic pid_t tid;
  _Atomic int done; /* 1 once the operation returned */
  int rc;
  pthread_t thread;
};

static void *waiter_main(void *p) {
  struct waiter *w = p;
  atomic_store(&w->tid, gettid());
  w->rc = w->is_send ? w->ops->send(w->q, &w->value)
                     : w->ops->recv(w->q, &w->value);
  atomic_store(&w->done, 1);
  return NULL;
}

static void waiter_start(struct waiter *w, const struct bq_ops *ops, void *q,
                         bool is_send, uint64_t value) {
  *w = (struct waiter){.ops = ops, .q = q, .is_send = is_send, .value = value};
  w->thread = test_thread_start(waiter_main, w);
}

static char thread_state(pid_t tid) {
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tid);
  FILE *f = fopen(path, "r");
  if (!f)
    return '?';
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  const char *paren = strrchr(buf, ')'); /* the name may hold spaces */
  return paren && paren[1] == ' ' ? paren[2] : '?';
}

static int64_t thread_cpu_ns(pthread_t t) {
  clockid_t clk;
  struct timespec ts;
  if (pthread_getcpuclockid(t, &clk) != 0 || clock_gettime(clk, &ts) != 0)
    return -1;
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Waits until w sleeps in the kernel with its operation still pending, then
 * checks that it uses (almost) no CPU for 20 ms. False (and a failure) if
 * it returned instead or never slept. */
static bool wait_parked(struct waiter *w, const char *what) {
  int64_t deadline = test_now_ns() + 30 * (int64_t)1000000000;
  while (atomic_load(&w->tid) == 0 ||
         thread_state(atomic_load(&w->tid)) != 'S') {
    if (atomic_load(&w->done)) {
      test_fail(__FILE__, __LINE__, "%s: %s returned %d instead of waiting",
                w->ops->name, what, w->rc);
      return false;
    }
    if (test_now_ns() > deadline) {
      test_fail(__FILE__, __LINE__, "%s: %s never slept in the kernel",
                w->ops->name, what);
      return false;
    }
    sched_yield();
  }
  int64_t cpu0 = thread_cpu_ns(w->thread);
  struct timespec pause = {0, 20000000};
  nanosleep(&pause, NULL);
  int64_t used = thread_cpu_ns(w->thread) - cpu0;
  if (atomic_load(&w->done)) {
    test_fail(__FILE__, __LINE__, "%s: %s returned %d while parked",
              w->ops->name, what, w->rc);
    return false;
  }
  if (used > 2000000)
    test_fail(__FILE__, __LINE__,
              "%s: %s used %lld us of CPU in 20 ms while parked", w->ops->name,
              what, (long long)(used / 1000));
  return true;
}

/* Starts a thread doing one send of value (is_send) or one receive on q,
 * waits until it is parked, then does the counterpart from here: the
 * receive on either side must get expect. */
static void park_then_release(const struct bq_ops *ops, void *q, bool is_send,
                              uint64_t value, uint64_t expect,
                              const char *what) {
  struct waiter w;
  waiter_start(&w, ops, q, is_send, value);
  /* Released even when it failed to park (so the test ends rather than
   * hangs), unless it already returned. */
  if (wait_parked(&w, what) || !atomic_load(&w.done)) {
    uint64_t v = value;
    CHECK_STATUS(is_send ? ops->recv(q, &v) : ops->send(q, &v), CHAN_OK);
    if (is_send)
      CHECK_EQ(v, expect);
  }
  test_thread_join(w.thread);
  CHECK_STATUS(w.rc, CHAN_OK);
  if (!is_send)
    CHECK_EQ(w.value, expect);
}

static void check_parks(const struct bq_ops *ops) {
  /* Buffered (capacity 0 is check_rendezvous's); unbounded rows take 128
   * as their initial size. */
  size_t cap = ops->features & BQ_BOUNDED ? 2 : 128;
  void *q;
  REQUIRE_STATUS(ops->make(&q, 8, cap), CHAN_OK);
  /* A receiver on an empty queue parks and wakes for a send. */
  park_then_release(ops, q, false, 42, 42, "recv on an empty queue");
  if ((ops->features & BQ_BOUNDED) && (ops->features & BQ_TRY)) {
    /* A sender on a full queue parks and wakes for a receive (which takes
     * the oldest value, 0). */
    uint64_t n = 0;
    while (ops->try_send(q, &n) == CHAN_OK)
      n++;
    park_then_release(ops, q, true, n, 0, "send on a full queue");
    for (uint64_t i = 1; i <= n; i++) {
      uint64_t v;
      CHECK_STATUS(ops->recv(q, &v), CHAN_OK);
      CHECK_EQ(v, i);
    }
  }
  ops->destroy(q);
}

/* ---- rendezvous -----------------------------------------------------------
 */

static void check_rendezvous(const struct bq_ops *ops) {
  void *q;
  REQUIRE_STATUS(ops->make(&q, 8, 0), CHAN_OK);
  /* Without BQ_BLOCKING a waiting send would spin, not sleep; every
   * rendezvous row here blocks. */
  REQUIRE(ops->features & BQ_BLOCKING);
  park_then_release(ops, q, true, 7, 7, "send with no receiver");
  park_then_release(ops, q, false, 9, 9, "recv with no sender");

  if (ops->features & BQ_TRY) {
    /* Try at capacity 0 either works as Go's (no counterpart: would block)
     * or is refused with a reason; it never pretends. */
    uint64_t v = 1;
    int rc = ops->try_send(q, &v);
    if (rc < 0) {
      CHECK(bq_error()[0] != '\0');
      printf("  %s: try at capacity 0 refused: %s\n", ops->name, bq_error());
    } else {
      CHECK_STATUS(rc, CHAN_WOULD_BLOCK);
      CHECK_STATUS(ops->try_recv(q, &v), CHAN_WOULD_BLOCK);
    }
  }
  ops->destroy(q);
}

/* ---- close ------------------------------------------------------------------
 */

struct close_race {
  const struct bq_ops *ops;
  void *q;
  _Atomic uint64_t sent, received, sent_sum, received_sum;
};

static void *race_sender(void *p) {
  struct close_race *c = p;
  uint64_t n = 0, sum = 0;
  for (uint64_t v = 1;; v++) {
    int rc = c->ops->send(c->q, &v);
    if (rc == CHAN_CLOSED)
      break;
    if (rc != CHAN_OK) {
      test_fail(__FILE__, __LINE__, "send: %d", rc);
      break;
    }
    n++, sum += v;
  }
  atomic_fetch_add(&c->sent, n);
  atomic_fetch_add(&c->sent_sum, sum);
  return NULL;
}

static void *race_receiver(void *p) {
  struct close_race *c = p;
  uint64_t n = 0, sum = 0, v;
  int rc;
  while ((rc = c->ops->recv(c->q, &v)) == CHAN_OK)
    n++, sum += v;
  CHECK_STATUS(rc, CHAN_CLOSED);
  atomic_fetch_add(&c->received, n);
  atomic_fetch_add(&c->received_sum, sum);
  return NULL;
}

static void check_close(const struct bq_ops *ops) {
  void *q;
  uint64_t v;
  /* Drain in order, then closed; send after close; second close. */
  REQUIRE_STATUS(ops->make(&q, 8, 4), CHAN_OK);
  for (v = 1; v <= 3; v++)
    CHECK_STATUS(ops->send(q, &v), CHAN_OK);
  CHECK_STATUS(ops->close(q), CHAN_OK);
  CHECK_STATUS(ops->send(q, &v), CHAN_CLOSED);
  for (uint64_t want = 1; want <= 3; want++) {
    CHECK_STATUS(ops->recv(q, &v), CHAN_OK);
    CHECK_EQ(v, want);
  }
  CHECK_STATUS(ops->recv(q, &v), CHAN_CLOSED);
  CHECK(ops->close(q) < 0);
  ops->destroy(q);

  /* Close wakes a parked receiver, and a parked sender whose value is then
   * not delivered (capacity 0 if a rendezvous, else a full capacity 1). */
  const bool rv = ops->features & BQ_RENDEZVOUS;
  for (int side = 0; side < 2; side++) {
    REQUIRE_STATUS(ops->make(&q, 8, rv ? 0 : 1), CHAN_OK);
    bool is_send = side == 1;
    if (is_send && !rv) {
      v = 0;
      CHECK_STATUS(ops->send(q, &v), CHAN_OK); /* fill it */
    }
    struct waiter w;
    waiter_start(&w, ops, q, is_send, 5);
    if (wait_parked(&w, is_send ? "send before close" : "recv before close"))
      CHECK_STATUS(ops->close(q), CHAN_OK);
    test_thread_join(w.thread);
    CHECK_STATUS(w.rc, CHAN_CLOSED);
    if (is_send && !rv) {
      CHECK_STATUS(ops->recv(q, &v), CHAN_OK); /* the buffered one */
      CHECK_EQ(v, 0);
    }
    CHECK_STATUS(ops->recv(q, &v), CHAN_CLOSED); /* not the sender's 5 */
    ops->destroy(q);
  }

  /* Close racing 2 senders and 2 receivers: all sent is received. Only
   * buffered: Boost.Fiber 1.74's unbuffered close is unsafe against a
   * concurrent receive (boost_fiber.cc), and it is the one row with both
   * close and rendezvous. */
  {
    const size_t cap = 16;
    struct close_race c = {.ops = ops};
    REQUIRE_STATUS(ops->make(&c.q, 8, cap), CHAN_OK);
    pthread_t t[4];
    for (int k = 0; k < 4; k++)
      t[k] = test_thread_start(k < 2 ? race_sender : race_receiver, &c);
    /* Close once a value went through (received here, not slept for). */
    uint64_t got;
    CHECK_STATUS(ops->recv(c.q, &got), CHAN_OK);
    atomic_fetch_add(&c.received, 1);
    atomic_fetch_add(&c.received_sum, got);
    CHECK_STATUS(ops->close(c.q), CHAN_OK);
    for (int k = 0; k < 4; k++)
      test_thread_join(t[k]);
    CHECK_EQ(atomic_load(&c.sent), atomic_load(&c.received));
    CHECK_EQ(atomic_load(&c.sent_sum), atomic_load(&c.received_sum));
    printf("  %s cap %zu: close after %llu values, none lost\n", ops->name, cap,
           (unsigned long long)atomic_load(&c.sent));
    ops->destroy(c.q);
  }
}

/* ---- the row's own fiber scheduler ------------------------------------- */

/* With bq_ops.fibers: every task runs once on a fiber of a worker thread,
 * all let go together after go() on the caller's thread; fibers blocked in
 * the row's send and receive free their workers (more fibers than workers
 * move every value exactly once, in producer order); bad input is refused;
 * after shutdown a run is refused with a reason and runs nothing. */
static void check_own_fibers(const struct bq_ops *ops) {
  const struct bq_fibers *fb = ops->fibers;
  if (!fb) {
    printf("  %s has no fiber scheduler of its own: nothing to check\n",
           ops->name);
    return;
  }
  REQUIRE(fb->name && fb->run && fb->workers && fb->shutdown);
  unsigned workers = fb->workers();
  printf("  %s: %s, %u workers\n", ops->name, fb->name, workers);
  REQUIRE(workers > 0);
  size_t n = 4 * workers + 3;
  struct role_arg *none = calloc(n, sizeof *none);
  REQUIRE(none);
  run_on_fibers(ops, none, 0, 0, n); /* tasks only */
  free(none);
  uint64_t total = test_scale(20000);
  const size_t caps[] = {0, 1, 128};
  for (int i = 0; i < 3; i++) {
    if (caps[i] == 0 && !(ops->features & BQ_RENDEZVOUS))
      continue;
    run_round_on(ops, true, 1, 1, caps[i], 8, total / 4);
    if (ops->features & BQ_MULTI_PRODUCER && ops->features & BQ_MULTI_CONSUMER)
      run_round_on(ops, true, MAX_ROLES, MAX_ROLES, caps[i], 8, total / 4);
  }
  CHECK(fb->run(0, NULL, NULL, NULL) < 0 && bq_error()[0]);
  fb->shutdown();
  struct fiber_roles after = {.caller = pthread_self()};
  _Atomic int ran = 0;
  after.ran = &ran;
  CHECK(fb->run(1, fiber_role, fibers_go, &after) < 0);
  printf("  after shutdown: %s\n", bq_error());
  CHECK(bq_error()[0]);
  CHECK_EQ(atomic_load(&ran), 0);
  CHECK_EQ(atomic_load(&after.go_calls), 0);
}

/* ---- one set of tests per built row ------------------------------------- */

/* ---- the registry ------------------------------------------------------- */

/* Every row of peers.def is listed once, in order: built (its ops carry its
 * name) or skipped with the reason. */
TEST(registry__rows) {
  size_t n;
  const struct bq_peer *p = bq_peers(&n);
  CHECK_EQ(n, CHAN_PEER_ROWS); /* the PEER lines CMake counted */
  for (size_t i = 0; i < n; i++) {
    if (p[i].ops) {
      CHECK(p[i].skipped == NULL);
      CHECK(strcmp(p[i].ops->name, p[i].name) == 0);
      CHECK(bq_peer_find(p[i].name) == p[i].ops);
    } else {
      CHECK(p[i].skipped && strncmp(p[i].skipped, "skipped: ", 9) == 0);
      CHECK(bq_peer_find(p[i].name) == NULL);
    }
    printf("  %s: %s\n", p[i].name,
           p[i].ops ? p[i].ops->library : p[i].skipped);
  }
  CHECK(bq_peer_find("no such peer") == NULL);
}

/* Runs check if the row claims feature, else says it has nothing to do. */
static void if_claimed(const struct bq_ops *ops, unsigned feature,
                       const char *feature_name,
                       void (*check)(const struct bq_ops *)) {
  if (ops->features & feature)
    check(ops);
  else
    printf("  %s lacks %s: nothing to check\n", ops->name, feature_name);
}

#define PEER_BUILT(n)                                                          \
  extern const struct bq_ops bq_peer_##n;                                      \
  TEST(n##__shapes) {                                                          \
    check_shapes(&bq_peer_##n);                                                \
  }                                                                            \
  TEST(n##__make) {                                                            \
    CHECK(strcmp(bq_peer_##n.name, #n) == 0);                                  \
    check_make(&bq_peer_##n);                                                  \
  }                                                                            \
  TEST(n##__bounded) {                                                         \
    check_bounded(&bq_peer_##n);                                               \
  }                                                                            \
  TEST(n##__parks) {                                                           \
    if_claimed(&bq_peer_##n, BQ_BLOCKING, "BQ_BLOCKING", check_parks);         \
  }                                                                            \
  TEST(n##__rendezvous) {                                                      \
    if_claimed(&bq_peer_##n, BQ_RENDEZVOUS, "BQ_RENDEZVOUS",                   \
               check_rendezvous);                                              \
  }                                                                            \
  TEST(n##__close) {                                                           \
    if_claimed(&bq_peer_##n, BQ_CLOSE, "BQ_CLOSE", check_close);               \
  }                                                                            \
  TEST(n##__own_fibers) {                                                      \
    check_own_fibers(&bq_peer_##n);                                            \
  }
#define PEER_SKIPPED(n, why)
#include "peers_built.h"
