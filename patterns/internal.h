/*
 * internal.h - shared machinery of the patterns library (not public).
 *
 * pat_proc is the handle every threaded component returns. It owns a child
 * context (so one component can be stopped alone), the threads it started,
 * the channels it made, per-component state, and the value counters. The
 * component's output channel is closed by the last "writer" thread to
 * finish, like Go's `defer close(out)` after a WaitGroup.
 */
#ifndef CHAN_PATTERNS_INTERNAL_H
#define CHAN_PATTERNS_INTERNAL_H

#include <chan/fiber.h>
#include <chan/patterns.h>

#include <pthread.h>
#include <stdatomic.h>

/* A goroutine (go.c): a thread, or a fiber on a runtime. */
struct cl_go {
  chan_fiber *fiber; /* NULL for a thread */
  pthread_t thread;
  bool started;
};

/* Starts fn(arg) as a fiber on rt, or as a thread when rt is NULL. Returns
 * PAT_OK or PAT_ETHREAD (the message names `what`). */
int cl_go_start(struct cl_go *g, chan_rt *rt, void *(*fn)(void *), void *arg,
                const char *what);
/* Waits for it to finish; nothing if it never started. */
void cl_go_join(struct cl_go *g);

/* Records a message for pat_last_error() and returns status. */
int cl_pat_fail(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The implementation name to use for internal channels. */
const char *cl_pat_impl_of(const pat_ctx *ctx, const chan_t *ch);

/* Child context of parent, or a fresh root on impl when parent is NULL. */
int cl_pat_ctx_child_or_root(pat_ctx **out, pat_ctx *parent, const char *impl);

typedef int (*proc_thread_fn)(pat_proc *p, void *arg);

struct proc_thread {
  struct cl_go go;
  pat_proc *proc;
  proc_thread_fn fn;
  void *arg;
  bool writer;
};

struct pat_proc {
  pat_ctx *ctx; /* own child context */
  struct proc_thread **threads;
  size_t nthreads, cap_threads;
  atomic_int status;     /* first non-OK outcome, else PAT_OK */
  atomic_size_t writers; /* live writer threads + 1 while starting */
  chan_t *out;           /* closed when writers reach 0 (may be NULL) */
  chan_t *out2;          /* tee's second output */
  chan_t **owned;        /* channels destroyed by pat_proc_free */
  size_t nowned;
  void *state; /* component state, freed by state_free */
  void (*state_free)(void *state);
  void (*on_joined)(pat_proc *p); /* settles counters after the joins */
  bool joined;
  int final_status;
  atomic_uint_fast64_t received, sent, filtered, failed, dropped, canceled;
};

#define PROC_COUNT(p, field, n)                                                \
  atomic_fetch_add_explicit(&(p)->field, (n), memory_order_relaxed)

/* Makes a proc whose context is a child of parent (a root on impl when
 * parent is NULL); fails with the parent's reason if it is canceled. */
int cl_proc_new(pat_proc **out, pat_ctx *parent, const char *impl,
                chan_t *out_ch);
/* Starts fn(p, arg) on a thread; writer threads count towards closing out.
 * On failure returns PAT_ETHREAD (call proc_abort). */
int cl_proc_spawn(pat_proc *p, proc_thread_fn fn, void *arg, bool writer);
/* Every thread is started: the last writer to finish may now close out. */
void cl_proc_launched(pat_proc *p);
/* Start failed: cancel, join what started, free; returns status. */
int cl_proc_abort(pat_proc *p, int status);
/* Records the first non-OK outcome. */
void cl_proc_record(pat_proc *p, int status);
/* Records status and cancels the proc (a callback error). */
void cl_proc_fail(pat_proc *p, int status);
int cl_proc_own_chan(pat_proc *p, chan_t *ch);
/* Makes a channel on the proc's implementation and owns it. */
int cl_proc_make_chan(pat_proc *p, chan_t **out, size_t elem_size, size_t cap);

/* Blocking operations that stop on the proc's cancellation. */
static inline int cl_proc_send(pat_proc *p, chan_t *ch, const void *elem) {
  return pat_send_ctx(p->ctx, ch, elem);
}
static inline int cl_proc_recv(pat_proc *p, chan_t *ch, void *elem) {
  return pat_recv_ctx(p->ctx, ch, elem);
}

/* Forwards in to p->out until in closes (PAT_OK), counting values. */
int cl_proc_forward(pat_proc *p, chan_t *in, size_t elem_size);

/* PAT_EINVAL (with a message) if size > PAT_MAX_ELEM_SIZE. */
int cl_pat_check_size(const char *what, size_t size);

/* Checks shared by the start functions. */
int cl_pat_check_ctx(pat_ctx *ctx);

/* The common preamble of an entry point that makes its own channels: the
 * element size is within PAT_MAX_ELEM_SIZE, ctx is not already done, and
 * (with a ctx) *impl becomes the context's implementation so everything it
 * builds runs on one. Returns PAT_OK or the error (already recorded). */
int cl_pat_check_call(const char *what, pat_ctx *ctx, size_t elem_size,
                      const char **impl);

#endif /* CHAN_PATTERNS_INTERNAL_H */
