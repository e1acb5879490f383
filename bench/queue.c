/*
 * queue.c - the list of queues under test (see queue.h): chanlab's
 * implementations, then the peers.
 */
#include "queue.h"

#include <chan/chan.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- chanlab's implementations ------------------------------------------- */

/* Every chanlab implementation has Go's full semantics. */
#define CL_FEATURES                                                            \
  (BQ_CLOSE | BQ_RENDEZVOUS | BQ_BOUNDED | BQ_TRY | BQ_MULTI_PRODUCER |        \
   BQ_MULTI_CONSUMER | BQ_BLOCKING | BQ_PAYLOAD | BQ_CHAN)

static int cl_make(const char *impl, void **q, size_t elem_size,
                   size_t capacity) {
  chan_t *ch = NULL;
  int rc = chan_make(&ch, impl, elem_size, capacity);
  if (rc != CHAN_OK) {
    bq_set_error("chan_make(%s, %zu, %zu): %s (%s)", impl, elem_size, capacity,
                 chan_strerror(rc), chan_last_error());
    return rc;
  }
  *q = ch;
  return 0;
}

static int cl_send(void *q, const void *elem) {
  return chan_send(q, elem);
}
static int cl_recv(void *q, void *elem) {
  return chan_recv(q, elem);
}
static int cl_try_send(void *q, const void *elem) {
  return chan_try_send(q, elem);
}
static int cl_try_recv(void *q, void *elem) {
  return chan_try_recv(q, elem);
}
static int cl_close(void *q) {
  return chan_close(q);
}
static void cl_destroy(void *q) {
  chan_destroy(q);
}

/* One row per line of impls/registry.def, the list chan_impl_names() returns
 * (make needs the name, and the table has no closure: one make each). */
#define CHAN_IMPL(n)                                                           \
  static int cl_make_##n(void **q, size_t elem_size, size_t capacity) {        \
    return cl_make(#n, q, elem_size, capacity);                                \
  }                                                                            \
  static const struct bq_ops cl_row_##n = {                                    \
      .name = #n,                                                              \
      .library = "chanlab",                                                    \
      .features = CL_FEATURES,                                                 \
      .make = cl_make_##n,                                                     \
      .send = cl_send,                                                         \
      .recv = cl_recv,                                                         \
      .try_send = cl_try_send,                                                 \
      .try_recv = cl_try_recv,                                                 \
      .close = cl_close,                                                       \
      .destroy = cl_destroy,                                                   \
  };
#include CHAN_REGISTRY_DEF
#undef CHAN_IMPL

/* ---- the peers --------------------------------------------------------------
 * Each PEER(name) line of bench/peers/peers.def is a row `bq_peer_<name>`
 * defined by bench/peers/ (an adapter, or a skipped row with the reason).
 * Before the peers exist the list simply has none.
 */
#if __has_include("peers/peers.def")
#define PEER(n) extern const struct bq_ops bq_peer_##n;
#include "peers/peers.def"
#undef PEER
#define CHAN_BENCH_HAVE_PEERS 1
#endif

static const struct bq_ops *const rows[] = {
#define CHAN_IMPL(n) &cl_row_##n,
#include CHAN_REGISTRY_DEF
#undef CHAN_IMPL
#ifdef CHAN_BENCH_HAVE_PEERS
#define PEER(n) &bq_peer_##n,
#include "peers/peers.def"
#undef PEER
#endif
    NULL};

const struct bq_ops *const *bq_rows(void) {
  return rows;
}

const struct bq_ops *bq_find(const char *name) {
  for (const struct bq_ops *const *r = rows; *r; r++)
    if (!(*r)->skipped && strcmp((*r)->name, name) == 0)
      return *r;
  return NULL;
}

const char *bq_feature_name(unsigned bit) {
  static const char *const names[BQ_NFEATURES] = {
      "close",    "rendezvous",     "bounded",
      "try",      "multi-producer", "multi-consumer",
      "blocking", "payload",        "chanlab channel"};
  for (int i = 0; i < BQ_NFEATURES; i++)
    if (bit == 1u << i)
      return names[i];
  return "?";
}

/* ---- errors ------------------------------------------------------------- */

static _Thread_local char last_error[256];

void bq_set_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_error, sizeof last_error, fmt, ap);
  va_end(ap);
}

const char *bq_error(void) {
  return last_error;
}
