/*
 * core_plugin.c - implementations registered at run time (chan/impl.h):
 * chan_impl_register() and chan_impl_load() accept a good definition, whose
 * name then works everywhere a built-in one does, and refuse each kind of
 * bad one with its own named error, without running any of it.
 *
 * The shared objects are built by tests/CMakeLists.txt: PLUGIN_GOOD is
 * examples/plugin/example_plugin.c ("example"); PLUGIN_<FLAG> are
 * tests/plugins/bad_plugin.c with one flag each, whose every function
 * aborts, so a core that ran any of them would crash the test.
 * Each test runs in its own child process, so registrations do not leak
 * from one test into the next.
 */
#include "harness.h"

#include <chan/impl.h>

#include <stdlib.h>
#include <string.h>

TEST_EXECUTORS("thread")

static bool listed(const char *name) {
  size_t n;
  const char *const *names = chan_impl_names(&n);
  for (size_t i = 0; i < n; i++)
    if (!strcmp(names[i], name))
      return names[n] == NULL; /* and the array is still terminated */
  return false;
}

static bool error_mentions(const char *what) {
  return strstr(chan_last_error(), what) != NULL;
}

TEST(good_plugin_works_in_chan_make_and_is_listed) {
  size_t before;
  chan_impl_names(&before);
  REQUIRE(!listed("example"));
  REQUIRE_STATUS(chan_impl_load(PLUGIN_GOOD), CHAN_OK);
  size_t after;
  chan_impl_names(&after);
  CHECK_EQ(after, before + 1);
  CHECK(listed("example"));
  CHECK(chan_impl_summary("example") != NULL);

  chan_t *ch = NULL;
  REQUIRE_STATUS(chan_make(&ch, "example", sizeof(int), 2), CHAN_OK);
  CHECK(!strcmp(chan_impl_name(ch), "example"));
  CHECK_EQ(chan_cap(ch), 2);
  CHECK_EQ(chan_elem_size(ch), sizeof(int));
  int v = 7, got = 0;
  CHECK_STATUS(chan_send(ch, &v), CHAN_OK);
  CHECK_EQ(chan_len(ch), 1);
  CHECK_STATUS(chan_recv(ch, &got), CHAN_OK);
  CHECK_EQ(got, 7);
  CHECK_STATUS(chan_try_recv(ch, &got), CHAN_WOULD_BLOCK);
  CHECK_STATUS(chan_close(ch), CHAN_OK);
  CHECK_STATUS(chan_close(ch), CHAN_EALREADY_CLOSED);
  CHECK_STATUS(chan_destroy(ch), CHAN_OK);
}

TEST(good_plugin_mixes_with_builtin_channels_in_select) {
  REQUIRE_STATUS(chan_impl_load(PLUGIN_GOOD), CHAN_OK);
  chan_t *mine = NULL, *builtin = NULL;
  REQUIRE_STATUS(chan_make(&mine, "example", sizeof(int), 1), CHAN_OK);
  REQUIRE_STATUS(chan_make(&builtin, "futex", sizeof(int), 1), CHAN_OK);
  int v = 5, got = 0;
  REQUIRE_STATUS(chan_send(mine, &v), CHAN_OK);
  struct chan_case cases[] = {{builtin, CHAN_RECV, &got},
                              {mine, CHAN_RECV, &got}};
  size_t chosen = 9;
  CHECK_STATUS(chan_select(cases, 2, CHAN_POLL, &chosen), CHAN_OK);
  CHECK_EQ(chosen, 1);
  CHECK_EQ(got, 5);
  CHECK_STATUS(chan_select(cases, 2, 1000000, &chosen), CHAN_TIMEOUT);
  chan_destroy(mine);
  chan_destroy(builtin);
}

TEST(loading_the_same_name_twice_is_a_collision) {
  REQUIRE_STATUS(chan_impl_load(PLUGIN_GOOD), CHAN_OK);
  size_t before;
  chan_impl_names(&before);
  CHECK_STATUS(chan_impl_load(PLUGIN_GOOD), CHAN_EIMPL_EXISTS);
  CHECK(error_mentions("'example' is already registered"));
  size_t after;
  chan_impl_names(&after);
  CHECK_EQ(after, before);
}

TEST(a_missing_file_is_a_load_error) {
  CHECK_STATUS(chan_impl_load("/nonexistent/libno_such_plugin.so"),
               CHAN_EIMPL_LOAD);
  CHECK(error_mentions("cannot load '/nonexistent/libno_such_plugin.so'"));
  CHECK_STATUS(chan_impl_load(NULL), CHAN_EINVAL);
}

TEST(a_wrong_abi_version_is_refused) {
  CHECK_STATUS(chan_impl_load(PLUGIN_BAD_ABI), CHAN_EIMPL_ABI);
  CHECK(error_mentions("ABI version 2"));
  CHECK(!listed("bad_abi"));
  chan_t *ch = NULL;
  CHECK_STATUS(chan_make(&ch, "bad_abi", 8, 0), CHAN_EUNKNOWN_IMPL);
}

TEST(a_missing_entry_symbol_is_refused) {
  CHECK_STATUS(chan_impl_load(PLUGIN_NO_ENTRY), CHAN_EIMPL_SYMBOL);
  CHECK(error_mentions("does not export chan_impl_plugin()"));
  CHECK_STATUS(chan_impl_load(PLUGIN_NULL_RESULT), CHAN_EIMPL_SYMBOL);
  CHECK(error_mentions("returned NULL"));
  CHECK(!listed("bad_other"));
}

TEST(a_null_operation_is_refused) {
  CHECK_STATUS(chan_impl_load(PLUGIN_NULL_OP), CHAN_EINVAL);
  CHECK(error_mentions("has no select_enqueue operation"));
  CHECK(!listed("bad_null_op"));
  chan_t *ch = NULL;
  CHECK_STATUS(chan_make(&ch, "bad_null_op", 8, 0), CHAN_EUNKNOWN_IMPL);
}

TEST(a_builtin_name_is_a_collision) {
  CHECK_STATUS(chan_impl_load(PLUGIN_COLLIDE), CHAN_EIMPL_EXISTS);
  CHECK(error_mentions("'futex' is already registered"));
  /* "futex" is still the built-in one: its channels work (the impostor's
   * create would abort). */
  chan_t *ch = NULL;
  REQUIRE_STATUS(chan_make(&ch, "futex", 8, 0), CHAN_OK);
  CHECK(!strcmp(chan_impl_summary("futex"), chan_impl_summary(NULL)));
  chan_destroy(ch);
}

/* ---- chan_impl_register with definitions made in this program ---------- */

static struct chan *never_create(const struct chan_impl *impl,
                                 size_t elem_size, size_t capacity) {
  (void)impl, (void)elem_size, (void)capacity;
  abort(); /* a rejected definition must never run */
}

static struct chan_ops no_ops; /* every operation NULL */

TEST(register_checks_every_member_before_using_any) {
  const struct chan_impl_def good = {.abi_version = CHAN_IMPL_ABI_VERSION,
                                     .name = "local",
                                     .create = never_create,
                                     .ops = &no_ops};
  struct chan_impl_def d;

  CHECK_STATUS(chan_impl_register(NULL), CHAN_EINVAL);
  CHECK(error_mentions("NULL definition"));

  d = good, d.abi_version = 0;
  CHECK_STATUS(chan_impl_register(&d), CHAN_EIMPL_ABI);

  d = good, d.name = NULL;
  CHECK_STATUS(chan_impl_register(&d), CHAN_EINVAL);
  CHECK(error_mentions("no name"));

  const char *bad_names[] = {"", "all", "default", "Has Space",
                             "a-name-that-is-far-too-long-for-a-listing"};
  for (size_t i = 0; i < sizeof bad_names / sizeof *bad_names; i++) {
    d = good, d.name = bad_names[i];
    CHECK_STATUS(chan_impl_register(&d), CHAN_EINVAL);
    CHECK(error_mentions("bad implementation name"));
  }

  d = good, d.create = NULL;
  CHECK_STATUS(chan_impl_register(&d), CHAN_EINVAL);
  CHECK(error_mentions("no create function"));

  d = good, d.ops = NULL;
  CHECK_STATUS(chan_impl_register(&d), CHAN_EINVAL);
  CHECK(error_mentions("no operations table"));

  d = good; /* the table is all NULL: the first one is named */
  CHECK_STATUS(chan_impl_register(&d), CHAN_EINVAL);
  CHECK(error_mentions("no send operation"));

  CHECK(!listed("local"));
  chan_t *ch = NULL;
  CHECK_STATUS(chan_make(&ch, "local", 8, 0), CHAN_EUNKNOWN_IMPL);
}
