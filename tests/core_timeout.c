/* core_timeout.c - timed operations: never early, no effect when expired. */
#include "core_util.h"

#define MS 1000000LL

TEST(timed_receive_expires_no_earlier_than_deadline) {
  const size_t caps[] = {0, 4};
  for (size_t c = 0; c < 2; c++) {
    chan_t *ch = test_chan(sizeof(int64_t), caps[c]);
    REQUIRE(ch);
    int64_t got = 123;
    int64_t start = test_now_ns();
    CHECK_STATUS(chan_recv_timeout(ch, &got, 20 * MS), CHAN_TIMEOUT);
    CHECK(test_now_ns() - start >= 20 * MS);
    CHECK_EQ(got, 123);                             /* untouched */
    CHECK_EQ(chan_debug_waiters(ch, CHAN_RECV), 0); /* fully unlinked */
    chan_destroy(ch);
  }
}

TEST(timed_send_expires_without_effect) {
  /* Unbuffered: nobody receives; afterwards nothing is pending. */
  chan_t *ch = test_chan(sizeof(int64_t), 0);
  REQUIRE(ch);
  int64_t v = 9, got = 0;
  int64_t start = test_now_ns();
  CHECK_STATUS(chan_send_timeout(ch, &v, 15 * MS), CHAN_TIMEOUT);
  CHECK(test_now_ns() - start >= 15 * MS);
  CHECK_EQ(chan_debug_waiters(ch, CHAN_SEND), 0);
  CHECK_STATUS(chan_try_recv(ch, &got), CHAN_WOULD_BLOCK);
  chan_destroy(ch);

  /* Full buffer: the contents stay exactly as they were. */
  ch = test_chan(sizeof(int64_t), 2);
  REQUIRE(ch);
  int64_t a = 1, b = 2;
  chan_send(ch, &a);
  chan_send(ch, &b);
  CHECK_STATUS(chan_send_timeout(ch, &v, 15 * MS), CHAN_TIMEOUT);
  CHECK_EQ(chan_len(ch), 2);
  CHECK_STATUS(chan_recv(ch, &got), CHAN_OK);
  CHECK_EQ(got, 1);
  CHECK_STATUS(chan_recv(ch, &got), CHAN_OK);
  CHECK_EQ(got, 2);
  CHECK_STATUS(chan_try_recv(ch, &got), CHAN_WOULD_BLOCK);
  chan_destroy(ch);
}

TEST(timeout_zero_polls_and_negative_is_invalid) {
  chan_t *ch = test_chan(sizeof(int64_t), 1);
  REQUIRE(ch);
  int64_t v = 1;
  CHECK_STATUS(chan_recv_timeout(ch, &v, 0), CHAN_WOULD_BLOCK);
  CHECK_STATUS(chan_send_timeout(ch, &v, 0), CHAN_OK);
  CHECK_STATUS(chan_send_timeout(ch, &v, 0), CHAN_WOULD_BLOCK);
  CHECK_STATUS(chan_send_timeout(ch, &v, -1), CHAN_EINVAL);
  CHECK_STATUS(chan_recv_timeout(ch, &v, -5), CHAN_EINVAL);
  chan_destroy(ch);
}

TEST(timed_operation_succeeds_when_counterpart_arrives) {
  const size_t caps[] = {0, 1};
  for (size_t c = 0; c < 2; c++) {
    chan_t *ch = test_chan(sizeof(int64_t), caps[c]);
    REQUIRE(ch);
    struct op_thread r = {.ch = ch, .dir = CHAN_RECV, .timeout_ns = 3600e9};
    r.task = test_spawn(op_thread_main, &r);
    REQUIRE(test_wait_waiters(ch, CHAN_RECV, 1));
    int64_t v = 31;
    CHECK_STATUS(chan_send(ch, &v), CHAN_OK);
    op_join(&r);
    CHECK_STATUS(r.result, CHAN_OK);
    CHECK_EQ(r.value, 31);

    if (caps[c]) /* fill, so the timed send has to wait */
      CHECK_STATUS(chan_send(ch, &v), CHAN_OK);
    struct op_thread s = {
        .ch = ch, .dir = CHAN_SEND, .value = 32, .timeout_ns = 3600e9};
    s.task = test_spawn(op_thread_main, &s);
    REQUIRE(test_wait_waiters(ch, CHAN_SEND, 1));
    int64_t got = 0;
    CHECK_STATUS(chan_recv(ch, &got), CHAN_OK);
    if (caps[c]) {
      CHECK_EQ(got, 31);
      CHECK_STATUS(chan_recv(ch, &got), CHAN_OK);
    }
    CHECK_EQ(got, 32);
    op_join(&s);
    CHECK_STATUS(s.result, CHAN_OK);
    chan_destroy(ch);
  }
}

/* A receiver that timed out must not take a value sent afterwards. */
TEST(expired_waiter_is_gone) {
  chan_t *ch = test_chan(sizeof(int64_t), 0);
  REQUIRE(ch);
  int64_t got = 0;
  CHECK_STATUS(chan_recv_timeout(ch, &got, 2 * MS), CHAN_TIMEOUT);
  int64_t v = 1;
  CHECK_STATUS(chan_try_send(ch, &v), CHAN_WOULD_BLOCK);
  CHECK_STATUS(chan_send_timeout(ch, &v, 2 * MS), CHAN_TIMEOUT);
  CHECK_STATUS(chan_try_recv(ch, &got), CHAN_WOULD_BLOCK);
  CHECK_STATUS(chan_destroy(ch), CHAN_OK);
}

struct racer {
  chan_t *ch;
  int iterations;
  int64_t received;
  int64_t sum;
};

static void *timed_receiver(void *arg) {
  struct racer *r = arg;
  for (;;) {
    int64_t v;
    int rc = chan_recv_timeout(r->ch, &v, 50000);
    if (rc == CHAN_OK) {
      r->received++;
      r->sum += v;
    } else if (rc == CHAN_CLOSED) {
      return NULL;
    } else if (rc != CHAN_TIMEOUT) {
      CHECK_STATUS(rc, CHAN_TIMEOUT);
      return NULL;
    }
  }
}

/* Timeouts racing deliveries: every value sent is received exactly once. */
TEST(timeouts_racing_deliveries_lose_nothing) {
  const size_t caps[] = {0, 2};
  for (size_t c = 0; c < 2; c++) {
    chan_t *ch = test_chan(sizeof(int64_t), caps[c]);
    REQUIRE(ch);
    struct racer r[2] = {{ch, 0, 0, 0}, {ch, 0, 0, 0}};
    test_task t[2];
    for (int i = 0; i < 2; i++)
      t[i] = test_spawn(timed_receiver, &r[i]);
    int64_t n = (int64_t)test_scale(20000), sent = 0, sum = 0;
    for (int64_t v = 1; v <= n; v++) {
      int rc = chan_send_timeout(ch, &v, 30000);
      if (rc == CHAN_OK) {
        sent++;
        sum += v;
      } else {
        CHECK_STATUS(rc, CHAN_TIMEOUT);
      }
    }
    CHECK_STATUS(chan_close(ch), CHAN_OK);
    for (int i = 0; i < 2; i++)
      test_join(t[i]);
    CHECK_EQ(r[0].received + r[1].received, sent);
    CHECK_EQ(r[0].sum + r[1].sum, sum);
    CHECK_STATUS(chan_destroy(ch), CHAN_OK);
  }
}
