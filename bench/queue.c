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
  if (rc != CHAN_OK)
    return bq_fail(rc, "chan_make(%s, %zu, %zu): %s (%s)", impl, elem_size,
                   capacity, chan_strerror(rc), chan_last_error());
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

/* Implementations loaded at run time (chanbench --impl-lib, CHANLAB_IMPLS:
 * chan/impl.h) are chanlab channels too; each gets one of these slots,
 * whose make passes the slot's name to chan_make. */
#define NLOADED 8
static const char *loaded_names[NLOADED];
#define LOADED_ROW(i)                                                          \
  static int cl_make_loaded_##i(void **q, size_t elem_size, size_t capacity) { \
    return cl_make(loaded_names[i], q, elem_size, capacity);                   \
  }
LOADED_ROW(0)
LOADED_ROW(1)
LOADED_ROW(2)
LOADED_ROW(3)
LOADED_ROW(4)
LOADED_ROW(5)
LOADED_ROW(6)
LOADED_ROW(7)
#undef LOADED_ROW
static int (*const loaded_make[NLOADED])(void **, size_t, size_t) = {
    cl_make_loaded_0, cl_make_loaded_1, cl_make_loaded_2, cl_make_loaded_3,
    cl_make_loaded_4, cl_make_loaded_5, cl_make_loaded_6, cl_make_loaded_7};
static struct bq_ops loaded_ops[NLOADED];

/* ---- the list ------------------------------------------------------------
 * chanlab's rows, then the peers' (bench/peers/: the rows of peers.def,
 * built or skipped with the reason, from bq_peers()). Before the peers
 * exist the list simply has none.
 */
#if __has_include("peers/peers.h")
#include "peers/peers.h"
#define CHAN_BENCH_HAVE_PEERS 1
#endif

static const struct bq_row chanlab_rows[] = {
#define CHAN_IMPL(n) {#n, &cl_row_##n, NULL},
#include CHAN_REGISTRY_DEF
#undef CHAN_IMPL
};
#define NCHANLAB (sizeof chanlab_rows / sizeof chanlab_rows[0])

const struct bq_row *bq_rows(size_t *n) {
  static struct bq_row rows[NCHANLAB + 64];
  static size_t count;
  if (count == 0) { /* filled once, before any thread starts */
    for (size_t i = 0; i < NCHANLAB; i++)
      rows[count++] = chanlab_rows[i];
    /* The registry lists the in-tree implementations first, then the
     * loaded ones. */
    size_t nnames;
    const char *const *names = chan_impl_names(&nnames);
    for (size_t i = NCHANLAB, k = 0; i < nnames && k < NLOADED; i++, k++) {
      loaded_names[k] = names[i];
      loaded_ops[k] = (struct bq_ops){.name = names[i],
                                      .library = "chanlab (loaded)",
                                      .features = CL_FEATURES,
                                      .make = loaded_make[k],
                                      .send = cl_send,
                                      .recv = cl_recv,
                                      .try_send = cl_try_send,
                                      .try_recv = cl_try_recv,
                                      .close = cl_close,
                                      .destroy = cl_destroy};
      rows[count++] = (struct bq_row){names[i], &loaded_ops[k], NULL};
    }
#ifdef CHAN_BENCH_HAVE_PEERS
    size_t npeers;
    const struct bq_peer *peers = bq_peers(&npeers);
    for (size_t i = 0; i < npeers && count < sizeof rows / sizeof rows[0]; i++)
      rows[count++] =
          (struct bq_row){peers[i].name, peers[i].ops, peers[i].skipped};
#endif
  }
  if (n)
    *n = count;
  return rows;
}

const struct bq_ops *bq_find(const char *name) {
  size_t n;
  const struct bq_row *rows = bq_rows(&n);
  for (size_t i = 0; i < n; i++)
    if (rows[i].ops && strcmp(rows[i].name, name) == 0)
      return rows[i].ops;
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
