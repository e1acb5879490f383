/*
 * context.c - cancellation after Go's context package (seed 001 "Context").
 *
 * A context is a tree node: a done channel (elem_size 0, unbuffered) that is
 * closed exactly once when the context is canceled, the reason, an optional
 * deadline and key/value. Cancel walks the subtree under each node's mutex
 * (always parent before child, so there is one lock order).
 *
 * Deadlines are fired by a timer goroutine owned by the context (a thread,
 * or a fiber parked on its worker's timer heap when the context runs on a
 * fiber runtime): it waits on a private channel, closed by cancel, with the
 * deadline as its timeout, and then exits. pat_ctx_free joins it, so no
 * timer outlives its context.
 *
 * Executor: a context knows the runtime its components start their
 * goroutines on (NULL: threads). A root context takes the runtime of the
 * fiber that makes it (threads when a plain thread makes it); children
 * inherit it; pat_ctx_with_runtime changes it for a subtree.
 *
 * Lifecycle: pat_ctx_new / pat_ctx_with_* -> use -> pat_ctx_cancel (any
 * number of times) -> pat_ctx_free (children first).
 *
 * This file also holds the library's error reporting and the for-select
 * helpers pat_send_ctx / pat_recv_ctx.
 */
#include "internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct pat_ctx {
  pthread_mutex_t mu;
  chan_t *done;
  chan_t *timer_stop; /* closed on cancel; the timer waits on it */
  chan_rt *rt;        /* where components run their goroutines, or NULL */
  atomic_int err;     /* PAT_OK until canceled */
  pat_ctx *parent;
  pat_ctx *first_child, *next, *prev; /* siblings, under parent->mu */
  bool has_deadline, has_timer, has_value;
  int64_t deadline_ns;
  struct cl_go timer;
  const void *key;
  void *value;
};

/* ---- errors ------------------------------------------------------------ */

static _Thread_local char last_error[256];

int cl_pat_fail(int status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_error, sizeof last_error, fmt, ap);
  va_end(ap);
  return status;
}

const char *pat_last_error(void) {
  return last_error;
}

const char *pat_strerror(int status) {
  switch (status) {
  case PAT_STOP:
    return "stop (generator finished)";
  case PAT_SKIP:
    return "skip (value filtered out)";
  case PAT_CANCELED:
    return "context canceled";
  case PAT_DEADLINE_EXCEEDED:
    return "context deadline exceeded";
  case PAT_ETHREAD:
    return "could not start a thread";
  case PAT_ESTATE:
    return "call out of lifecycle order";
  default:
    if (status <= PAT_EUSER)
      return "callback error";
    return chan_strerror(status);
  }
}

int64_t pat_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- context tree ------------------------------------------------------ */

static int ctx_alloc(pat_ctx **out, const char *impl) {
  pat_ctx *c = calloc(1, sizeof *c);
  if (!c)
    return cl_pat_fail(PAT_ENOMEM, "pat_ctx: out of memory");
  int rc = chan_make(&c->done, impl, 0, 0);
  if (rc != CHAN_OK) {
    free(c);
    return cl_pat_fail(rc, "pat_ctx: done channel: %s", chan_last_error());
  }
  c->rt = chan_fiber_runtime();
  pthread_mutex_init(&c->mu, NULL);
  atomic_init(&c->err, PAT_OK);
  *out = c;
  return PAT_OK;
}

static void ctx_cancel(pat_ctx *c, int reason) {
  pthread_mutex_lock(&c->mu);
  if (atomic_load_explicit(&c->err, memory_order_acquire) == PAT_OK) {
    atomic_store_explicit(&c->err, reason, memory_order_release);
    chan_close(c->done);
    if (c->timer_stop)
      chan_close(c->timer_stop);
    for (pat_ctx *k = c->first_child; k; k = k->next)
      ctx_cancel(k, reason);
  }
  pthread_mutex_unlock(&c->mu);
}

int pat_ctx_new(pat_ctx **out, const char *impl) {
  if (!out)
    return cl_pat_fail(PAT_EINVAL, "pat_ctx_new: out is NULL");
  return ctx_alloc(out, impl);
}

/* Makes a child linked under parent; born canceled if parent is. */
static int ctx_child(pat_ctx **out, pat_ctx *parent, const char *what) {
  if (!out || !parent)
    return cl_pat_fail(PAT_EINVAL, "%s: %s is NULL", what,
                       out ? "parent" : "out");
  pat_ctx *c;
  int rc = ctx_alloc(&c, chan_impl_name(parent->done));
  if (rc != PAT_OK)
    return rc;
  c->parent = parent;
  c->rt = parent->rt;
  c->has_deadline = parent->has_deadline;
  c->deadline_ns = parent->deadline_ns;
  pthread_mutex_lock(&parent->mu);
  int perr = atomic_load_explicit(&parent->err, memory_order_acquire);
  c->next = parent->first_child;
  if (c->next)
    c->next->prev = c;
  parent->first_child = c;
  pthread_mutex_unlock(&parent->mu);
  if (perr != PAT_OK)
    ctx_cancel(c, perr);
  *out = c;
  return PAT_OK;
}

int pat_ctx_with_cancel(pat_ctx **out, pat_ctx *parent) {
  return ctx_child(out, parent, "pat_ctx_with_cancel");
}

int pat_ctx_with_value(pat_ctx **out, pat_ctx *parent, const void *key,
                       void *value) {
  int rc = ctx_child(out, parent, "pat_ctx_with_value");
  if (rc == PAT_OK) {
    (*out)->key = key;
    (*out)->value = value;
    (*out)->has_value = true;
  }
  return rc;
}

int pat_ctx_with_runtime(pat_ctx **out, pat_ctx *parent, chan_rt *rt) {
  int rc = ctx_child(out, parent, "pat_ctx_with_runtime");
  if (rc == PAT_OK)
    (*out)->rt = rt;
  return rc;
}

chan_rt *pat_ctx_runtime(const pat_ctx *ctx) {
  return ctx ? ctx->rt : chan_fiber_runtime();
}

/* Waits until the deadline unless a cancel closes timer_stop first. */
static void *ctx_timer_main(void *arg) {
  pat_ctx *c = arg;
  int64_t left;
  while ((left = c->deadline_ns - pat_now_ns()) > 0)
    if (chan_recv_timeout(c->timer_stop, NULL, left) == CHAN_CLOSED)
      return NULL; /* canceled */
  ctx_cancel(c, PAT_DEADLINE_EXCEEDED);
  return NULL;
}

int pat_ctx_with_deadline(pat_ctx **out, pat_ctx *parent, int64_t deadline_ns) {
  int rc = ctx_child(out, parent, "pat_ctx_with_deadline");
  if (rc != PAT_OK)
    return rc;
  pat_ctx *c = *out;
  if (c->has_deadline && c->deadline_ns <= deadline_ns)
    return PAT_OK; /* the parent's earlier deadline already covers it */
  c->has_deadline = true;
  c->deadline_ns = deadline_ns;
  if (deadline_ns <= pat_now_ns()) {
    ctx_cancel(c, PAT_DEADLINE_EXCEEDED);
    return PAT_OK;
  }
  if (pat_ctx_err(c) != PAT_OK)
    return PAT_OK; /* born canceled: no timer needed */
  /* Under mu, so a cancel racing us either sees timer_stop or we see it
   * canceled. */
  pthread_mutex_lock(&c->mu);
  rc = chan_make(&c->timer_stop, chan_impl_name(c->done), 0, 0);
  if (rc == CHAN_OK && pat_ctx_err(c) != PAT_OK)
    chan_close(c->timer_stop);
  pthread_mutex_unlock(&c->mu);
  if (rc != CHAN_OK) {
    pat_ctx_free(c);
    *out = NULL;
    return cl_pat_fail(rc, "pat_ctx_with_deadline: %s", chan_last_error());
  }
  rc =
      cl_go_start(&c->timer, c->rt, ctx_timer_main, c, "pat_ctx_with_deadline");
  if (rc != PAT_OK) {
    pat_ctx_free(c);
    *out = NULL;
    return rc;
  }
  c->has_timer = true;
  return PAT_OK;
}

int pat_ctx_with_timeout(pat_ctx **out, pat_ctx *parent, int64_t timeout_ns) {
  if (timeout_ns < 0)
    return cl_pat_fail(PAT_EINVAL, "pat_ctx_with_timeout: negative timeout");
  return pat_ctx_with_deadline(out, parent, pat_now_ns() + timeout_ns);
}

void pat_ctx_cancel(pat_ctx *ctx) {
  if (ctx)
    ctx_cancel(ctx, PAT_CANCELED);
}

chan_t *pat_ctx_done(const pat_ctx *ctx) {
  return ctx ? ctx->done : NULL;
}

int pat_ctx_err(const pat_ctx *ctx) {
  return ctx ? atomic_load_explicit(&((pat_ctx *)ctx)->err,
                                    memory_order_acquire)
             : PAT_OK;
}

bool pat_ctx_deadline(const pat_ctx *ctx, int64_t *deadline_ns) {
  if (!ctx || !ctx->has_deadline)
    return false;
  if (deadline_ns)
    *deadline_ns = ctx->deadline_ns;
  return true;
}

void *pat_ctx_value(const pat_ctx *ctx, const void *key) {
  for (; ctx; ctx = ctx->parent)
    if (ctx->has_value && ctx->key == key)
      return ctx->value;
  return NULL;
}

int pat_ctx_sleep(pat_ctx *ctx, int64_t timeout_ns) {
  if (timeout_ns < 0)
    return cl_pat_fail(PAT_EINVAL, "pat_ctx_sleep: negative timeout");
  if (!ctx)
    return chan_fiber_sleep(timeout_ns); /* a fiber parks, a thread sleeps */
  int err = pat_ctx_err(ctx);
  if (err != PAT_OK)
    return err;
  int rc = chan_recv_timeout(ctx->done, NULL, timeout_ns);
  if (rc == CHAN_TIMEOUT || rc == CHAN_WOULD_BLOCK) /* 0 ns polls */
    return PAT_OK;
  return pat_ctx_err(ctx) != PAT_OK ? pat_ctx_err(ctx) : rc;
}

int pat_ctx_free(pat_ctx *c) {
  if (!c)
    return cl_pat_fail(PAT_EINVAL, "pat_ctx_free: NULL");
  pthread_mutex_lock(&c->mu);
  bool busy = c->first_child != NULL;
  pthread_mutex_unlock(&c->mu);
  if (busy)
    return cl_pat_fail(PAT_EBUSY, "pat_ctx_free: free the children first");
  ctx_cancel(c, PAT_CANCELED);
  if (c->has_timer) {
    cl_go_join(&c->timer);
    c->has_timer = false;
  }
  if (c->timer_stop)
    chan_destroy(c->timer_stop);
  int rc = chan_destroy(c->done);
  if (rc != CHAN_OK)
    return cl_pat_fail(PAT_EBUSY, "pat_ctx_free: a thread still waits on done");
  if (c->parent) {
    pat_ctx *p = c->parent;
    pthread_mutex_lock(&p->mu);
    if (c->prev)
      c->prev->next = c->next;
    else
      p->first_child = c->next;
    if (c->next)
      c->next->prev = c->prev;
    pthread_mutex_unlock(&p->mu);
  }
  pthread_mutex_destroy(&c->mu);
  free(c);
  return PAT_OK;
}

int cl_pat_ctx_child_or_root(pat_ctx **out, pat_ctx *parent, const char *impl) {
  return parent ? pat_ctx_with_cancel(out, parent) : pat_ctx_new(out, impl);
}

const char *cl_pat_impl_of(const pat_ctx *ctx, const chan_t *ch) {
  if (ch)
    return chan_impl_name(ch);
  if (ctx)
    return chan_impl_name(ctx->done);
  return NULL;
}

int cl_pat_check_size(const char *what, size_t size) {
  if (size > PAT_MAX_ELEM_SIZE)
    return cl_pat_fail(
        PAT_EINVAL, "%s: element of %zu bytes > PAT_MAX_ELEM_SIZE", what, size);
  return PAT_OK;
}

int cl_pat_check_ctx(pat_ctx *ctx) {
  int err = pat_ctx_err(ctx);
  if (err != PAT_OK)
    return cl_pat_fail(err, "context already %s",
                       err == PAT_CANCELED ? "canceled" : "past its deadline");
  return PAT_OK;
}

int cl_pat_check_call(const char *what, pat_ctx *ctx, size_t elem_size,
                      const char **impl) {
  int rc = cl_pat_check_size(what, elem_size);
  if (rc == PAT_OK)
    rc = cl_pat_check_ctx(ctx);
  if (rc == PAT_OK && ctx)
    *impl = cl_pat_impl_of(ctx, NULL);
  return rc;
}

/* ---- for-select helpers ------------------------------------------------ *
 *
 * Both try the channel alone first and select on it and the done channel
 * only when it is not ready. Every goroutine of a component shares one
 * done channel, so a select that polled it first (half the time, in its
 * shuffled order) would take that shared channel's lock on every value:
 * with the goroutines on two cores, the line of a lock nobody needs moves
 * between them per value (AMD EPYC, 2 PUs, fibers, A/B in one session:
 * worker pool of 4 1.14-1.40x faster per value on the three channels; the
 * sieve, fan-in and tee no difference). The cancellation check comes
 * first, so a value moves after a cancel only if it was ready when the
 * check passed: an outcome the select allows too. */

int pat_send_ctx(pat_ctx *ctx, chan_t *ch, const void *elem) {
  if (!ch)
    return cl_pat_fail(CHAN_EINVAL, "pat_send_ctx: NULL channel");
  if (!ctx)
    return chan_send(ch, elem);
  int err = pat_ctx_err(ctx);
  if (err != PAT_OK)
    return err;
  int now = chan_try_send(ch, elem);
  if (now != CHAN_WOULD_BLOCK)
    return now;
  struct chan_case cases[2] = {{ch, CHAN_SEND, (void *)elem},
                               {ctx->done, CHAN_RECV, NULL}};
  size_t chosen = 0;
  int rc = chan_select(cases, 2, CHAN_FOREVER, &chosen);
  if (rc < 0)
    return rc;
  if (chosen == 1)
    return pat_ctx_err(ctx) != PAT_OK ? pat_ctx_err(ctx) : PAT_CANCELED;
  return rc;
}

int pat_recv_ctx(pat_ctx *ctx, chan_t *ch, void *elem) {
  if (!ch)
    return cl_pat_fail(CHAN_EINVAL, "pat_recv_ctx: NULL channel");
  if (!ctx)
    return chan_recv(ch, elem);
  int err = pat_ctx_err(ctx);
  if (err != PAT_OK)
    return err;
  int now = chan_try_recv(ch, elem);
  if (now != CHAN_WOULD_BLOCK)
    return now;
  struct chan_case cases[2] = {{ch, CHAN_RECV, elem},
                               {ctx->done, CHAN_RECV, NULL}};
  size_t chosen = 0;
  int rc = chan_select(cases, 2, CHAN_FOREVER, &chosen);
  if (rc < 0)
    return rc;
  if (chosen == 1)
    return pat_ctx_err(ctx) != PAT_OK ? pat_ctx_err(ctx) : PAT_CANCELED;
  return rc;
}
