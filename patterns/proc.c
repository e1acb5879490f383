/*
 * proc.c - the pat_proc handle shared by every threaded component.
 *
 * Lifecycle: proc_new (own child context) -> proc_spawn per thread ->
 * proc_launched -> [threads run; the last writer closes the output] ->
 * pat_proc_wait (joins all) -> pat_proc_free (cancels if needed, joins,
 * destroys owned channels and state, frees the context).
 *
 * The "writers" count starts at 1, a guard held while the start function
 * spawns threads, so a writer that finishes before its siblings exist
 * cannot close the output early (Go's wg.Add before go).
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

int cl_proc_new(pat_proc **out, pat_ctx *parent, const char *impl,
                chan_t *out_ch) {
  int rc = cl_pat_check_size("output channel", chan_elem_size(out_ch));
  if (rc == PAT_OK)
    rc = cl_pat_check_ctx(parent);
  if (rc != PAT_OK)
    return rc;
  pat_proc *p = calloc(1, sizeof *p);
  if (!p)
    return cl_pat_fail(PAT_ENOMEM, "out of memory");
  rc = cl_pat_ctx_child_or_root(&p->ctx, parent, impl);
  if (rc != PAT_OK) {
    free(p);
    return rc;
  }
  atomic_init(&p->status, PAT_OK);
  atomic_init(&p->writers, 1);
  p->out = out_ch;
  *out = p;
  return PAT_OK;
}

void cl_proc_record(pat_proc *p, int status) {
  if (status == PAT_OK)
    return;
  int expected = PAT_OK;
  atomic_compare_exchange_strong(&p->status, &expected, status);
}

void cl_proc_fail(pat_proc *p, int status) {
  cl_proc_record(p, status);
  pat_ctx_cancel(p->ctx);
}

static void proc_writer_done(pat_proc *p) {
  if (atomic_fetch_sub(&p->writers, 1) == 1) {
    if (p->out)
      chan_close(p->out); /* CHAN_EALREADY_CLOSED if the user closed it */
    if (p->out2)
      chan_close(p->out2);
  }
}

void cl_proc_launched(pat_proc *p) {
  proc_writer_done(p); /* drops the start guard */
}

static void *proc_thread_main(void *arg) {
  struct proc_thread *t = arg;
  int rc = t->fn(t->proc, t->arg);
  cl_proc_record(t->proc, rc);
  if (t->writer)
    proc_writer_done(t->proc);
  return NULL;
}

int cl_proc_spawn(pat_proc *p, proc_thread_fn fn, void *arg, bool writer) {
  if (p->nthreads == p->cap_threads) {
    size_t cap = p->cap_threads ? 2 * p->cap_threads : 4;
    struct proc_thread **grown = realloc(p->threads, cap * sizeof *grown);
    if (!grown)
      return cl_pat_fail(PAT_ENOMEM, "out of memory for threads");
    p->threads = grown;
    p->cap_threads = cap;
  }
  struct proc_thread *t = calloc(1, sizeof *t);
  if (!t)
    return cl_pat_fail(PAT_ENOMEM, "out of memory for threads");
  *t = (struct proc_thread){.proc = p, .fn = fn, .arg = arg, .writer = writer};
  if (writer)
    atomic_fetch_add(&p->writers, 1);
  int rc = cl_go_start(&t->go, pat_ctx_runtime(p->ctx), proc_thread_main, t,
                       "component");
  if (rc != PAT_OK) {
    if (writer)
      atomic_fetch_sub(&p->writers, 1);
    free(t);
    return rc;
  }
  p->threads[p->nthreads++] = t;
  return PAT_OK;
}

static void proc_join_all(pat_proc *p) {
  if (p->joined)
    return;
  for (size_t i = 0; i < p->nthreads; i++)
    cl_go_join(&p->threads[i]->go);
  p->joined = true;
  if (p->on_joined)
    p->on_joined(p);
  p->final_status = atomic_load(&p->status);
}

int pat_proc_wait(pat_proc *p) {
  if (!p)
    return cl_pat_fail(PAT_EINVAL, "pat_proc_wait: NULL");
  proc_join_all(p);
  return p->final_status;
}

void pat_proc_cancel(pat_proc *p) {
  if (p)
    pat_ctx_cancel(p->ctx);
}

pat_ctx *pat_proc_ctx(pat_proc *p) {
  return p ? p->ctx : NULL;
}

void pat_proc_stats(const pat_proc *p, struct pat_stats *out) {
  if (!out)
    return;
  memset(out, 0, sizeof *out);
  if (!p)
    return;
  pat_proc *q = (pat_proc *)p;
  out->received = atomic_load(&q->received);
  out->sent = atomic_load(&q->sent);
  out->filtered = atomic_load(&q->filtered);
  out->failed = atomic_load(&q->failed);
  out->dropped = atomic_load(&q->dropped);
  out->canceled = atomic_load(&q->canceled);
}

static void proc_release(pat_proc *p) {
  for (size_t i = 0; i < p->nthreads; i++)
    free(p->threads[i]);
  free(p->threads);
  if (p->state_free)
    p->state_free(p->state);
  for (size_t i = 0; i < p->nowned; i++)
    chan_destroy(p->owned[i]);
  free(p->owned);
  pat_ctx_free(p->ctx);
  free(p);
}

void pat_proc_free(pat_proc *p) {
  if (!p)
    return;
  pat_ctx_cancel(p->ctx);
  proc_join_all(p);
  proc_release(p);
}

int cl_proc_abort(pat_proc *p, int status) {
  pat_ctx_cancel(p->ctx);
  p->out = p->out2 = NULL; /* nothing was started: leave the output open */
  cl_proc_launched(p);
  proc_join_all(p);
  proc_release(p);
  return status;
}

int cl_proc_own_chan(pat_proc *p, chan_t *ch) {
  chan_t **grown = realloc(p->owned, (p->nowned + 1) * sizeof *grown);
  if (!grown)
    return cl_pat_fail(PAT_ENOMEM, "out of memory");
  p->owned = grown;
  p->owned[p->nowned++] = ch;
  return PAT_OK;
}

int cl_proc_make_chan(pat_proc *p, chan_t **out, size_t elem_size, size_t cap) {
  int rc = chan_make(out, cl_pat_impl_of(p->ctx, p->out), elem_size, cap);
  if (rc != CHAN_OK)
    return cl_pat_fail(rc, "internal channel: %s", chan_last_error());
  rc = cl_proc_own_chan(p, *out);
  if (rc != PAT_OK)
    chan_destroy(*out);
  return rc;
}

/* Forwards in to p->out until in closes: the notes' multiplex(c) and
 * the inner loop of or-done and bridge. */
int cl_proc_forward(pat_proc *p, chan_t *in, size_t elem_size) {
  unsigned char buf[elem_size + 1];
  for (;;) {
    int rc = cl_proc_recv(p, in, buf);
    if (rc == CHAN_CLOSED)
      return PAT_OK;
    if (rc != CHAN_OK)
      return rc;
    PROC_COUNT(p, received, 1);
    rc = cl_proc_send(p, p->out, buf);
    if (rc != CHAN_OK) {
      PROC_COUNT(p, canceled, 1);
      return rc;
    }
    PROC_COUNT(p, sent, 1);
  }
}
