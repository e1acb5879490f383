/* core_errors.c - bad input gets a named error, never a crash or hang. */
#include "core_util.h"

#include <string.h>

TEST(unknown_implementation_names_the_registered_ones) {
  chan_t *ch = (chan_t *)1;
  CHECK_STATUS(chan_make(&ch, "no-such-impl", 8, 0), CHAN_EUNKNOWN_IMPL);
  CHECK(ch == NULL);
  const char *msg = chan_last_error();
  CHECK(strstr(msg, "no-such-impl") != NULL);
  size_t n;
  const char *const *names = chan_impl_names(&n);
  for (size_t i = 0; i < n; i++)
    CHECK(strstr(msg, names[i]) != NULL);
}

TEST(bad_sizes_are_rejected) {
  chan_t *ch = NULL;
  CHECK_STATUS(chan_make(NULL, test_impl(), 8, 0), CHAN_EINVAL);
  CHECK_STATUS(chan_make(&ch, test_impl(), CHAN_MAX_ELEM_SIZE + 1, 0),
               CHAN_EINVAL);
  CHECK_STATUS(chan_make(&ch, test_impl(), 8, CHAN_MAX_CAPACITY + 1),
               CHAN_EINVAL);
  CHECK(ch == NULL);
  /* Within the limits but far beyond memory (2^54 bytes): a clean error. */
  CHECK_STATUS(
      chan_make(&ch, test_impl(), CHAN_MAX_ELEM_SIZE, CHAN_MAX_CAPACITY),
      CHAN_ENOMEM);
  CHECK(ch == NULL);
  CHECK(strlen(chan_last_error()) > 0);
}

TEST(null_channel_and_null_values_are_rejected) {
  int64_t v = 1;
  CHECK_STATUS(chan_send(NULL, &v), CHAN_EINVAL);
  CHECK_STATUS(chan_recv(NULL, &v), CHAN_EINVAL);
  CHECK_STATUS(chan_try_send(NULL, &v), CHAN_EINVAL);
  CHECK_STATUS(chan_try_recv(NULL, &v), CHAN_EINVAL);
  CHECK_STATUS(chan_send_timeout(NULL, &v, 1), CHAN_EINVAL);
  CHECK_STATUS(chan_recv_timeout(NULL, &v, 1), CHAN_EINVAL);
  CHECK_STATUS(chan_close(NULL), CHAN_EINVAL);
  CHECK_STATUS(chan_destroy(NULL), CHAN_EINVAL);
  CHECK_EQ(chan_len(NULL), 0);
  CHECK_EQ(chan_cap(NULL), 0);
  CHECK(!strcmp(chan_impl_name(NULL), ""));

  chan_t *ch = test_chan(sizeof(int64_t), 1);
  REQUIRE(ch);
  CHECK_STATUS(chan_send(ch, NULL), CHAN_EINVAL);
  CHECK_STATUS(chan_try_send(ch, NULL), CHAN_EINVAL);
  CHECK_STATUS(chan_send_timeout(ch, NULL, 10), CHAN_EINVAL);
  CHECK_EQ(chan_len(ch), 0); /* nothing was sent */
  chan_destroy(ch);
}

TEST(bad_select_arguments_are_rejected) {
  chan_t *ch = test_chan(sizeof(int64_t), 1);
  REQUIRE(ch);
  int64_t v = 0;
  size_t chosen;
  struct chan_case ok = {.chan = ch, .dir = CHAN_RECV, .elem = &v};
  CHECK_STATUS(chan_select(NULL, 1, CHAN_POLL, &chosen), CHAN_EINVAL);
  CHECK_STATUS(chan_select(&ok, 1, CHAN_POLL, NULL), CHAN_EINVAL);
  CHECK_STATUS(chan_select(&ok, 1, -2, &chosen), CHAN_EINVAL);
  struct chan_case bad_dir = {.chan = ch, .dir = (enum chan_dir)7};
  CHECK_STATUS(chan_select(&bad_dir, 1, CHAN_POLL, &chosen), CHAN_EINVAL);
  struct chan_case null_send = {.chan = ch, .dir = CHAN_SEND, .elem = NULL};
  CHECK_STATUS(chan_select(&null_send, 1, CHAN_POLL, &chosen), CHAN_EINVAL);
  struct chan_case many[CHAN_SELECT_MAX_CASES + 1];
  for (size_t i = 0; i <= CHAN_SELECT_MAX_CASES; i++)
    many[i] = ok;
  CHECK_STATUS(chan_select(many, CHAN_SELECT_MAX_CASES + 1, CHAN_POLL, &chosen),
               CHAN_EINVAL);
  CHECK_EQ(chan_len(ch), 0);
  chan_destroy(ch);
}

TEST(destroying_a_channel_with_blocked_threads_is_refused) {
  chan_t *ch = test_chan(sizeof(int64_t), 0);
  REQUIRE(ch);
  struct op_thread op;
  op_start(&op, ch, CHAN_RECV, 0);
  REQUIRE(test_wait_waiters(ch, CHAN_RECV, 1));
  CHECK_STATUS(chan_destroy(ch), CHAN_EBUSY);
  CHECK(strstr(chan_last_error(), "blocked") != NULL);
  int64_t v = 3;
  CHECK_STATUS(chan_send(ch, &v), CHAN_OK); /* the channel still works */
  op_join(&op);
  CHECK_EQ(op.value, 3);
  CHECK_STATUS(chan_destroy(ch), CHAN_OK);
}
