/* core_close.c - close: drain then closed, wakes everyone, errors. */
#include "core_util.h"

TEST(close_drains_buffer_in_order_then_reports_closed) {
  chan_t *ch = test_chan(sizeof(int64_t), 4);
  REQUIRE(ch);
  for (int64_t i = 10; i < 13; i++)
    CHECK_STATUS(chan_send(ch, &i), CHAN_OK);
  CHECK_STATUS(chan_close(ch), CHAN_OK);
  for (int64_t i = 10; i < 13; i++) {
    int64_t got = -1;
    CHECK_STATUS(chan_recv(ch, &got), CHAN_OK);
    CHECK_EQ(got, i);
  }
  for (int k = 0; k < 3; k++) {
    int64_t got = 0x5555;
    CHECK_STATUS(chan_recv(ch, &got), CHAN_CLOSED);
    CHECK_EQ(got, 0); /* the zero value, like Go's v, ok := <-c */
    got = 0x5555;
    CHECK_STATUS(chan_try_recv(ch, &got), CHAN_CLOSED);
    CHECK_EQ(got, 0);
    CHECK_STATUS(chan_recv_timeout(ch, &got, 1000000000), CHAN_CLOSED);
  }
  chan_destroy(ch);
}

TEST(send_on_closed_reports_closed_and_delivers_nothing) {
  const size_t caps[] = {0, 2};
  for (size_t c = 0; c < 2; c++) {
    chan_t *ch = test_chan(sizeof(int64_t), caps[c]);
    REQUIRE(ch);
    CHECK_STATUS(chan_close(ch), CHAN_OK);
    int64_t v = 1;
    CHECK_STATUS(chan_send(ch, &v), CHAN_CLOSED);
    CHECK_STATUS(chan_try_send(ch, &v), CHAN_CLOSED);
    CHECK_STATUS(chan_send_timeout(ch, &v, 1000000), CHAN_CLOSED);
    CHECK_EQ(chan_len(ch), 0);
    CHECK_STATUS(chan_recv(ch, &v), CHAN_CLOSED);
    chan_destroy(ch);
  }
}

TEST(second_close_is_an_error) {
  chan_t *ch = test_chan(sizeof(int64_t), 1);
  REQUIRE(ch);
  CHECK_STATUS(chan_close(ch), CHAN_OK);
  CHECK_STATUS(chan_close(ch), CHAN_EALREADY_CLOSED);
  chan_destroy(ch);
}

TEST(close_wakes_every_blocked_receiver) {
  enum { N = 6 };
  const size_t caps[] = {0, 3};
  for (size_t c = 0; c < 2; c++) {
    chan_t *ch = test_chan(sizeof(int64_t), caps[c]);
    REQUIRE(ch);
    struct op_thread ops[N];
    for (int i = 0; i < N; i++)
      op_start(&ops[i], ch, CHAN_RECV, 77);
    REQUIRE(test_wait_waiters(ch, CHAN_RECV, N));
    CHECK_STATUS(chan_close(ch), CHAN_OK);
    for (int i = 0; i < N; i++) {
      op_join(&ops[i]);
      CHECK_STATUS(ops[i].result, CHAN_CLOSED);
      CHECK_EQ(ops[i].value, 0);
    }
    CHECK_EQ(chan_debug_waiters(ch, CHAN_RECV), 0);
    CHECK_STATUS(chan_destroy(ch), CHAN_OK);
  }
}

TEST(close_wakes_every_blocked_sender_without_delivering) {
  enum { N = 5 };
  const size_t caps[] = {0, 1};
  for (size_t c = 0; c < 2; c++) {
    chan_t *ch = test_chan(sizeof(int64_t), caps[c]);
    REQUIRE(ch);
    int64_t first = 1000;
    if (caps[c])
      CHECK_STATUS(chan_send(ch, &first), CHAN_OK); /* now full */
    struct op_thread ops[N];
    for (int i = 0; i < N; i++)
      op_start(&ops[i], ch, CHAN_SEND, i);
    REQUIRE(test_wait_waiters(ch, CHAN_SEND, N));
    CHECK_STATUS(chan_close(ch), CHAN_OK);
    for (int i = 0; i < N; i++) {
      op_join(&ops[i]);
      CHECK_STATUS(ops[i].result, CHAN_CLOSED);
    }
    /* Only what was buffered before the close comes out. */
    int64_t got = -1;
    if (caps[c]) {
      CHECK_STATUS(chan_recv(ch, &got), CHAN_OK);
      CHECK_EQ(got, first);
    }
    CHECK_STATUS(chan_recv(ch, &got), CHAN_CLOSED);
    CHECK_STATUS(chan_destroy(ch), CHAN_OK);
  }
}

TEST(close_wakes_timed_waiters_before_their_deadline) {
  chan_t *ch = test_chan(sizeof(int64_t), 0);
  REQUIRE(ch);
  struct op_thread r, s;
  r = (struct op_thread){.ch = ch, .dir = CHAN_RECV, .timeout_ns = 3600e9};
  r.task = test_spawn(op_thread_main, &r);
  REQUIRE(test_wait_waiters(ch, CHAN_RECV, 1));
  CHECK_STATUS(chan_close(ch), CHAN_OK);
  op_join(&r);
  CHECK_STATUS(r.result, CHAN_CLOSED);
  s = (struct op_thread){.ch = ch, .dir = CHAN_SEND, .timeout_ns = 3600e9};
  s.task = test_spawn(op_thread_main, &s);
  op_join(&s);
  CHECK_STATUS(s.result, CHAN_CLOSED);
  chan_destroy(ch);
}
