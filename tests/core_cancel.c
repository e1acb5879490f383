/*
 * core_cancel.c - thread cancellation and signals against blocked channel
 * operations (chan.h, "Threads, cancellation and signals").
 *
 * The contract: no channel function is a cancellation point, on any
 * implementation. A pthread_cancel of a thread blocked in a send, receive or
 * select (timed or not) stays pending while the operation runs to its end;
 * the operation returns its normal result and the thread is canceled at its
 * next cancellation point. So a value handed to it right after the cancel
 * moves exactly once, nothing stays queued on the channel, and the channel
 * stays usable. Signals that return do not disturb a blocked operation.
 */
#include "core_util.h"

#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

/* Cancellation and signals are about OS threads. */
TEST_EXECUTORS("thread")

/* The counterpart of b's operation, made by the test thread: a timed
 * operation, so that a lost waiter fails the test instead of hanging it. */
static void complete_counterpart(struct op_thread *b, size_t cap) {
  int64_t v = 0;
  if (b->dir == CHAN_RECV) {
    v = 4242;
    CHECK_STATUS(chan_send_timeout(b->ch, &v, 10 * (int64_t)1000000000),
                 CHAN_OK);
    return;
  }
  if (cap > 0) { /* the filler first, then the blocked sender's value */
    CHECK_STATUS(chan_recv_timeout(b->ch, &v, 10 * (int64_t)1000000000),
                 CHAN_OK);
    CHECK_EQ(v, -1);
  }
  CHECK_STATUS(chan_recv_timeout(b->ch, &v, 10 * (int64_t)1000000000), CHAN_OK);
  CHECK_EQ(v, 4242);
}

/* After the dust settles: nothing queued, nothing left over, still usable. */
static void check_channel_usable(chan_t *ch, size_t cap) {
  CHECK_EQ(chan_debug_waiters(ch, CHAN_RECV), 0);
  CHECK_EQ(chan_debug_waiters(ch, CHAN_SEND), 0);
  CHECK_EQ(chan_len(ch), 0);
  int64_t v = 7;
  CHECK_STATUS(chan_try_recv(ch, &v), CHAN_WOULD_BLOCK); /* moved once */
  if (cap > 0) {
    CHECK_STATUS(chan_try_send(ch, &v), CHAN_OK);
    v = 0;
    CHECK_STATUS(chan_try_recv(ch, &v), CHAN_OK);
    CHECK_EQ(v, 7);
  }
  CHECK_STATUS(chan_close(ch), CHAN_OK);
  CHECK_STATUS(chan_destroy(ch), CHAN_OK);
}

/* Cancels a thread blocked in dir (every kind, capacities 0 and 1), then
 * at once makes the counterpart operation. */
static void cancel_blocked(enum chan_dir dir) {
  const size_t caps[] = {0, 1};
  for (size_t c = 0; c < 2; c++) {
    for (int kind = 0; kind < BLOCK_KINDS; kind++) {
      chan_t *ch = test_chan(sizeof(int64_t), caps[c]);
      chan_t *idle = test_chan(0, 0);
      REQUIRE(ch && idle);
      if (dir == CHAN_SEND && caps[c] > 0) {
        int64_t filler = -1; /* full: the sender will block */
        REQUIRE_STATUS(chan_try_send(ch, &filler), CHAN_OK);
      }
      struct op_thread b;
      op_start_blocking(&b, ch, idle, dir, (enum block_kind)kind,
                        dir == CHAN_SEND ? 4242 : 0, NULL);
      REQUIRE(test_wait_waiters(ch, dir, 1));
      REQUIRE(pthread_cancel(b.task.thread) == 0);
      complete_counterpart(&b, caps[c]);
      void *ret = test_join(b.task);
      if (ret != PTHREAD_CANCELED)
        test_fail(__FILE__, __LINE__,
                  "capacity %zu, %s %s: the thread was not canceled at its "
                  "next cancellation point",
                  caps[c], block_kind_name((enum block_kind)kind),
                  dir == CHAN_SEND ? "send" : "receive");
      CHECK(op_done(&b));
      CHECK_STATUS(b.result, CHAN_OK);
      if (dir == CHAN_RECV)
        CHECK_EQ(b.value, 4242);
      check_channel_usable(ch, caps[c]);
      chan_destroy(idle);
    }
  }
}

TEST(canceled_receiver_still_receives_then_exits_at_its_next_cancel_point) {
  cancel_blocked(CHAN_RECV);
}

TEST(canceled_sender_still_sends_then_exits_at_its_next_cancel_point) {
  cancel_blocked(CHAN_SEND);
}

/* ---- signals ----------------------------------------------------------- */

static atomic_int signals_seen;

static void count_signal(int sig) {
  (void)sig;
  atomic_fetch_add_explicit(&signals_seen, 1, memory_order_relaxed);
}

/* True while sig is pending for thread tid: the kernel has not delivered it
 * yet (delivery interrupts whatever system call the thread sleeps in). */
static bool signal_pending(int tid, int sig) {
  char path[64], line[128];
  snprintf(path, sizeof path, "/proc/self/task/%d/status", tid);
  FILE *f = fopen(path, "r");
  if (!f)
    return false;
  unsigned long long mask = 0;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "SigPnd: %llx", &mask) == 1)
      break;
  fclose(f);
  return mask & (1ull << (sig - 1));
}

/* ThreadSanitizer runs a handler only when the thread next enters a
 * function it intercepts, which a thread asleep in a futex does not: there
 * the test counts deliveries, not handler runs. */
#if defined(__SANITIZE_THREAD__)
#define HANDLERS_DEFERRED 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define HANDLERS_DEFERRED 1
#endif
#endif
#ifndef HANDLERS_DEFERRED
#define HANDLERS_DEFERRED 0
#endif

TEST(signals_leave_a_blocked_operation_blocked_and_correct) {
  /* No SA_RESTART: every blocking system call inside is interrupted. */
  struct sigaction sa = {.sa_handler = count_signal}, old;
  sigemptyset(&sa.sa_mask);
  REQUIRE(sigaction(SIGUSR1, &sa, &old) == 0);
  int nsignals = (int)test_scale(200);
  for (int d = 0; d < 2; d++) {
    enum chan_dir dir = d ? CHAN_SEND : CHAN_RECV;
    for (int kind = 0; kind < BLOCK_KINDS; kind++) {
      chan_t *ch = test_chan(sizeof(int64_t), 0);
      chan_t *idle = test_chan(0, 0);
      REQUIRE(ch && idle);
      struct op_thread b;
      atomic_store(&signals_seen, 0);
      op_start_blocking(&b, ch, idle, dir, (enum block_kind)kind,
                        dir == CHAN_SEND ? 4242 : 0, NULL);
      REQUIRE(test_wait_waiters(ch, dir, 1));
      for (int i = 0; i < nsignals; i++) {
        REQUIRE(pthread_kill(b.task.thread, SIGUSR1) == 0);
        /* One at a time: a signal sent while one is pending merges. */
        int64_t deadline = test_now_ns() + 10 * (int64_t)1000000000;
        while ((HANDLERS_DEFERRED
                    ? signal_pending(__atomic_load_n(&b.tid, __ATOMIC_ACQUIRE),
                                     SIGUSR1)
                    : atomic_load(&signals_seen) <= i) &&
               test_now_ns() < deadline)
          test_yield();
        if (HANDLERS_DEFERRED
                ? signal_pending(__atomic_load_n(&b.tid, __ATOMIC_ACQUIRE),
                                 SIGUSR1)
                : atomic_load(&signals_seen) <= i) {
          test_fail(__FILE__, __LINE__, "signal %d never delivered", i);
          break;
        }
      }
      CHECK(!op_done(&b));
      CHECK_EQ(chan_debug_waiters(ch, dir), 1);
      complete_counterpart(&b, 0);
      CHECK(test_join(b.task) == NULL);
      CHECK_STATUS(b.result, CHAN_OK);
      if (dir == CHAN_RECV)
        CHECK_EQ(b.value, 4242);
      check_channel_usable(ch, 0);
      chan_destroy(idle);
    }
  }
  sigaction(SIGUSR1, &old, NULL);
}
