/*
 * fanout.c - fan-out: worker pools, thread-per-task under a semaphore, the
 * buffered one-slot-per-child fan-out, the semaphore itself and bounded
 * parallelism.
 *
 * Seed 000 ("traditional go worker pool", "no leaked go worker pool, using
 * semaphore"), seed 001 ("fan-out"), seed 004 ("Pooling Pattern", "Fan Out
 * Pattern - Version 1", "Version 2 (Fan Out Semaphore)").
 *
 * Lifecycle of each: start -> feed in / consume out -> pat_proc_wait ->
 * pat_proc_free. Threads started per task (semaphore variants) are joined
 * by the dispatcher as they finish, and all of them before it returns.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- semaphore: a buffered channel of tokens ---------------------------- */

struct pat_sem {
  chan_t *tokens; /* elem_size 0, capacity limit: len == tokens held */
};

int pat_sem_make(pat_sem **out, const char *impl, size_t limit) {
  if (!out)
    return cl_pat_fail(PAT_EINVAL, "pat_sem_make: out is NULL");
  if (limit == 0)
    return cl_pat_fail(PAT_EINVAL, "pat_sem_make: limit must be > 0");
  pat_sem *s = calloc(1, sizeof *s);
  if (!s)
    return cl_pat_fail(PAT_ENOMEM, "pat_sem_make: out of memory");
  int rc = chan_make(&s->tokens, impl, 0, limit);
  if (rc != CHAN_OK) {
    free(s);
    return cl_pat_fail(rc, "pat_sem_make: %s", chan_last_error());
  }
  *out = s;
  return PAT_OK;
}

int pat_sem_acquire(pat_sem *s, pat_ctx *ctx) {
  if (!s)
    return cl_pat_fail(PAT_EINVAL, "pat_sem_acquire: NULL");
  return pat_send_ctx(ctx, s->tokens, NULL); /* sem <- token{} */
}

int pat_sem_try_acquire(pat_sem *s) {
  if (!s)
    return cl_pat_fail(PAT_EINVAL, "pat_sem_try_acquire: NULL");
  return chan_try_send(s->tokens, NULL);
}

int pat_sem_release(pat_sem *s) {
  if (!s)
    return cl_pat_fail(PAT_EINVAL, "pat_sem_release: NULL");
  int rc = chan_try_recv(s->tokens, NULL); /* <-sem */
  if (rc == CHAN_WOULD_BLOCK)
    return cl_pat_fail(PAT_ESTATE, "pat_sem_release: no token held");
  return rc;
}

size_t pat_sem_held(const pat_sem *s) {
  return s ? chan_len(s->tokens) : 0;
}

int pat_sem_free(pat_sem *s) {
  if (!s)
    return cl_pat_fail(PAT_EINVAL, "pat_sem_free: NULL");
  if (chan_len(s->tokens) != 0)
    return cl_pat_fail(PAT_EBUSY, "pat_sem_free: tokens still held");
  int rc = chan_destroy(s->tokens);
  if (rc != CHAN_OK)
    return cl_pat_fail(PAT_EBUSY, "pat_sem_free: a thread still waits");
  free(s);
  return PAT_OK;
}

/* ---- spawner: a thread per task, at most `limit` alive ------------------ */

/* Slots hold the live task threads. A finishing task releases its token
 * and posts its slot on `finished` (capacity limit: never blocks); the
 * dispatcher joins it before reusing the slot, so no thread is ever
 * detached or left unjoined. */
struct spawner {
  pat_sem *sem;
  chan_t *finished; /* elem size_t */
  struct cl_go *tasks;
  chan_rt *rt; /* executor of the tasks */
  size_t *free_slots;
  size_t nfree, limit;
};

static int spawner_init(struct spawner *sp, pat_ctx *ctx, const char *impl,
                        size_t limit) {
  memset(sp, 0, sizeof *sp);
  sp->limit = limit;
  sp->rt = pat_ctx_runtime(ctx);
  int rc = pat_sem_make(&sp->sem, impl, limit);
  if (rc != PAT_OK)
    return rc;
  rc = chan_make(&sp->finished, impl, sizeof(size_t), limit);
  sp->tasks = calloc(limit, sizeof *sp->tasks);
  sp->free_slots = calloc(limit, sizeof *sp->free_slots);
  if (rc != CHAN_OK || !sp->tasks || !sp->free_slots)
    return cl_pat_fail(PAT_ENOMEM, "spawner: out of resources");
  for (size_t i = 0; i < limit; i++)
    sp->free_slots[sp->nfree++] = limit - 1 - i;
  return PAT_OK;
}

static void spawner_reap_one(struct spawner *sp) {
  size_t slot;
  if (chan_recv(sp->finished, &slot) == CHAN_OK) {
    cl_go_join(&sp->tasks[slot]);
    sp->free_slots[sp->nfree++] = slot;
  }
}

/* Acquires a token (or ctx's reason) and returns a free slot. */
static int spawner_acquire(struct spawner *sp, pat_ctx *ctx, size_t *slot) {
  int rc = pat_sem_acquire(sp->sem, ctx);
  if (rc != PAT_OK)
    return rc;
  /* Holding a token means a slot is free or about to be posted. */
  while (sp->nfree == 0)
    spawner_reap_one(sp);
  *slot = sp->free_slots[--sp->nfree];
  return PAT_OK;
}

static int spawner_start(struct spawner *sp, size_t slot, void *(*fn)(void *),
                         void *arg) {
  int rc = cl_go_start(&sp->tasks[slot], sp->rt, fn, arg, "task");
  if (rc != PAT_OK) {
    sp->free_slots[sp->nfree++] = slot;
    pat_sem_release(sp->sem);
  }
  return rc;
}

/* Called by a task thread as its last act. */
static void spawner_finish(struct spawner *sp, size_t slot) {
  pat_sem_release(sp->sem);
  chan_send(sp->finished, &slot);
}

static void spawner_join_all(struct spawner *sp) {
  while (sp->nfree < sp->limit)
    spawner_reap_one(sp);
}

static void spawner_destroy(struct spawner *sp) {
  if (sp->sem)
    pat_sem_free(sp->sem);
  if (sp->finished)
    chan_destroy(sp->finished);
  free(sp->tasks);
  free(sp->free_slots);
}

/* ---- shared worker step ------------------------------------------------- */

struct work_state {
  chan_t *in;
  pat_map_fn fn;
  void *arg;
  size_t in_size, out_size;
};

/* Maps one accepted value and delivers it; returns non-OK to stop. */
static int work_one(pat_proc *p, const struct work_state *w, const void *in,
                    void *out) {
  /* Without an output channel there is nowhere to put a result. */
  int rc = w->fn(p->ctx, w->arg, in, p->out ? out : NULL);
  if (rc == PAT_SKIP) {
    PROC_COUNT(p, filtered, 1);
    return PAT_OK;
  }
  if (rc != PAT_OK) {
    PROC_COUNT(p, failed, 1);
    cl_proc_fail(p, rc);
    return rc;
  }
  if (!p->out) {
    PROC_COUNT(p, sent, 1); /* no output: the work was the point */
    return PAT_OK;
  }
  rc = cl_proc_send(p, p->out, out);
  if (rc != CHAN_OK) {
    PROC_COUNT(p, canceled, 1);
    return rc;
  }
  PROC_COUNT(p, sent, 1);
  return PAT_OK;
}

static int check_work_args(const char *what, pat_proc **p, chan_t *in,
                           pat_map_fn fn) {
  if (!p)
    return cl_pat_fail(PAT_EINVAL, "%s: p is NULL", what);
  if (!in)
    return cl_pat_fail(PAT_EINVAL, "%s: input channel is NULL", what);
  if (!fn)
    return cl_pat_fail(PAT_EINVAL, "%s: fn is NULL", what);
  return cl_pat_check_size(what, chan_elem_size(in));
}

/* ---- the traditional pool, unordered ------------------------------------ */

static int pool_worker(pat_proc *p, void *arg) {
  struct work_state *w = arg;
  unsigned char in[w->in_size + 1], out[w->out_size + 1];
  for (;;) {
    int rc = cl_proc_recv(p, w->in, in); /* for task := range work */
    if (rc == CHAN_CLOSED)
      return PAT_OK;
    if (rc != CHAN_OK)
      return rc;
    PROC_COUNT(p, received, 1);
    rc = work_one(p, w, in, out);
    if (rc != PAT_OK)
      return rc;
  }
}

/* ---- the pool, ordered -------------------------------------------------- */

/* The dispatcher takes a free result slot (a one-value channel), tags the
 * input with it, hands it to a worker and queues the slot on `order`; the
 * collector waits on the slots in queue order, so results leave in input
 * order while up to 2*workers values are in flight. */
struct ordered_state {
  struct work_state w;
  chan_t *jobs;       /* elem: slot pointer + input */
  chan_t *order;      /* elem: slot pointer, in input order */
  chan_t *free_slots; /* elem: slot pointer */
  size_t job_size, result_size;
};

static int ordered_dispatcher(pat_proc *p, void *arg) {
  struct ordered_state *o = arg;
  unsigned char job[o->job_size];
  chan_t *slot;
  int rc;
  for (;;) {
    rc = cl_proc_recv(p, o->free_slots, &slot);
    if (rc != CHAN_OK)
      break;
    rc = cl_proc_recv(p, o->w.in, job + sizeof slot);
    if (rc == CHAN_CLOSED) {
      rc = PAT_OK;
      break;
    }
    if (rc != CHAN_OK)
      break;
    PROC_COUNT(p, received, 1);
    memcpy(job, &slot, sizeof slot);
    rc = chan_send(o->order, &slot); /* capacity = slots: never blocks */
    if (rc == CHAN_OK)
      rc = cl_proc_send(p, o->jobs, job);
    if (rc != CHAN_OK)
      break;
  }
  chan_close(o->jobs);
  chan_close(o->order);
  return rc;
}

static int ordered_worker(pat_proc *p, void *arg) {
  struct ordered_state *o = arg;
  unsigned char job[o->job_size], result[o->result_size];
  struct pat_result_hdr *hdr = (struct pat_result_hdr *)result;
  for (;;) {
    int rc = cl_proc_recv(p, o->jobs, job);
    if (rc == CHAN_CLOSED)
      return PAT_OK;
    if (rc != CHAN_OK)
      return rc;
    chan_t *slot;
    memcpy(&slot, job, sizeof slot);
    memset(hdr, 0, sizeof *hdr);
    hdr->status = o->w.fn(p->ctx, o->w.arg, job + sizeof slot,
                          p->out ? pat_result_value(result) : NULL);
    if (hdr->status != PAT_OK && hdr->status != PAT_SKIP)
      cl_proc_fail(p, hdr->status);
    chan_try_send(slot, result); /* the slot is empty: never blocks */
  }
}

static int ordered_collector(pat_proc *p, void *arg) {
  struct ordered_state *o = arg;
  unsigned char result[o->result_size];
  struct pat_result_hdr *hdr = (struct pat_result_hdr *)result;
  for (;;) {
    chan_t *slot;
    int rc = cl_proc_recv(p, o->order, &slot);
    if (rc == CHAN_CLOSED)
      return PAT_OK;
    if (rc != CHAN_OK)
      return rc;
    rc = cl_proc_recv(p, slot, result);
    if (rc != CHAN_OK)
      return rc;
    if (hdr->status == PAT_SKIP) {
      PROC_COUNT(p, filtered, 1);
    } else if (hdr->status != PAT_OK) {
      PROC_COUNT(p, failed, 1);
      return hdr->status;
    } else if (p->out) {
      rc = cl_proc_send(p, p->out, pat_result_value(result));
      if (rc != CHAN_OK)
        return rc;
      PROC_COUNT(p, sent, 1);
    } else {
      PROC_COUNT(p, sent, 1);
    }
    chan_try_send(o->free_slots, &slot);
  }
}

/* Whatever was accepted and neither delivered, filtered nor failed was
 * stopped in flight (in a slot or a worker) by the cancellation. */
static void ordered_settle(pat_proc *p) {
  uint64_t done = atomic_load(&p->sent) + atomic_load(&p->filtered) +
                  atomic_load(&p->failed);
  uint64_t got = atomic_load(&p->received);
  atomic_store(&p->canceled, got > done ? got - done : 0);
}

int pat_pool_start(pat_proc **p, pat_ctx *ctx, chan_t *in, chan_t *out,
                   size_t workers, enum pat_order order, pat_map_fn fn,
                   void *arg) {
  int rc = check_work_args("pat_pool_start", p, in, fn);
  if (rc != PAT_OK)
    return rc;
  if (workers == 0)
    return cl_pat_fail(PAT_EINVAL, "pat_pool_start: workers must be > 0");
  if (order != PAT_UNORDERED && order != PAT_ORDERED)
    return cl_pat_fail(PAT_EINVAL, "pat_pool_start: bad order %d", (int)order);
  size_t out_size = out ? chan_elem_size(out) : 0;
  struct ordered_state *o = calloc(1, sizeof *o);
  if (!o)
    return cl_pat_fail(PAT_ENOMEM, "pat_pool_start: out of memory");
  o->w = (struct work_state){in, fn, arg, chan_elem_size(in), out_size};
  rc = cl_proc_new(p, ctx, NULL, out);
  if (rc != PAT_OK) {
    free(o);
    return rc;
  }
  pat_proc *pr = *p;
  pr->state = o;
  pr->state_free = free;
  if (order == PAT_UNORDERED) {
    for (size_t i = 0; i < workers && rc == PAT_OK; i++)
      rc = cl_proc_spawn(pr, pool_worker, &o->w, true);
  } else {
    size_t nslots = 2 * workers;
    o->job_size = sizeof(chan_t *) + o->w.in_size;
    o->result_size = PAT_RESULT_SIZE(out_size);
    rc = cl_proc_make_chan(pr, &o->jobs, o->job_size, 0);
    if (rc == PAT_OK)
      rc = cl_proc_make_chan(pr, &o->order, sizeof(chan_t *), nslots);
    if (rc == PAT_OK)
      rc = cl_proc_make_chan(pr, &o->free_slots, sizeof(chan_t *), nslots);
    for (size_t i = 0; i < nslots && rc == PAT_OK; i++) {
      chan_t *slot;
      rc = cl_proc_make_chan(pr, &slot, o->result_size, 1);
      if (rc == PAT_OK)
        chan_send(o->free_slots, &slot);
    }
    pr->on_joined = ordered_settle;
    if (rc == PAT_OK)
      rc = cl_proc_spawn(pr, ordered_dispatcher, o, false);
    for (size_t i = 0; i < workers && rc == PAT_OK; i++)
      rc = cl_proc_spawn(pr, ordered_worker, o, false);
    if (rc == PAT_OK)
      rc = cl_proc_spawn(pr, ordered_collector, o, true);
  }
  if (rc != PAT_OK)
    return cl_proc_abort(pr, rc);
  cl_proc_launched(pr);
  return PAT_OK;
}

/* ---- thread per task under a semaphore ---------------------------------- */

struct sem_task {
  pat_proc *proc;
  struct sem_state *st;
  size_t slot;
  unsigned char *in, *out;
};

struct sem_state {
  struct work_state w;
  struct spawner sp;
  struct sem_task *tasks; /* one per slot */
  unsigned char *bufs;
};

static void sem_state_free(void *s) {
  struct sem_state *st = s;
  if (!st)
    return;
  spawner_destroy(&st->sp);
  free(st->tasks);
  free(st->bufs);
  free(st);
}

static void *sem_task_main(void *arg) {
  struct sem_task *t = arg;
  work_one(t->proc, &t->st->w, t->in, t->out); /* perform(task) */
  spawner_finish(&t->st->sp, t->slot);         /* <-sem */
  return NULL;
}

static int sem_dispatcher(pat_proc *p, void *arg) {
  struct sem_state *st = arg;
  int rc;
  for (;;) {
    size_t slot;
    rc = spawner_acquire(&st->sp, p->ctx, &slot); /* sem <- token{} */
    if (rc != PAT_OK)
      break;
    struct sem_task *t = &st->tasks[slot];
    rc = cl_proc_recv(p, st->w.in, t->in);
    if (rc != CHAN_OK) {
      st->sp.free_slots[st->sp.nfree++] = slot;
      pat_sem_release(st->sp.sem);
      if (rc == CHAN_CLOSED)
        rc = PAT_OK;
      break;
    }
    PROC_COUNT(p, received, 1);
    rc = spawner_start(&st->sp, slot, sem_task_main, t);
    if (rc != PAT_OK) {
      PROC_COUNT(p, canceled, 1);
      break;
    }
  }
  spawner_join_all(&st->sp); /* every task thread joined */
  return rc;
}

int pat_fanout_sem_start(pat_proc **p, pat_ctx *ctx, chan_t *in, chan_t *out,
                         size_t limit, pat_map_fn fn, void *arg) {
  int rc = check_work_args("pat_fanout_sem_start", p, in, fn);
  if (rc != PAT_OK)
    return rc;
  if (limit == 0)
    return cl_pat_fail(PAT_EINVAL, "pat_fanout_sem_start: limit must be > 0");
  struct sem_state *st = calloc(1, sizeof *st);
  if (!st)
    return cl_pat_fail(PAT_ENOMEM, "pat_fanout_sem_start: out of memory");
  size_t out_size = out ? chan_elem_size(out) : 0;
  st->w = (struct work_state){in, fn, arg, chan_elem_size(in), out_size};
  rc = cl_proc_new(p, ctx, NULL, out);
  if (rc != PAT_OK) {
    free(st);
    return rc;
  }
  pat_proc *pr = *p;
  pr->state = st;
  pr->state_free = sem_state_free;
  rc = spawner_init(&st->sp, pr->ctx, cl_pat_impl_of(pr->ctx, in), limit);
  size_t per = st->w.in_size + out_size + 2;
  st->tasks = calloc(limit, sizeof *st->tasks);
  st->bufs = calloc(limit, per);
  if (rc == PAT_OK && (!st->tasks || !st->bufs))
    rc = cl_pat_fail(PAT_ENOMEM, "pat_fanout_sem_start: out of memory");
  for (size_t i = 0; rc == PAT_OK && i < limit; i++)
    st->tasks[i] = (struct sem_task){pr, st, i, st->bufs + i * per,
                                     st->bufs + i * per + st->w.in_size + 1};
  if (rc == PAT_OK)
    rc = cl_proc_spawn(pr, sem_dispatcher, st, true);
  if (rc != PAT_OK)
    return cl_proc_abort(pr, rc);
  cl_proc_launched(pr);
  return PAT_OK;
}

/* ---- buffered fan-out: one thread and one out slot per task ------------- */

struct each_state {
  struct work_state w;
  unsigned char *tasks;
  struct each_arg {
    struct each_state *st;
    size_t index;
  } * args;
};

static void each_state_free(void *s) {
  struct each_state *st = s;
  if (st) {
    free(st->tasks);
    free(st->args);
  }
  free(st);
}

static int each_child(pat_proc *p, void *arg) {
  struct each_arg *a = arg;
  struct each_state *st = a->st;
  unsigned char out[st->w.out_size + 1];
  PROC_COUNT(p, received, 1);
  return work_one(p, &st->w, st->tasks + a->index * st->w.in_size, out);
}

int pat_fanout_each_start(pat_proc **p, pat_ctx *ctx, const void *tasks,
                          size_t ntasks, size_t task_size, chan_t *out,
                          pat_map_fn fn, void *arg) {
  if (!p || !fn || !out || (ntasks && task_size && !tasks))
    return cl_pat_fail(PAT_EINVAL, "pat_fanout_each_start: NULL argument");
  if (cl_pat_check_size("pat_fanout_each_start", task_size) != PAT_OK)
    return PAT_EINVAL;
  if (chan_cap(out) < ntasks)
    return cl_pat_fail(PAT_EINVAL,
                       "pat_fanout_each_start: out capacity %zu < %zu tasks: "
                       "each child needs its own slot",
                       chan_cap(out), ntasks);
  struct each_state *st = calloc(1, sizeof *st);
  if (!st)
    return cl_pat_fail(PAT_ENOMEM, "pat_fanout_each_start: out of memory");
  st->w = (struct work_state){NULL, fn, arg, task_size, chan_elem_size(out)};
  st->tasks = malloc(ntasks * task_size + 1);
  st->args = calloc(ntasks + 1, sizeof *st->args);
  if (!st->tasks || !st->args) {
    each_state_free(st);
    return cl_pat_fail(PAT_ENOMEM, "pat_fanout_each_start: out of memory");
  }
  if (ntasks > 0 && task_size > 0)
    memcpy(st->tasks, tasks, ntasks * task_size);
  int rc = cl_proc_new(p, ctx, NULL, out);
  if (rc != PAT_OK) {
    each_state_free(st);
    return rc;
  }
  (*p)->state = st;
  (*p)->state_free = each_state_free;
  for (size_t i = 0; i < ntasks && rc == PAT_OK; i++) {
    st->args[i] = (struct each_arg){st, i};
    rc = cl_proc_spawn(*p, each_child, &st->args[i], true);
  }
  if (rc != PAT_OK)
    return cl_proc_abort(*p, rc);
  cl_proc_launched(*p);
  return PAT_OK;
}

/* ---- bounded parallelism over indices ----------------------------------- */

struct bounded_state {
  struct spawner sp;
  pat_ctx *ctx;
  pat_index_fn fn;
  void *arg;
  atomic_int first_error;
  struct bounded_task {
    struct bounded_state *st;
    size_t slot, index;
  } * tasks;
};

static void *bounded_task_main(void *arg) {
  struct bounded_task *t = arg;
  struct bounded_state *st = t->st;
  int rc = st->fn(st->ctx, st->arg, t->index);
  if (rc != PAT_OK) {
    int expected = PAT_OK;
    atomic_compare_exchange_strong(&st->first_error, &expected, rc);
    pat_ctx_cancel(st->ctx);
  }
  spawner_finish(&st->sp, t->slot);
  return NULL;
}

int pat_for_each_bounded(pat_ctx *ctx, const char *impl, size_t n, size_t limit,
                         pat_index_fn fn, void *arg) {
  if (!fn)
    return cl_pat_fail(PAT_EINVAL, "pat_for_each_bounded: fn is NULL");
  if (limit == 0)
    return cl_pat_fail(PAT_EINVAL, "pat_for_each_bounded: limit must be > 0");
  int rc = cl_pat_check_ctx(ctx);
  if (rc != PAT_OK)
    return rc;
  struct bounded_state st = {.fn = fn, .arg = arg};
  atomic_init(&st.first_error, PAT_OK);
  impl = ctx ? cl_pat_impl_of(ctx, NULL) : impl;
  rc = cl_pat_ctx_child_or_root(&st.ctx, ctx, impl);
  if (rc != PAT_OK)
    return rc;
  rc = spawner_init(&st.sp, st.ctx, impl, limit);
  st.tasks = calloc(limit, sizeof *st.tasks);
  if (rc == PAT_OK && !st.tasks)
    rc = cl_pat_fail(PAT_ENOMEM, "pat_for_each_bounded: out of memory");
  for (size_t i = 0; i < n && rc == PAT_OK; i++) {
    size_t slot;
    rc = spawner_acquire(&st.sp, st.ctx, &slot);
    if (rc != PAT_OK)
      break;
    st.tasks[slot] = (struct bounded_task){&st, slot, i};
    rc = spawner_start(&st.sp, slot, bounded_task_main, &st.tasks[slot]);
  }
  spawner_join_all(&st.sp);
  int first = atomic_load(&st.first_error);
  if (first != PAT_OK)
    rc = first;
  spawner_destroy(&st.sp);
  free(st.tasks);
  pat_ctx_free(st.ctx);
  return rc;
}
