/*
 * queue.h - what a benchmark role needs from a queue under test.
 *
 * chanbench's roles never call chan_send/chan_recv directly: they call a
 * queue through one small table, struct bq_ops, so the same scenarios, round
 * driver and cost meters measure chanlab's implementations and other
 * libraries' queues alike ("peers"), one small adapter each.
 *
 * The rows form one list (queue.c, bq_rows()):
 *   - chanlab's implementations, one row per line of impls/registry.def
 *     (the list chan_impl_names() returns); their functions call chan_*;
 *   - the C/C++ peers: bench/peers/ lists them, one PEER(name) line each in
 *     bench/peers/peers.def, and hands them over with bq_peers()
 *     (bench/peers/peers.h): a built row's bq_ops, or for a library not
 *     found at configure time the reason it was skipped (recorded in the
 *     JSON context as `peer.<name>`, never registered). Without bench/peers/
 *     the list has chanlab's rows only.
 *
 * Scenario code asks a row for the features it needs and registers nothing
 * for a row that lacks one: the reason goes into the JSON context
 * (`absent.<scenario>.<name>`), never a faked row.
 *
 * Results: send/recv return CHAN_OK or CHAN_CLOSED, try_send/try_recv
 * CHAN_OK or CHAN_WOULD_BLOCK (chan.h's codes; a peer maps its own);
 * negative CHAN_E* codes are errors, with the reason in bq_error().
 */
#ifndef CHAN_BENCH_QUEUE_H
#define CHAN_BENCH_QUEUE_H

#include <chan/chan.h>

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What a queue can do. */
enum bq_feature {
  BQ_CLOSE = 1 << 0,          /* close that wakes blocked receivers */
  BQ_RENDEZVOUS = 1 << 1,     /* capacity 0 is a true rendezvous */
  BQ_BOUNDED = 1 << 2,        /* a capacity > 0 is honoured (else unbounded) */
  BQ_TRY = 1 << 3,            /* non-blocking try_send/try_recv */
  BQ_MULTI_PRODUCER = 1 << 4, /* more than one sender at once */
  BQ_MULTI_CONSUMER = 1 << 5, /* more than one receiver at once */
  BQ_BLOCKING =
      1 << 6,          /* send/recv park when they cannot proceed (else spin) */
  BQ_PAYLOAD = 1 << 7, /* any element size (else 8-byte values only) */
  BQ_CHAN = 1 << 8,    /* the handle is a chanlab chan_t *: chan_select,
                          timeouts, chan_debug_waiters and the patterns work
                          on it (chanlab's own rows only) */
};
#define BQ_NFEATURES 9

/* A fiber scheduler that runs a round's roles (exec:fiber in benchmark
 * names): a library's own (bq_ops.fibers: Boost.Fiber's, so its row also
 * runs with its roles as fibers of it, beside chanlab's rows on chanlab's
 * fibers), or chanlab's runtime (bench/exec.c, suite_fibers()). The round
 * driver runs every fiber round through this one interface, so both are
 * measured the same way (round.c).
 */
struct bq_fibers {
  const char *name; /* for the results: "Boost.Fiber algo::work_stealing" */
  /* Runs task(arg, i) for every i < n, each on a fiber of its own, over the
   * scheduler's worker threads, and returns when every one has returned:
   * 0, or a negative CHAN_E* code with the reason in bq_error() (then no
   * task ran). The fibers start together: once all n exist and none can
   * begin its task before it returns, go(arg) is called on the calling
   * thread (may be NULL), and then they are let go. The workers are
   * threads started with pthread_create (not std::thread), so chanbench's
   * wrap of it counts their allocations (alloc_wrap.c). One call at a
   * time. */
  int (*run)(size_t n, void (*task)(void *arg, size_t i), void (*go)(void *arg),
             void *arg);
  /* Its worker threads (starting them if need be), or 0 with the reason in
   * bq_error() if they could not be started. */
  unsigned (*workers)(void);
  /* Stops and joins the workers (after the last run). */
  void (*shutdown)(void);
};

struct bq_ops {
  const char *name;    /* impl:<name> in benchmark names: "futex", "tbb" */
  const char *library; /* "chanlab", "oneTBB 2021.8", ... (for the report) */
  unsigned features;   /* enum bq_feature bits */
  /* 0, or an error (reason via bq_error) */
  int (*make)(void **q, size_t elem_size, size_t capacity);
  int (*send)(void *q, const void *elem); /* CHAN_OK or CHAN_CLOSED */
  int (*recv)(void *q, void *elem);       /* CHAN_OK or CHAN_CLOSED */
  /* NULL without BQ_TRY; CHAN_OK or CHAN_WOULD_BLOCK. */
  int (*try_send)(void *q, const void *elem);
  int (*try_recv)(void *q, void *elem);
  int (*close)(void *q); /* NULL without BQ_CLOSE */
  void (*destroy)(void *q);
  /* NULL for a row that competes. For a yardstick rather than a choice (a
   * raw spinning ring without a channel's semantics, such as ck_ring), what
   * it is: "the raw-ring floor". The results mark it (`floor.<name>` in the
   * JSON context) and the report measures channels against it instead of
   * ranking it among the peers. */
  const char *floor;
  /* NULL, or the library's own fiber scheduler (see struct bq_fibers). */
  const struct bq_fibers *fibers;
};

/* One row of the list: a queue (ops), or a peer that was not built (ops
 * NULL, skipped = "skipped: <reason>"). */
struct bq_row {
  const char *name;
  const struct bq_ops *ops;
  const char *skipped;
};

/* The rows: chanlab's first (registry order), then the peers, skipped ones
 * included; *n (if not NULL) gets the count. */
const struct bq_row *bq_rows(size_t *n);
/* The built row called name, or NULL. */
const struct bq_ops *bq_find(const char *name);

/* Short name of one feature bit ("close", "rendezvous", ...), for reasons. */
const char *bq_feature_name(unsigned bit);

/* For adapters: records why an operation failed (read back with bq_error()
 * on the same thread) and returns status, a negative CHAN_E* code. */
int bq_fail(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Why the calling thread's last failed make (or other operation) failed. */
const char *bq_error(void);

#ifdef __cplusplus
}
#endif

#endif /* CHAN_BENCH_QUEUE_H */
