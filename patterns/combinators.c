/*
 * combinators.c - or-channel, tee and bridge (seed 001 "or channel",
 * "tee channel", "bridge channel"; or-done is the forwarding stage in
 * pipeline.c).
 *
 * Lifecycle: start -> use -> pat_proc_wait / pat_proc_free. The or-channel
 * closes out_done only when a signal fires (never on cancel), so a
 * canceled or-channel does not pretend a signal came.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- or-channel --------------------------------------------------------- */

#define OR_GROUP (CHAN_SELECT_MAX_CASES - 2)

struct or_state {
  chan_t **signals;
  size_t n;
  chan_t *out_done;
  struct or_arg {
    struct or_state *st;
    size_t first, count;
  } * groups;
};

static void or_free(void *s) {
  struct or_state *st = s;
  if (st) {
    free(st->signals);
    free(st->groups);
  }
  free(st);
}

/* One thread per group of signals; each also waits on out_done, so the
 * first group to fire releases the others (the notes' recursion, flat). */
static int or_main(pat_proc *p, void *arg) {
  struct or_arg *g = arg;
  struct chan_case cases[CHAN_SELECT_MAX_CASES];
  for (size_t i = 0; i < g->count; i++)
    cases[i] =
        (struct chan_case){g->st->signals[g->first + i], CHAN_RECV, NULL};
  cases[g->count] = (struct chan_case){g->st->out_done, CHAN_RECV, NULL};
  cases[g->count + 1] =
      (struct chan_case){pat_ctx_done(p->ctx), CHAN_RECV, NULL};
  size_t k;
  int rc = chan_select(cases, g->count + 2, CHAN_FOREVER, &k);
  if (rc < 0)
    return rc;
  if (k == g->count + 1)
    return pat_ctx_err(p->ctx);
  if (k < g->count) {
    PROC_COUNT(p, received, 1);
    if (chan_close(g->st->out_done) == CHAN_OK)
      PROC_COUNT(p, sent, 1);
  }
  return PAT_OK;
}

int pat_or_start(pat_proc **p, pat_ctx *ctx, chan_t *const *signals, size_t n,
                 chan_t *out_done) {
  if (!p || !out_done || (n && !signals))
    return cl_pat_fail(PAT_EINVAL, "pat_or_start: NULL argument");
  for (size_t i = 0; i < n; i++)
    if (!signals[i])
      return cl_pat_fail(PAT_EINVAL, "pat_or_start: signal %zu is NULL", i);
  size_t ngroups = (n + OR_GROUP - 1) / OR_GROUP;
  struct or_state *st = calloc(1, sizeof *st);
  if (st) {
    st->signals = calloc(n + 1, sizeof(chan_t *));
    st->groups = calloc(ngroups + 1, sizeof *st->groups);
  }
  if (!st || !st->signals || !st->groups) {
    or_free(st);
    return cl_pat_fail(PAT_ENOMEM, "pat_or_start: out of memory");
  }
  memcpy(st->signals, signals, n * sizeof(chan_t *));
  st->n = n;
  st->out_done = out_done;
  int rc = cl_proc_new(p, ctx, chan_impl_name(out_done), NULL);
  if (rc != PAT_OK) {
    or_free(st);
    return rc;
  }
  (*p)->state = st;
  (*p)->state_free = or_free;
  for (size_t g = 0; g < ngroups && rc == PAT_OK; g++) {
    size_t first = g * OR_GROUP;
    size_t count = n - first < OR_GROUP ? n - first : OR_GROUP;
    st->groups[g] = (struct or_arg){st, first, count};
    rc = cl_proc_spawn(*p, or_main, &st->groups[g], false);
  }
  if (rc != PAT_OK)
    return cl_proc_abort(*p, rc);
  cl_proc_launched(*p);
  return PAT_OK;
}

/* ---- tee ---------------------------------------------------------------- */

struct tee_state {
  chan_t *in;
  size_t elem_size;
};

static int tee_main(pat_proc *p, void *arg) {
  struct tee_state *t = arg;
  unsigned char val[t->elem_size + 1];
  for (;;) {
    int rc = cl_proc_recv(p, t->in, val);
    if (rc == CHAN_CLOSED)
      return PAT_OK;
    if (rc != CHAN_OK)
      return rc;
    PROC_COUNT(p, received, 1);
    struct chan_case cases[3] = {{p->out, CHAN_SEND, val},
                                 {p->out2, CHAN_SEND, val},
                                 {pat_ctx_done(p->ctx), CHAN_RECV, NULL}};
    for (int i = 0; i < 2; i++) {
      size_t k;
      rc = chan_select(cases, 3, CHAN_FOREVER, &k);
      if (rc == CHAN_OK && k < 2) {
        cases[k].chan = NULL; /* out1 = nil: this side has it */
        continue;
      }
      PROC_COUNT(p, canceled, 1);
      return k == 2 ? pat_ctx_err(p->ctx) : rc;
    }
    PROC_COUNT(p, sent, 1);
  }
}

int pat_tee_start(pat_proc **p, pat_ctx *ctx, chan_t *in, chan_t *out1,
                  chan_t *out2) {
  if (!p || !in || !out1 || !out2)
    return cl_pat_fail(PAT_EINVAL, "pat_tee_start: NULL argument");
  if (out1 == out2)
    return cl_pat_fail(PAT_EINVAL, "pat_tee_start: out1 and out2 are the same");
  size_t es = chan_elem_size(in);
  if (chan_elem_size(out1) != es || chan_elem_size(out2) != es)
    return cl_pat_fail(PAT_EINVAL, "pat_tee_start: elem sizes differ");
  struct tee_state *t = calloc(1, sizeof *t);
  if (!t)
    return cl_pat_fail(PAT_ENOMEM, "pat_tee_start: out of memory");
  t->in = in;
  t->elem_size = es;
  int rc = cl_proc_new(p, ctx, NULL, out1);
  if (rc != PAT_OK) {
    free(t);
    return rc;
  }
  (*p)->out2 = out2;
  (*p)->state = t;
  (*p)->state_free = free;
  rc = cl_proc_spawn(*p, tee_main, t, true);
  if (rc != PAT_OK)
    return cl_proc_abort(*p, rc);
  cl_proc_launched(*p);
  return PAT_OK;
}

/* ---- bridge ------------------------------------------------------------- */

struct bridge_state {
  chan_t *streams;
  size_t elem_size;
};

static int bridge_main(pat_proc *p, void *arg) {
  struct bridge_state *b = arg;
  for (;;) {
    chan_t *stream = NULL;
    int rc = cl_proc_recv(p, b->streams, &stream);
    if (rc == CHAN_CLOSED)
      return PAT_OK;
    if (rc != CHAN_OK)
      return rc;
    if (!stream)
      continue; /* a nil stream carries nothing */
    if (chan_elem_size(stream) != b->elem_size) {
      cl_proc_fail(p, cl_pat_fail(PAT_EINVAL,
                                  "bridge: stream elem size %zu != %zu",
                                  chan_elem_size(stream), b->elem_size));
      return PAT_EINVAL;
    }
    rc = cl_proc_forward(p, stream, b->elem_size); /* range orDone(stream) */
    if (rc != PAT_OK)
      return rc;
  }
}

int pat_bridge_start(pat_proc **p, pat_ctx *ctx, chan_t *streams, chan_t *out) {
  if (!p || !streams || !out)
    return cl_pat_fail(PAT_EINVAL, "pat_bridge_start: NULL argument");
  if (chan_elem_size(streams) != sizeof(chan_t *))
    return cl_pat_fail(PAT_EINVAL,
                       "pat_bridge_start: streams elem size must be "
                       "sizeof(chan_t *)");
  struct bridge_state *b = calloc(1, sizeof *b);
  if (!b)
    return cl_pat_fail(PAT_ENOMEM, "pat_bridge_start: out of memory");
  b->streams = streams;
  b->elem_size = chan_elem_size(out);
  int rc = cl_proc_new(p, ctx, NULL, out);
  if (rc != PAT_OK) {
    free(b);
    return rc;
  }
  (*p)->state = b;
  (*p)->state_free = free;
  rc = cl_proc_spawn(*p, bridge_main, b, true);
  if (rc != PAT_OK)
    return cl_proc_abort(*p, rc);
  cl_proc_launched(*p);
  return PAT_OK;
}
