/*
 * future.c - futures and promises, errgroup, caller-side concurrency
 * (pat_fetch_all) and the encapsulated worker with a non-blocking error
 * channel (pat_job).
 *
 * Seed 000 ("future pattern": Fetch returns a buffered channel of one, read
 * later; "Caller side concurrency" with errgroup; the Glob example), seed
 * 004 ("Cancellation Pattern": a buffered channel of one so the abandoned
 * employee does not leak; "Non-blocking error channel"; "Encapsulating
 * Goroutine").
 *
 * Lifecycles: future start -> await (with timeout, repeatable) -> free
 * (cancels and joins). errgroup make -> go... -> wait -> free. pat_job
 * start -> range out -> read errors -> wait -> free. pat_fetch_all is
 * synchronous.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- future / promise --------------------------------------------------- */

struct pat_future {
  chan_t *ch; /* capacity 1: the producer never blocks */
  size_t result_size, elem_size;
  pat_ctx *ctx;
  pat_future_fn fn;
  void *arg;
  bool has_thread, done;
  atomic_bool set;
  struct cl_go go;
  int status;
  unsigned char *answer; /* PAT_RESULT_SIZE(result_size) */
};

static void *future_main(void *arg) {
  pat_future *f = arg;
  unsigned char buf[f->elem_size];
  struct pat_result_hdr hdr = {0, 0};
  memset(buf, 0, f->elem_size);
  hdr.status = f->fn(f->ctx, f->arg, pat_result_value(buf));
  memcpy(buf, &hdr, sizeof hdr);
  chan_send(f->ch, buf); /* c <- item */
  return NULL;
}

static int future_alloc(pat_future **out, const char *impl, size_t size) {
  if (cl_pat_check_size("future result", size) != PAT_OK)
    return PAT_EINVAL;
  pat_future *f = calloc(1, sizeof *f);
  if (!f)
    return cl_pat_fail(PAT_ENOMEM, "future: out of memory");
  f->result_size = size;
  f->elem_size = PAT_RESULT_SIZE(size);
  f->answer = calloc(1, f->elem_size);
  int rc = f->answer ? chan_make(&f->ch, impl, f->elem_size, 1) : PAT_ENOMEM;
  if (rc != CHAN_OK) {
    free(f->answer);
    free(f);
    return cl_pat_fail(rc, "future: %s", chan_last_error());
  }
  atomic_init(&f->set, false);
  *out = f;
  return PAT_OK;
}

int pat_future_start(pat_future **out, pat_ctx *ctx, const char *impl,
                     size_t result_size, pat_future_fn fn, void *arg) {
  if (!out || !fn)
    return cl_pat_fail(PAT_EINVAL, "pat_future_start: %s is NULL",
                       out ? "fn" : "out");
  int rc = cl_pat_check_ctx(ctx);
  if (rc != PAT_OK)
    return rc;
  if (ctx)
    impl = cl_pat_impl_of(ctx, NULL);
  pat_future *f;
  rc = future_alloc(&f, impl, result_size);
  if (rc != PAT_OK)
    return rc;
  f->fn = fn;
  f->arg = arg;
  atomic_store(&f->set, true);
  rc = cl_pat_ctx_child_or_root(&f->ctx, ctx, impl);
  if (rc == PAT_OK)
    rc = cl_go_start(&f->go, pat_ctx_runtime(f->ctx), future_main, f,
                     "pat_future_start");
  if (rc != PAT_OK) {
    f->has_thread = false;
    pat_future_free(f);
    return rc;
  }
  f->has_thread = true;
  *out = f;
  return PAT_OK;
}

int pat_promise_make(pat_future **out, const char *impl, size_t result_size) {
  if (!out)
    return cl_pat_fail(PAT_EINVAL, "pat_promise_make: out is NULL");
  return future_alloc(out, impl, result_size);
}

int pat_promise_set(pat_future *f, int status, const void *result) {
  if (!f)
    return cl_pat_fail(PAT_EINVAL, "pat_promise_set: NULL");
  if (status == PAT_OK && f->result_size && !result)
    return cl_pat_fail(PAT_EINVAL, "pat_promise_set: result is NULL");
  if (f->fn)
    return cl_pat_fail(PAT_ESTATE, "pat_promise_set: a thread future");
  if (atomic_exchange(&f->set, true))
    return cl_pat_fail(PAT_ESTATE, "pat_promise_set: already completed");
  unsigned char buf[f->elem_size];
  struct pat_result_hdr hdr = {status, 0};
  memset(buf, 0, f->elem_size);
  memcpy(buf, &hdr, sizeof hdr);
  if (status == PAT_OK && f->result_size)
    memcpy(pat_result_value(buf), result, f->result_size);
  return chan_send(f->ch, buf);
}

int pat_future_await(pat_future *f, void *result, int64_t timeout_ns) {
  if (!f)
    return cl_pat_fail(PAT_EINVAL, "pat_future_await: NULL");
  if (timeout_ns < 0 && timeout_ns != CHAN_FOREVER)
    return cl_pat_fail(PAT_EINVAL, "pat_future_await: bad timeout");
  if (!f->done) {
    int rc = timeout_ns == CHAN_FOREVER
                 ? chan_recv(f->ch, f->answer)
                 : chan_recv_timeout(f->ch, f->answer, timeout_ns);
    if (rc == CHAN_WOULD_BLOCK || rc == CHAN_TIMEOUT)
      return CHAN_TIMEOUT; /* still running: await again or free */
    if (rc != CHAN_OK)
      return rc;
    struct pat_result_hdr hdr;
    memcpy(&hdr, f->answer, sizeof hdr);
    f->status = hdr.status;
    f->done = true;
  }
  if (f->status == PAT_OK && result && f->result_size)
    memcpy(result, pat_result_value(f->answer), f->result_size);
  return f->status;
}

void pat_future_free(pat_future *f) {
  if (!f)
    return;
  if (f->ctx)
    pat_ctx_cancel(f->ctx);
  if (f->has_thread)
    cl_go_join(&f->go);
  if (f->ctx)
    pat_ctx_free(f->ctx);
  chan_destroy(f->ch);
  free(f->answer);
  free(f);
}

/* ---- errgroup ----------------------------------------------------------- */

struct eg_task {
  struct cl_go go;
  pat_errgroup *g;
  pat_task_fn fn;
  void *arg;
};

struct pat_errgroup {
  pat_ctx *ctx;
  pthread_mutex_t mu;
  struct eg_task **tasks;
  size_t n, cap;
  atomic_int first;
  bool waited;
  int result;
};

int pat_errgroup_make(pat_errgroup **out, pat_ctx *parent, const char *impl) {
  if (!out)
    return cl_pat_fail(PAT_EINVAL, "pat_errgroup_make: out is NULL");
  int rc = cl_pat_check_ctx(parent);
  if (rc != PAT_OK)
    return rc;
  pat_errgroup *g = calloc(1, sizeof *g);
  if (!g)
    return cl_pat_fail(PAT_ENOMEM, "pat_errgroup_make: out of memory");
  rc = cl_pat_ctx_child_or_root(&g->ctx, parent, impl);
  if (rc != PAT_OK) {
    free(g);
    return rc;
  }
  pthread_mutex_init(&g->mu, NULL);
  atomic_init(&g->first, PAT_OK);
  *out = g;
  return PAT_OK;
}

pat_ctx *pat_errgroup_ctx(pat_errgroup *g) {
  return g ? g->ctx : NULL;
}

static void *eg_main(void *arg) {
  struct eg_task *t = arg;
  int rc = t->fn(t->g->ctx, t->arg);
  if (rc != PAT_OK) {
    int expected = PAT_OK;
    if (atomic_compare_exchange_strong(&t->g->first, &expected, rc))
      pat_ctx_cancel(t->g->ctx); /* the first error cancels the rest */
  }
  return NULL;
}

int pat_errgroup_go(pat_errgroup *g, pat_task_fn fn, void *arg) {
  if (!g || !fn)
    return cl_pat_fail(PAT_EINVAL, "pat_errgroup_go: %s is NULL",
                       g ? "fn" : "g");
  int rc = PAT_OK;
  pthread_mutex_lock(&g->mu);
  if (g->waited) {
    rc = cl_pat_fail(PAT_ESTATE, "pat_errgroup_go: after wait");
  } else if (g->n == g->cap) {
    size_t cap = g->cap ? 2 * g->cap : 8;
    struct eg_task **grown = realloc(g->tasks, cap * sizeof *grown);
    if (grown) {
      g->tasks = grown;
      g->cap = cap;
    } else {
      rc = cl_pat_fail(PAT_ENOMEM, "pat_errgroup_go: out of memory");
    }
  }
  struct eg_task *t = rc == PAT_OK ? calloc(1, sizeof *t) : NULL;
  if (rc == PAT_OK && !t)
    rc = cl_pat_fail(PAT_ENOMEM, "pat_errgroup_go: out of memory");
  if (rc == PAT_OK) {
    *t = (struct eg_task){.g = g, .fn = fn, .arg = arg};
    rc = cl_go_start(&t->go, pat_ctx_runtime(g->ctx), eg_main, t,
                     "pat_errgroup_go");
    if (rc != PAT_OK) {
      free(t);
    } else {
      g->tasks[g->n++] = t;
    }
  }
  pthread_mutex_unlock(&g->mu);
  return rc;
}

int pat_errgroup_wait(pat_errgroup *g) {
  if (!g)
    return cl_pat_fail(PAT_EINVAL, "pat_errgroup_wait: NULL");
  pthread_mutex_lock(&g->mu);
  bool again = g->waited;
  g->waited = true;
  size_t n = g->n;
  pthread_mutex_unlock(&g->mu);
  if (again)
    return g->result;
  for (size_t i = 0; i < n; i++)
    cl_go_join(&g->tasks[i]->go);
  g->result = atomic_load(&g->first);
  pat_ctx_cancel(g->ctx); /* as Go's errgroup does after Wait */
  return g->result;
}

void pat_errgroup_free(pat_errgroup *g) {
  if (!g)
    return;
  pat_errgroup_wait(g);
  for (size_t i = 0; i < g->n; i++)
    free(g->tasks[i]);
  free(g->tasks);
  pat_ctx_free(g->ctx);
  pthread_mutex_destroy(&g->mu);
  free(g);
}

/* ---- caller-side concurrency: the notes' Glob --------------------------- */

struct fetch_state {
  chan_t *c; /* local to the call, unbuffered */
  pat_fetch_fn fetch;
  void *arg;
  size_t item_size;
  struct fetch_task {
    struct fetch_state *st;
    size_t index;
  } * tasks;
  pat_errgroup *g;
};

static int fetch_task(pat_ctx *ctx, void *arg) {
  struct fetch_task *t = arg;
  unsigned char item[t->st->item_size + 1];
  int rc = t->st->fetch(ctx, t->st->arg, t->index, item);
  if (rc != PAT_OK)
    return rc;
  rc = pat_send_ctx(ctx, t->st->c, item); /* c <- item */
  return rc == CHAN_OK ? PAT_OK : rc;
}

static void *fetch_closer(void *arg) {
  struct fetch_state *st = arg;
  pat_errgroup_wait(st->g); /* err = g.Wait(); close(c) */
  chan_close(st->c);
  return NULL;
}

int pat_fetch_all(pat_ctx *ctx, const char *impl, size_t n, size_t item_size,
                  pat_fetch_fn fetch, void *arg, void *items, size_t *count) {
  if (!fetch || !count || (n && item_size && !items))
    return cl_pat_fail(PAT_EINVAL, "pat_fetch_all: NULL argument");
  *count = 0;
  int rc = cl_pat_check_call("pat_fetch_all", ctx, item_size, &impl);
  if (rc != PAT_OK)
    return rc;
  struct fetch_state st = {.fetch = fetch, .arg = arg, .item_size = item_size};
  st.tasks = calloc(n + 1, sizeof *st.tasks);
  if (!st.tasks)
    return cl_pat_fail(PAT_ENOMEM, "pat_fetch_all: out of memory");
  rc = chan_make(&st.c, impl, item_size, 0);
  if (rc != CHAN_OK) {
    free(st.tasks);
    return cl_pat_fail(rc, "pat_fetch_all: %s", chan_last_error());
  }
  rc = pat_errgroup_make(&st.g, ctx, impl);
  for (size_t i = 0; i < n && rc == PAT_OK; i++) {
    st.tasks[i] = (struct fetch_task){&st, i};
    rc = pat_errgroup_go(st.g, fetch_task, &st.tasks[i]);
  }
  if (rc != PAT_OK && st.g)
    pat_ctx_cancel(pat_errgroup_ctx(st.g));
  struct cl_go closer;
  bool have_closer = false;
  if (st.g && cl_go_start(&closer, pat_ctx_runtime(pat_errgroup_ctx(st.g)),
                          fetch_closer, &st, "pat_fetch_all") == PAT_OK)
    have_closer = true;
  else if (st.g) {
    pat_errgroup_wait(st.g);
    chan_close(st.c);
  } else {
    chan_close(st.c);
  }
  /* for item := range c { items = append(items, item) } */
  unsigned char *dst = items;
  while (*count < n &&
         chan_recv(st.c, dst ? dst + *count * item_size : NULL) == CHAN_OK)
    (*count)++;
  if (have_closer)
    cl_go_join(&closer);
  if (st.g) {
    int werr = pat_errgroup_wait(st.g);
    if (rc == PAT_OK)
      rc = werr;
    pat_errgroup_free(st.g);
  }
  chan_destroy(st.c);
  free(st.tasks);
  return rc;
}

/* ---- encapsulated worker with a non-blocking error channel -------------- */

struct pat_job {
  pat_proc *proc;
  chan_t *out, *errors;
  pat_gen_fn fn;
  void *arg;
  size_t elem_size;
};

static int job_main(pat_proc *p, void *arg) {
  pat_job *j = arg;
  unsigned char buf[j->elem_size + 1];
  int rc = PAT_OK;
  for (uint64_t i = 0;; i++) {
    rc = j->fn(p->ctx, j->arg, i, buf);
    if (rc == PAT_STOP) {
      rc = PAT_OK;
      break;
    }
    if (rc != PAT_OK) {
      chan_try_send(j->errors, &rc); /* buffered: never blocks, never leaks */
      break;
    }
    PROC_COUNT(p, received, 1);
    rc = cl_proc_send(p, j->out, buf);
    if (rc != CHAN_OK) {
      PROC_COUNT(p, canceled, 1);
      break;
    }
    PROC_COUNT(p, sent, 1);
  }
  chan_close(j->errors);
  return rc;
}

int pat_job_start(pat_job **out, pat_ctx *ctx, const char *impl,
                  size_t out_elem_size, pat_gen_fn fn, void *arg) {
  if (!out || !fn)
    return cl_pat_fail(PAT_EINVAL, "pat_job_start: %s is NULL",
                       out ? "fn" : "out");
  int rc = cl_pat_check_call("pat_job_start", ctx, out_elem_size, &impl);
  if (rc != PAT_OK)
    return rc;
  pat_job *j = calloc(1, sizeof *j);
  if (!j)
    return cl_pat_fail(PAT_ENOMEM, "pat_job_start: out of memory");
  j->fn = fn;
  j->arg = arg;
  j->elem_size = out_elem_size;
  rc = cl_proc_new(&j->proc, ctx, impl, NULL);
  if (rc != PAT_OK) {
    free(j);
    return rc;
  }
  rc = cl_proc_make_chan(j->proc, &j->out, out_elem_size, 0);
  if (rc == PAT_OK)
    rc = cl_proc_make_chan(j->proc, &j->errors, sizeof(int), 1);
  if (rc == PAT_OK) {
    j->proc->out = j->out;
    rc = cl_proc_spawn(j->proc, job_main, j, true);
  }
  if (rc != PAT_OK) {
    cl_proc_abort(j->proc, rc);
    free(j);
    return rc;
  }
  cl_proc_launched(j->proc);
  *out = j;
  return PAT_OK;
}

chan_t *pat_job_out(const pat_job *j) {
  return j ? j->out : NULL;
}

chan_t *pat_job_errors(const pat_job *j) {
  return j ? j->errors : NULL;
}

int pat_job_wait(pat_job *j) {
  return j ? pat_proc_wait(j->proc)
           : cl_pat_fail(PAT_EINVAL, "pat_job_wait: NULL");
}

void pat_job_free(pat_job *j) {
  if (!j)
    return;
  pat_proc_free(j->proc);
  free(j);
}
