/* core_basic.c - values, buffering, rendezvous, try operations, registry. */
#include "core_util.h"

#include <stdlib.h>
#include <string.h>

TEST(registry_lists_impls_and_names_channels) {
  size_t n = 0;
  const char *const *names = chan_impl_names(&n);
  CHECK(n >= 3);
  CHECK(names[n] == NULL);
  bool found = false;
  for (size_t i = 0; i < n; i++)
    found |= !strcmp(names[i], test_impl());
  CHECK(found);

  chan_t *ch = test_chan(8, 0);
  REQUIRE(ch);
  CHECK(!strcmp(chan_impl_name(ch), test_impl()));
  CHECK_EQ(chan_elem_size(ch), 8);
  chan_destroy(ch);

  /* NULL and "default" both pick the first registered implementation. */
  const char *defaults[] = {NULL, "default"};
  for (int i = 0; i < 2; i++) {
    REQUIRE_STATUS(chan_make(&ch, defaults[i], 4, 1), CHAN_OK);
    CHECK(!strcmp(chan_impl_name(ch), names[0]));
    chan_destroy(ch);
  }
}

/* A byte pattern that differs per value and per byte. */
static void fill(unsigned char *buf, size_t size, uint64_t value) {
  for (size_t i = 0; i < size; i++)
    buf[i] = (unsigned char)(value * 131 + i * 7 + (i >> 8));
}

struct sized_producer {
  chan_t *ch;
  size_t size;
  int count;
};

static void *sized_producer_main(void *arg) {
  struct sized_producer *p = arg;
  unsigned char *buf = malloc(p->size ? p->size : 1);
  for (int i = 0; i < p->count; i++) {
    fill(buf, p->size, (uint64_t)i);
    CHECK_STATUS(chan_send(p->ch, p->size ? buf : NULL), CHAN_OK);
  }
  free(buf);
  return NULL;
}

/* Values of 0, 1, 8, 24 and 4096 bytes arrive intact and in order, across
 * threads, at every capacity (also: plain payload writes happen-before the
 * receiver's reads, which TSan checks). */
TEST(values_of_any_size_arrive_intact) {
  const size_t sizes[] = {0, 1, 8, 24, 4096};
  const size_t caps[] = {0, 1, 3, 128};
  const int count = (int)test_scale(2000);
  for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
    for (size_t c = 0; c < sizeof caps / sizeof *caps; c++) {
      chan_t *ch = test_chan(sizes[s], caps[c]);
      REQUIRE(ch);
      struct sized_producer p = {ch, sizes[s], count};
      test_task t = test_spawn(sized_producer_main, &p);
      unsigned char *want = malloc(sizes[s] + 1), *got = malloc(sizes[s] + 1);
      for (int i = 0; i < count; i++) {
        memset(got, 0xEE, sizes[s] + 1);
        CHECK_STATUS(chan_recv(ch, got), CHAN_OK);
        fill(want, sizes[s], (uint64_t)i);
        if (memcmp(want, got, sizes[s]) != 0 || got[sizes[s]] != 0xEE) {
          test_fail(__FILE__, __LINE__,
                    "value %d of %zu bytes (cap %zu) arrived damaged", i,
                    sizes[s], caps[c]);
          break;
        }
      }
      test_join(t);
      free(want);
      free(got);
      CHECK_STATUS(chan_destroy(ch), CHAN_OK);
    }
  }
}

TEST(buffered_is_fifo_and_len_tracks_contents) {
  chan_t *ch = test_chan(sizeof(int64_t), 8);
  REQUIRE(ch);
  CHECK_EQ(chan_cap(ch), 8);
  CHECK_EQ(chan_len(ch), 0);
  for (int64_t i = 0; i < 8; i++) {
    CHECK_STATUS(chan_send(ch, &i), CHAN_OK);
    CHECK_EQ(chan_len(ch), i + 1);
  }
  int64_t v = 99;
  CHECK_STATUS(chan_try_send(ch, &v), CHAN_WOULD_BLOCK);
  CHECK_EQ(chan_len(ch), 8);
  /* Interleave to wrap the ring: FIFO must hold across the wrap. */
  for (int64_t i = 0; i < 100; i++) {
    int64_t got = -1;
    CHECK_STATUS(chan_recv(ch, &got), CHAN_OK);
    CHECK_EQ(got, i);
    int64_t next = i + 8;
    CHECK_STATUS(chan_send(ch, &next), CHAN_OK);
    CHECK_EQ(chan_len(ch), 8);
  }
  for (int64_t i = 100; i < 108; i++) {
    int64_t got = -1;
    CHECK_STATUS(chan_recv(ch, &got), CHAN_OK);
    CHECK_EQ(got, i);
  }
  CHECK_EQ(chan_len(ch), 0);
  CHECK_STATUS(chan_try_recv(ch, &v), CHAN_WOULD_BLOCK);
  chan_destroy(ch);
}

TEST(buffered_send_blocks_only_when_full) {
  chan_t *ch = test_chan(sizeof(int64_t), 2);
  REQUIRE(ch);
  int64_t a = 1, b = 2;
  /* Room: returns at once (were it to block, the watchdog would fire). */
  CHECK_STATUS(chan_send(ch, &a), CHAN_OK);
  CHECK_STATUS(chan_send(ch, &b), CHAN_OK);
  struct op_thread op;
  op_start(&op, ch, CHAN_SEND, 3);
  REQUIRE(test_wait_waiters(ch, CHAN_SEND, 1));
  CHECK(!op_done(&op)); /* full: the third send is parked */
  CHECK_EQ(chan_len(ch), 2);
  int64_t got = 0;
  CHECK_STATUS(chan_recv(ch, &got), CHAN_OK);
  CHECK_EQ(got, 1);
  op_join(&op);
  CHECK_STATUS(op.result, CHAN_OK);
  CHECK_STATUS(chan_recv(ch, &got), CHAN_OK);
  CHECK_EQ(got, 2);
  CHECK_STATUS(chan_recv(ch, &got), CHAN_OK);
  CHECK_EQ(got, 3);
  chan_destroy(ch);
}

TEST(buffered_recv_blocks_only_when_empty) {
  chan_t *ch = test_chan(sizeof(int64_t), 4);
  REQUIRE(ch);
  struct op_thread op;
  op_start(&op, ch, CHAN_RECV, 0);
  REQUIRE(test_wait_waiters(ch, CHAN_RECV, 1));
  CHECK(!op_done(&op));
  int64_t v = 7;
  CHECK_STATUS(chan_send(ch, &v), CHAN_OK);
  op_join(&op);
  CHECK_STATUS(op.result, CHAN_OK);
  CHECK_EQ(op.value, 7);
  /* With a value buffered, a receive returns at once. */
  CHECK_STATUS(chan_send(ch, &v), CHAN_OK);
  int64_t got = 0;
  CHECK_STATUS(chan_recv(ch, &got), CHAN_OK);
  CHECK_EQ(got, 7);
  chan_destroy(ch);
}

TEST(unbuffered_send_completes_only_with_a_receiver) {
  chan_t *ch = test_chan(sizeof(int64_t), 0);
  REQUIRE(ch);
  struct op_thread op;
  op_start(&op, ch, CHAN_SEND, 41);
  REQUIRE(test_wait_waiters(ch, CHAN_SEND, 1));
  CHECK(!op_done(&op));
  CHECK_EQ(chan_len(ch), 0);
  int64_t got = 0;
  CHECK_STATUS(chan_recv(ch, &got), CHAN_OK);
  CHECK_EQ(got, 41);
  op_join(&op);
  CHECK_STATUS(op.result, CHAN_OK);
  chan_destroy(ch);
}

TEST(unbuffered_recv_completes_only_with_a_sender) {
  chan_t *ch = test_chan(sizeof(int64_t), 0);
  REQUIRE(ch);
  struct op_thread op;
  op_start(&op, ch, CHAN_RECV, 0);
  REQUIRE(test_wait_waiters(ch, CHAN_RECV, 1));
  CHECK(!op_done(&op));
  int64_t v = 43;
  CHECK_STATUS(chan_send(ch, &v), CHAN_OK);
  op_join(&op);
  CHECK_STATUS(op.result, CHAN_OK);
  CHECK_EQ(op.value, 43);
  chan_destroy(ch);
}

TEST(unbuffered_try_needs_a_waiting_counterpart) {
  chan_t *ch = test_chan(sizeof(int64_t), 0);
  REQUIRE(ch);
  int64_t v = 5, got = 0;
  CHECK_STATUS(chan_try_send(ch, &v), CHAN_WOULD_BLOCK);
  CHECK_STATUS(chan_try_recv(ch, &got), CHAN_WOULD_BLOCK);

  struct op_thread op;
  op_start(&op, ch, CHAN_RECV, 0);
  REQUIRE(test_wait_waiters(ch, CHAN_RECV, 1));
  CHECK_STATUS(chan_try_send(ch, &v), CHAN_OK);
  op_join(&op);
  CHECK_EQ(op.value, 5);

  op_start(&op, ch, CHAN_SEND, 6);
  REQUIRE(test_wait_waiters(ch, CHAN_SEND, 1));
  CHECK_STATUS(chan_try_recv(ch, &got), CHAN_OK);
  CHECK_EQ(got, 6);
  op_join(&op);
  CHECK_STATUS(op.result, CHAN_OK);
  chan_destroy(ch);
}

TEST(buffered_try_succeeds_exactly_when_possible) {
  chan_t *ch = test_chan(sizeof(int64_t), 3);
  REQUIRE(ch);
  int64_t got;
  CHECK_STATUS(chan_try_recv(ch, &got), CHAN_WOULD_BLOCK);
  for (int64_t i = 0; i < 3; i++)
    CHECK_STATUS(chan_try_send(ch, &i), CHAN_OK);
  int64_t v = 3;
  CHECK_STATUS(chan_try_send(ch, &v), CHAN_WOULD_BLOCK);
  for (int64_t i = 0; i < 3; i++) {
    CHECK_STATUS(chan_try_recv(ch, &got), CHAN_OK);
    CHECK_EQ(got, i);
  }
  CHECK_STATUS(chan_try_recv(ch, &got), CHAN_WOULD_BLOCK);
  chan_destroy(ch);
}

TEST(receive_into_null_discards) {
  chan_t *ch = test_chan(sizeof(int64_t), 2);
  REQUIRE(ch);
  int64_t a = 1, b = 2, got = 0;
  chan_send(ch, &a);
  chan_send(ch, &b);
  CHECK_STATUS(chan_recv(ch, NULL), CHAN_OK);
  CHECK_STATUS(chan_recv(ch, &got), CHAN_OK);
  CHECK_EQ(got, 2);
  chan_destroy(ch);
}

TEST(signal_channel_of_size_zero) {
  chan_t *ch = test_chan(0, 1);
  REQUIRE(ch);
  CHECK_STATUS(chan_send(ch, NULL), CHAN_OK);
  CHECK_EQ(chan_len(ch), 1);
  CHECK_STATUS(chan_try_send(ch, NULL), CHAN_WOULD_BLOCK);
  CHECK_STATUS(chan_recv(ch, NULL), CHAN_OK);
  CHECK_STATUS(chan_close(ch), CHAN_OK);
  CHECK_STATUS(chan_recv(ch, NULL), CHAN_CLOSED);
  chan_destroy(ch);
}
