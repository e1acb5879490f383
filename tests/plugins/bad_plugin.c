/*
 * bad_plugin.c - shared objects that chan_impl_load() must refuse, one per
 * build flag (tests/CMakeLists.txt builds each; tests/core_plugin.c loads
 * them):
 *   BAD_ABI      built for another CHAN_IMPL_ABI_VERSION
 *   NO_ENTRY     exports no chan_impl_plugin
 *   NULL_RESULT  its chan_impl_plugin returns NULL
 *   NULL_OP      its operations table lacks select_enqueue
 *   COLLIDE      calls itself "futex", an in-tree name
 * None of its code but the entry may ever run: every operation and create
 * abort(), so a core that used a rejected implementation would crash the
 * test instead of passing it.
 */
#include <chan/impl.h>

#include <stdlib.h>

static struct chan *bad_create(const struct chan_impl *impl, size_t elem_size,
                               size_t capacity) {
  (void)impl, (void)elem_size, (void)capacity;
  abort();
}

static int bad_send(struct chan *ch, const void *elem, int64_t deadline) {
  (void)ch, (void)elem, (void)deadline;
  abort();
}

static int bad_recv(struct chan *ch, void *elem, int64_t deadline) {
  (void)ch, (void)elem, (void)deadline;
  abort();
}

static int bad_close(struct chan *ch) {
  (void)ch;
  abort();
}

static size_t bad_len(const struct chan *ch) {
  (void)ch;
  abort();
}

static uint64_t bad_change_count(const struct chan *ch) {
  (void)ch;
  abort();
}

static size_t bad_waiters(const struct chan *ch, enum chan_dir dir,
                          bool asleep) {
  (void)ch, (void)dir, (void)asleep;
  abort();
}

static void bad_destroy(struct chan *ch) {
  (void)ch;
  abort();
}

/* unused: left out of the NULL_OP table */
__attribute__((unused)) static enum chan_enqueue_result bad_select_enqueue(struct chan *ch,
                                                   struct chan_waiter *w) {
  (void)ch, (void)w;
  abort();
}

static void bad_select_dequeue(struct chan *ch, struct chan_waiter *w) {
  (void)ch, (void)w;
  abort();
}

static const struct chan_ops bad_ops = {
    .send = bad_send,
    .recv = bad_recv,
    .close = bad_close,
    .len = bad_len,
    .change_count = bad_change_count,
    .waiters = bad_waiters,
    .destroy = bad_destroy,
#ifndef NULL_OP
    .select_enqueue = bad_select_enqueue,
#endif
    .select_dequeue = bad_select_dequeue,
};

#if defined(BAD_ABI)
#define BAD_NAME "bad_abi"
#elif defined(NULL_OP)
#define BAD_NAME "bad_null_op"
#elif defined(COLLIDE)
#define BAD_NAME "futex"
#else
#define BAD_NAME "bad_other"
#endif

/* unused: NULL_RESULT never returns it */
__attribute__((unused)) static const struct chan_impl_def bad_def = {
#ifdef BAD_ABI
    .abi_version = CHAN_IMPL_ABI_VERSION + 1,
#else
    .abi_version = CHAN_IMPL_ABI_VERSION,
#endif
    .name = BAD_NAME,
    .create = bad_create,
    .ops = &bad_ops,
};

#ifdef NO_ENTRY
/* Exports something, just not the entry (a typo'd name, say). */
__attribute__((visibility("default"))) const struct chan_impl_def *
chan_impl_plugin_v2(void);
const struct chan_impl_def *chan_impl_plugin_v2(void) {
  return &bad_def;
}
#else
const struct chan_impl_def *chan_impl_plugin(void) {
#ifdef NULL_RESULT
  return NULL;
#else
  return &bad_def;
#endif
}
#endif
