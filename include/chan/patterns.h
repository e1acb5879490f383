/*
 * patterns.h - Go's concurrency patterns as reusable C components built on
 * the channel API of chan.h (the patterns of the project's seed notes).
 *
 * Every component works on every channel implementation: values are opaque
 * fixed-size elements (the channel's elem_size), copied in and out. Where a
 * pattern needs arithmetic or a tagged message (the sequenced fan-in, the
 * daisy chain), the value is a pat_item, a 64-bit integer (a pointer fits as
 * intptr_t).
 *
 * Conventions shared by every component:
 *
 *   Threads. In this header a component's "threads" are its goroutines:
 *   OS threads, or fibers when its context runs on a fiber runtime (see
 *   "Executor" under the context section). The component is the same.
 *
 *   Cancellation. Each blocking component takes a pat_ctx (Go's
 *   context.Context). NULL means "never canceled from outside". Every thread
 *   a component starts waits on the context's done channel in each blocking
 *   operation, so canceling the context stops the component promptly.
 *   A component started on an already canceled context returns that
 *   context's reason (PAT_CANCELED or PAT_DEADLINE_EXCEEDED) and starts
 *   nothing.
 *
 *   Lifecycle. A component that runs threads returns a pat_proc:
 *     pat_xxx_start(&proc, ...)  starts its threads;
 *     pat_proc_wait(proc)        joins them all and returns the outcome;
 *     pat_proc_cancel(proc)      stops it early (its own child context);
 *     pat_proc_free(proc)        cancels, joins and frees.
 *   Every thread a component starts is joined by pat_proc_wait/free; no
 *   thread outlives the pat_proc.
 *
 *   Channels. The caller makes and owns the channels it passes in, and
 *   destroys them after freeing the components that use them. A component
 *   CLOSES ITS OUTPUT channel when it finishes for any reason (input
 *   exhausted, canceled, error), as a Go goroutine does with defer close(),
 *   so downstream loops end. It never closes its input. Channels a component
 *   makes for itself (wait channels, queues, stage links) are its own and
 *   are destroyed by its free function; internal channels use the
 *   implementation of the channels passed in (or of the context, or the
 *   impl argument).
 *
 *   No lost values. A component counts what it accepted and what became of
 *   each value (pat_proc_stats): for a one-in/one-out component
 *   received == sent + filtered + failed + dropped + canceled once it has
 *   been waited for. A value is "canceled" when the component had taken it
 *   but was stopped (context canceled or output closed) before delivering.
 *
 *   Callbacks. A callback returns PAT_OK to emit its output, PAT_SKIP to emit
 *   nothing for this input (a filter), PAT_STOP (generators) to end the
 *   stream, or any other non-zero code as an error: the component then
 *   stops (its context is canceled, its output closed) and pat_proc_wait()
 *   returns that code. Use codes <= PAT_EUSER (-100) for your own errors
 *   so they never read as a library or channel code. Callbacks that may block
 * or sleep receive the component's context and should watch it (pat_ctx_sleep,
 * pat_send_ctx) so cancellation stays prompt.
 *
 *   Errors. Bad input (NULL function, NULL channel, zero workers, element
 *   sizes that do not match) returns PAT_EINVAL and pat_last_error() says
 *   which argument; nothing is started. pat_strerror() names every code,
 *   the channel codes of chan.h included.
 *
 * No function allocates memory per channel operation: components allocate
 * when they start (threads, buffers, internal channels) and free when freed.
 */
#ifndef CHAN_PATTERNS_H
#define CHAN_PATTERNS_H

#include <chan/chan.h>
#include <chan/fiber.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- status codes ------------------------------------------------------ */

/* The channel codes of chan.h (CHAN_OK, CHAN_CLOSED, CHAN_TIMEOUT,
 * CHAN_EINVAL...) keep their meaning; these are added. */
enum pat_status {
  PAT_OK = CHAN_OK,
  PAT_STOP = 8,               /* generator callback: no more values */
  PAT_SKIP = 9,               /* map callback: emit nothing for this input */
  PAT_CANCELED = 10,          /* the context was canceled (Go's Canceled) */
  PAT_DEADLINE_EXCEEDED = 11, /* the context's deadline passed */

  PAT_EINVAL = CHAN_EINVAL, /* bad argument; see pat_last_error() */
  PAT_ENOMEM = CHAN_ENOMEM, /* allocation failed */
  PAT_EBUSY = CHAN_EBUSY,   /* freed while still in use (children alive) */
  PAT_ETHREAD = -16,        /* could not start a thread or fiber */
  PAT_ESTATE = -17,         /* call out of lifecycle order (set twice...) */
  PAT_EUSER = -100,         /* callbacks' own error codes: <= PAT_EUSER */
};

/* Names any status code, the channel codes included. */
const char *pat_strerror(int status);

/* The calling thread's message for its latest pattern error. */
const char *pat_last_error(void);

/* Largest element a component accepts (it keeps copies on its threads'
 * stacks); larger elements get PAT_EINVAL. */
#define PAT_MAX_ELEM_SIZE ((size_t)1 << 16)

/* The value type of the patterns that need arithmetic or tagging. */
typedef int64_t pat_item;

/* ---- context (Go's context package; seed 001 "Context") --------------- */

/* A context carries a done channel (elem_size 0, closed when the context is
 * canceled), a reason, an optional deadline and an optional key/value.
 * Canceling a context cancels all its descendants with the same reason.
 *
 * Deadlines: a context with a deadline owns ONE timer goroutine, started by
 * pat_ctx_with_deadline/timeout. It waits (CLOCK_MONOTONIC) until the
 * deadline or until the context is canceled, whichever comes first, then
 * exits; pat_ctx_free() joins it. So a timer never outlives its context and
 * never leaks. If the parent's deadline is earlier, or the deadline has
 * already passed, no goroutine is started.
 *
 * Executor: every goroutine a component starts (its workers, stages,
 * timers) is an OS thread, or a fiber when its context runs on a fiber
 * runtime (chan/fiber.h). A root context runs on the runtime of the fiber
 * that makes it, on threads when a plain thread makes it; children inherit
 * it; pat_ctx_with_runtime() chooses it for a subtree. Calls given a NULL
 * context use the caller's executor.
 *
 * Lifecycle: make (new / with_*), use, cancel (any number of times, any
 * thread), free. Free children before their parent (PAT_EBUSY otherwise),
 * and only once no thread uses the context any more. */
typedef struct pat_ctx pat_ctx;

/* A root context (never canceled except by pat_ctx_cancel) whose done
 * channel uses implementation impl (NULL: the default). */
int pat_ctx_new(pat_ctx **out, const char *impl);

/* Children of parent (not NULL), canceled when it is. A child made from a
 * canceled parent is born canceled with the parent's reason, as in Go. */
int pat_ctx_with_cancel(pat_ctx **out, pat_ctx *parent);
/* deadline_ns: absolute CLOCK_MONOTONIC time (pat_now_ns() + ...). */
int pat_ctx_with_deadline(pat_ctx **out, pat_ctx *parent, int64_t deadline_ns);
int pat_ctx_with_timeout(pat_ctx **out, pat_ctx *parent, int64_t timeout_ns);
/* A child whose components start their goroutines as fibers on rt (NULL:
 * as OS threads); its own children inherit that. */
int pat_ctx_with_runtime(pat_ctx **out, pat_ctx *parent, chan_rt *rt);
/* The runtime ctx's components run on (NULL: threads); for a NULL ctx, the
 * calling fiber's runtime (NULL on a plain thread). */
chan_rt *pat_ctx_runtime(const pat_ctx *ctx);

/* Go's WithValue: the child answers key with value (keys compare by
 * address), and defers other keys to its parent. */
int pat_ctx_with_value(pat_ctx **out, pat_ctx *parent, const void *key,
                       void *value);

/* Cancels ctx and its descendants with PAT_CANCELED (no-op if already
 * canceled; NULL is ignored). Never blocks on other threads' work. */
void pat_ctx_cancel(pat_ctx *ctx);

/* The done channel: use it as a receive case {done, CHAN_RECV, NULL} in
 * chan_select. NULL for a NULL ctx (a never-ready case, as in Go). */
chan_t *pat_ctx_done(const pat_ctx *ctx);

/* PAT_OK while live; PAT_CANCELED or PAT_DEADLINE_EXCEEDED after. */
int pat_ctx_err(const pat_ctx *ctx);

/* true and *deadline_ns (absolute, CLOCK_MONOTONIC) if ctx has one. */
bool pat_ctx_deadline(const pat_ctx *ctx, int64_t *deadline_ns);

/* The value for key on ctx or its ancestors, NULL if none. */
void *pat_ctx_value(const pat_ctx *ctx, const void *key);

/* Sleeps timeout_ns unless ctx is canceled first: PAT_OK after the full
 * sleep, else the context's reason. For simulated slow work and demos. */
int pat_ctx_sleep(pat_ctx *ctx, int64_t timeout_ns);

/* Cancels (if needed), joins the timer goroutine, frees. PAT_EBUSY if ctx
 * still has children or a thread is blocked on its done channel. */
int pat_ctx_free(pat_ctx *ctx);

/* The notes' for-select building blocks: send or receive unless ctx is
 * canceled first. Return CHAN_OK, CHAN_CLOSED (the channel is closed), the
 * context's reason, or CHAN_EINVAL. A canceled context is checked first, so
 * once cancellation is seen no further value moves. ctx may be NULL. */
int pat_send_ctx(pat_ctx *ctx, chan_t *ch, const void *elem);
int pat_recv_ctx(pat_ctx *ctx, chan_t *ch, void *elem);

/* Monotonic clock in nanoseconds (the clock of deadlines). */
int64_t pat_now_ns(void);

/* ---- the component handle ---------------------------------------------- */

typedef struct pat_proc pat_proc;

/* What became of the values a component handled (see "No lost values"). */
struct pat_stats {
  uint64_t received; /* values taken from the input (or generated) */
  uint64_t sent;     /* values delivered on the output(s) */
  uint64_t filtered; /* callback returned PAT_SKIP */
  uint64_t failed;   /* callback returned an error */
  uint64_t dropped;  /* load shedding: output not ready (drop pattern) */
  uint64_t canceled; /* taken but stopped before delivery */
};

/* Joins every thread of p (one waiting thread at a time; it does not
 * cancel: stop a component that never finishes with cancel or free).
 * Returns PAT_OK when the component finished its work (input closed,
 * generator stopped, n values taken...), the context's reason if it was
 * canceled, CHAN_CLOSED if its output was closed under it, or the first
 * callback error. Calling it again returns the same. */
int pat_proc_wait(pat_proc *p);
/* Stops p: cancels its own child context. Does not wait. */
void pat_proc_cancel(pat_proc *p);
/* The component's own context (a child of the one it was started with). */
pat_ctx *pat_proc_ctx(pat_proc *p);
void pat_proc_stats(const pat_proc *p, struct pat_stats *out);
/* Cancels if still running, joins, frees p and what it made. */
void pat_proc_free(pat_proc *p);

/* ---- callbacks ---------------------------------------------------------- */

/* Generator: write value number index into *out; PAT_OK to send it,
 * PAT_STOP to end the stream, anything else is an error. */
typedef int (*pat_gen_fn)(pat_ctx *ctx, void *arg, uint64_t index, void *out);
/* Map / filter / work: read *in (input elem), write *out (output elem). */
typedef int (*pat_map_fn)(pat_ctx *ctx, void *arg, const void *in, void *out);
/* A task identified by its index (bounded parallelism, errgroup-style). */
typedef int (*pat_index_fn)(pat_ctx *ctx, void *arg, size_t index);

/* ---- generator, repeat, take (seed 001 "pipeline", seed 004) ---------- */

/* One thread streams fn(0), fn(1), ... on out until PAT_STOP, an error or
 * cancellation; closes out. The notes' boring("Joe") / newRandStream. */
int pat_generator_start(pat_proc **p, pat_ctx *ctx, chan_t *out, pat_gen_fn fn,
                        void *arg);
/* Streams count elements of chan_elem_size(out) bytes from elems (copied at
 * start), then closes out. The notes' generator(done, 1, 2, 3, 4). */
int pat_from_array_start(pat_proc **p, pat_ctx *ctx, chan_t *out,
                         const void *elems, size_t count);
/* Streams the count elements again and again until canceled (repeat). */
int pat_repeat_start(pat_proc **p, pat_ctx *ctx, chan_t *out, const void *elems,
                     size_t count);
/* Forwards the first n values of in to out, then closes out and stops
 * reading (take). Values after the n-th are left in in. */
int pat_take_start(pat_proc **p, pat_ctx *ctx, chan_t *in, chan_t *out,
                   uint64_t n);

/* ---- fan-in (seed 001 "fan-in", seed 004 "Fan-in or Multiplexing") ----- */

/* Merges n inputs into out with a thread per input; out is closed when every
 * input is closed (or on cancel). Order is per-input FIFO only. */
int pat_fan_in_start(pat_proc **p, pat_ctx *ctx, chan_t *const *inputs,
                     size_t n, chan_t *out);
/* Same with ONE thread selecting over all inputs (closed inputs are
 * disabled with a NULL case); n <= CHAN_SELECT_MAX_CASES - 2. */
int pat_fan_in_select_start(pat_proc **p, pat_ctx *ctx, chan_t *const *inputs,
                            size_t n, chan_t *out);

/* Sequenced fan-in (seed 004 "restore sequence by using Wait Channel"): each
 * producer tags its messages with a private wait channel and, after each
 * send, waits for the consumer to hand the turn back with pat_seq_release.
 * Merge producers with pat_fan_in_start on channels of elem_size
 * sizeof(struct pat_seq_msg); a consumer that takes one message from each
 * producer and then releases them all sees strict rounds. */
struct pat_seq_msg {
  pat_item value;    /* from the producer's pat_gen_fn (elem = pat_item) */
  uint32_t producer; /* the producer id given at start */
  chan_t *wait;      /* the producer's private wait channel */
};
int pat_seq_producer_start(pat_proc **p, pat_ctx *ctx, chan_t *out,
                           uint32_t producer, pat_gen_fn fn, void *arg);
/* Gives the producer of m its turn back. Never blocks (the wait channel
 * has one slot). CHAN_CLOSED if the producer has already stopped. Call it
 * before freeing that producer's pat_proc. */
int pat_seq_release(const struct pat_seq_msg *m);

/* ---- fan-out and worker pools (seed 000, seed 004 "Pooling", "Fan Out") */

enum pat_order {
  PAT_UNORDERED = 0, /* results as they come */
  PAT_ORDERED = 1,   /* results in input order */
};

/* The traditional fixed pool: `workers` threads range over in, each value
 * mapped by fn, results sent to out (NULL out: fn gets out == NULL). With
 * PAT_ORDERED a dispatcher tags the inputs and a collector restores input
 * order (at most 2*workers values in flight). out closes when done. */
int pat_pool_start(pat_proc **p, pat_ctx *ctx, chan_t *in, chan_t *out,
                   size_t workers, enum pat_order order, pat_map_fn fn,
                   void *arg);

/* A thread per task, at most `limit` running at once, limited by a
 * semaphore channel (seed 000 "no leaked go worker pool", seed 004 "Fan Out
 * Semaphore"). Each finished task thread is joined before the next is
 * started in its place; out closes when all are done (NULL out: fn gets
 * out == NULL). */
int pat_fanout_sem_start(pat_proc **p, pat_ctx *ctx, chan_t *in, chan_t *out,
                         size_t limit, pat_map_fn fn, void *arg);

/* The buffered fan-out (seed 004 "Fan Out Pattern - Version 1"): one thread
 * per task, all started at once, each with its own slot in out, so no child
 * ever blocks: chan_cap(out) must be >= ntasks (else PAT_EINVAL). tasks is
 * an array of ntasks elements of task_size bytes (copied at start). Results
 * come as they are ready; out is closed after the last. */
int pat_fanout_each_start(pat_proc **p, pat_ctx *ctx, const void *tasks,
                          size_t ntasks, size_t task_size, chan_t *out,
                          pat_map_fn fn, void *arg);

/* ---- semaphore and bounded parallelism (seed 000) ---------------------- */

/* A counting semaphore: a buffered channel of `limit` tokens (elem_size 0);
 * acquire sends a token, release receives one. */
typedef struct pat_sem pat_sem;
int pat_sem_make(pat_sem **out, const char *impl, size_t limit);
/* PAT_OK, or the context's reason (then nothing was acquired). */
int pat_sem_acquire(pat_sem *s, pat_ctx *ctx);
int pat_sem_try_acquire(pat_sem *s); /* PAT_OK or CHAN_WOULD_BLOCK */
int pat_sem_release(pat_sem *s);     /* PAT_ESTATE if none is held */
size_t pat_sem_held(const pat_sem *s);
int pat_sem_free(pat_sem *s); /* PAT_EBUSY while tokens are held */

/* Runs fn(ctx, arg, i) for i in [0, n), a thread per task and at most limit
 * at once (the semaphore pattern), then waits for all. The first error
 * cancels the tasks not yet started (and the context passed to running
 * ones) and is returned; PAT_OK when all succeeded. Synchronous. */
int pat_for_each_bounded(pat_ctx *ctx, const char *impl, size_t n, size_t limit,
                         pat_index_fn fn, void *arg);

/* ---- pipelines (seed 001 "pipeline", seed 004 "Pipeline", daisy chain) - */

/* A stage: one thread ranges over in, maps each value with fn and sends the
 * result on out. fn NULL forwards values unchanged (sizes must match). */
int pat_stage_start(pat_proc **p, pat_ctx *ctx, chan_t *in, chan_t *out,
                    pat_map_fn fn, void *arg);

/* A pipeline builder: stages are chained and started as they are added
 * (like calling multiply(add(generator())) in Go); the builder makes the
 * links between stages and owns them.
 *   pat_pipeline_make(&pl, ctx, source);
 *   pat_pipeline_add(pl, times2, NULL, sizeof(int64_t), 0);
 *   pat_pipeline_add(pl, plus1, NULL, sizeof(int64_t), 0);
 *   chan_t *sink = pat_pipeline_out(pl);   ... range over sink ...
 *   pat_pipeline_wait(pl); pat_pipeline_free(pl);                       */
typedef struct pat_pipeline pat_pipeline;
int pat_pipeline_make(pat_pipeline **out, pat_ctx *ctx, chan_t *source);
/* Adds a stage whose output link has out_elem_size and out_capacity. */
int pat_pipeline_add(pat_pipeline *pl, pat_map_fn fn, void *arg,
                     size_t out_elem_size, size_t out_capacity);
/* Adds a queue stage (see pat_queue_start) of the given capacity. */
int pat_pipeline_add_queue(pat_pipeline *pl, size_t capacity);
chan_t *pat_pipeline_out(const pat_pipeline *pl); /* the last link */
size_t pat_pipeline_length(const pat_pipeline *pl);
/* Stats of stage i (0 = first added). */
int pat_pipeline_stage_stats(const pat_pipeline *pl, size_t i,
                             struct pat_stats *out);
/* Joins every stage; returns the first non-OK outcome in stage order. */
int pat_pipeline_wait(pat_pipeline *pl);
void pat_pipeline_cancel(pat_pipeline *pl);
void pat_pipeline_free(pat_pipeline *pl);

/* Rob Pike's daisy chain: n links (a thread each, unbuffered channels),
 * each receiving once from its right neighbour, passing 1 + value left and
 * ending; init enters at the right end and *result = init + n comes out at
 * the left. Every link watches ctx (one done channel for the chain), so
 * canceling it stops the chain with its reason. Synchronous; all threads
 * joined before it returns. */
int pat_daisy_chain(pat_ctx *ctx, const char *impl, size_t n, pat_item init,
                    pat_item *result);

/* ---- drop and queue (seed 004 "Drop Pattern", seed 001 "queue") -------- */

/* Load shedding: try-send elem; if ch is not ready (full buffer, or no
 * receiver waiting on an unbuffered channel) the value is dropped and
 * *dropped (if not NULL) incremented. Returns CHAN_OK, CHAN_WOULD_BLOCK
 * (dropped), CHAN_CLOSED or CHAN_EINVAL. Never blocks. */
int pat_drop_send(chan_t *ch, const void *elem, uint64_t *dropped);
/* A stage that forwards in to out with pat_drop_send, counting drops in
 * its stats (received == sent + dropped). */
int pat_drop_start(pat_proc **p, pat_ctx *ctx, chan_t *in, chan_t *out);

/* A queue stage: buffers up to capacity values between a fast producer and
 * a slow consumer. One thread selects between receiving (while the queue
 * has room) and sending (while it holds values), disabling either case
 * with NULL; on input close it drains, then closes out. */
int pat_queue_start(pat_proc **p, pat_ctx *ctx, chan_t *in, chan_t *out,
                    size_t capacity);

/* ---- channel combinators (seed 001: or, or-done, tee, bridge) ---------- */

/* or-channel: closes out_done (elem_size 0 recommended) as soon as any of
 * the n signal channels is closed or yields a value. Uses one thread per
 * CHAN_SELECT_MAX_CASES - 2 signals, all selecting also on out_done, so the
 * first to fire releases the others. Context done channels make good
 * signals (the notes' sig(after) is pat_ctx_with_timeout). */
int pat_or_start(pat_proc **p, pat_ctx *ctx, chan_t *const *signals, size_t n,
                 chan_t *out_done);

/* or-done: forwards in to out until in closes or ctx is canceled. */
int pat_or_done_start(pat_proc **p, pat_ctx *ctx, chan_t *in, chan_t *out);

/* tee: each value of in is sent on out1 AND out2 (in either order: the side
 * that got it is disabled with a NULL case until both have it); both
 * outputs close when in closes. */
int pat_tee_start(pat_proc **p, pat_ctx *ctx, chan_t *in, chan_t *out1,
                  chan_t *out2);

/* bridge: streams is a channel of channels (elem_size sizeof(chan_t *));
 * values of each received channel, until it closes, are forwarded to out,
 * one channel after the other. out closes when streams closes. The inner
 * channels stay owned by whoever made them. */
int pat_bridge_start(pat_proc **p, pat_ctx *ctx, chan_t *streams, chan_t *out);

/* ---- future / promise (seed 000 "future pattern", seed 004 "Cancellation
 * Pattern") ------------------------------------------------------------- */

/* A future: fn runs on its own thread and its result travels on a buffered
 * channel of one slot, so the thread never blocks even if nobody awaits
 * (the notes' leak-free Fetch). A promise is a future completed by the
 * caller (pat_promise_set) instead of a thread. */
typedef struct pat_future pat_future;
typedef int (*pat_future_fn)(pat_ctx *ctx, void *arg, void *result);
/* ctx may be NULL; impl names the implementation of the result channel. */
int pat_future_start(pat_future **out, pat_ctx *ctx, const char *impl,
                     size_t result_size, pat_future_fn fn, void *arg);
int pat_promise_make(pat_future **out, const char *impl, size_t result_size);
/* Completes a promise with status and (if status is PAT_OK) *result.
 * PAT_ESTATE if already completed or f is a thread future. */
int pat_promise_set(pat_future *f, int status, const void *result);
/* Waits up to timeout_ns (CHAN_FOREVER: no limit). Returns fn's status
 * (PAT_OK with *result filled, or its error), CHAN_TIMEOUT (fn still
 * running; await again or free). Awaiting again returns the same answer. */
int pat_future_await(pat_future *f, void *result, int64_t timeout_ns);
/* Cancels fn's context, joins its thread, frees. */
void pat_future_free(pat_future *f);

/* ---- errgroup and caller-side concurrency (seed 000) ------------------- */

/* golang.org/x/sync/errgroup.WithContext: tasks run on their own threads
 * with a shared child context; the first task error cancels it; wait joins
 * every task and returns the first error (PAT_OK if none). */
typedef struct pat_errgroup pat_errgroup;
typedef int (*pat_task_fn)(pat_ctx *ctx, void *arg);
/* parent may be NULL (then impl names the done channel's impl). */
int pat_errgroup_make(pat_errgroup **out, pat_ctx *parent, const char *impl);
pat_ctx *pat_errgroup_ctx(pat_errgroup *g);
/* Starts fn on a new thread. PAT_ESTATE after wait. */
int pat_errgroup_go(pat_errgroup *g, pat_task_fn fn, void *arg);
int pat_errgroup_wait(pat_errgroup *g);
void pat_errgroup_free(pat_errgroup *g); /* waits first if needed */

/* Caller-side concurrency, the notes' Glob: fetch is a SYNCHRONOUS call
 * (fetch item number index into *item); pat_fetch_all makes it concurrent
 * on the caller's side with an errgroup and a local channel, collecting the
 * n items (in arrival order) into items (n * item_size bytes). Returns
 * PAT_OK with *count == n, or the first fetch error (the others are
 * canceled) with *count the number collected before it. */
typedef int (*pat_fetch_fn)(pat_ctx *ctx, void *arg, size_t index, void *item);
int pat_fetch_all(pat_ctx *ctx, const char *impl, size_t n, size_t item_size,
                  pat_fetch_fn fetch, void *arg, void *items, size_t *count);

/* ---- replicated requests (seed 003 "fake Google search", Rob Pike) ----- */

/* Query fn(ctx, replica, query, result) on every replica concurrently and
 * take the first successful answer; the others are canceled and joined
 * before returning. Returns PAT_OK (*result filled, *winner = replica
 * index if winner not NULL), PAT_DEADLINE_EXCEEDED if no answer came within
 * timeout_ns (CHAN_FOREVER: none), or the last error if every replica
 * failed. Replicas should watch ctx so that returning stays prompt. */
typedef int (*pat_query_fn)(pat_ctx *ctx, void *replica, const void *query,
                            void *result);
int pat_first(pat_ctx *ctx, const char *impl, pat_query_fn fn,
              void *const *replicas, size_t nreplicas, const void *query,
              void *result, size_t result_size, int64_t timeout_ns,
              size_t *winner);

/* A searched service (Web, Image, Video) and its replicas. */
struct pat_service {
  pat_query_fn fn;
  void *const *replicas;
  size_t nreplicas;
};
/* Google Search 3.0: pat_first on every service concurrently, results
 * fanned into one channel and collected until all answered or the shared
 * timeout passed. results holds nservices * result_size bytes (service i
 * at i); status[i] is pat_first's outcome for service i. Returns the
 * number of services that answered (>= 0) or a negative error. */
int pat_search_all(pat_ctx *ctx, const char *impl,
                   const struct pat_service *services, size_t nservices,
                   const void *query, void *results, size_t result_size,
                   int *status, int64_t timeout_ns);

/* ---- results and error channels (seed 001 "error handling", seed 004
 * "Non-blocking error channel", "Encapsulating Goroutine") -------------- */

/* A result element carries a status and a value: a pat_result_hdr followed
 * by the value, PAT_RESULT_SIZE(value_size) bytes in all. For pat_item
 * values, struct pat_item_result has exactly that layout. */
struct pat_result_hdr {
  int32_t status; /* PAT_OK or the error that replaced the value */
  uint32_t reserved;
};
#define PAT_RESULT_SIZE(value_size)                                            \
  (sizeof(struct pat_result_hdr) + (size_t)(value_size))
struct pat_item_result {
  struct pat_result_hdr hdr;
  pat_item value;
};
static inline void *pat_result_value(void *result) {
  return (char *)result + sizeof(struct pat_result_hdr);
}

/* The notes' checkStatus: a stage that never swallows errors. For each
 * input, fn's status and output value travel together as one result
 * element on out (elem_size PAT_RESULT_SIZE(value size)); errors do not
 * stop the stage: the consumer decides (received == sent). */
int pat_result_stage_start(pat_proc **p, pat_ctx *ctx, chan_t *in, chan_t *out,
                           pat_map_fn fn, void *arg);

/* An encapsulated worker: it makes its own output channel (unbuffered,
 * out_elem_size) and a buffered error channel of one int, so reporting its
 * error never blocks and the worker never leaks even if nobody reads the
 * errors. It streams fn's values on out; on error it posts the code on the
 * error channel; then it closes both. */
typedef struct pat_job pat_job;
int pat_job_start(pat_job **out, pat_ctx *ctx, const char *impl,
                  size_t out_elem_size, pat_gen_fn fn, void *arg);
chan_t *pat_job_out(const pat_job *j);
chan_t *pat_job_errors(const pat_job *j); /* elem: int */
int pat_job_wait(pat_job *j);
void pat_job_free(pat_job *j);

#ifdef __cplusplus
}
#endif

#endif /* CHAN_PATTERNS_H */
