/*
 * generator.c - streams of values: generator, from_array, repeat, take.
 *
 * Seed 001 ("pipeline best practices": generator(done, ints...), repeat,
 * take; "preventing goroutine leaks": newRandStream(done)) and seed 004
 * ("Generator Pattern": boring("Joe")). A generator is a function's values
 * streamed on a channel by its own thread; every send also waits on the
 * context, so an abandoned generator stops when canceled instead of
 * blocking forever (the notes' leak).
 *
 * Lifecycle: pat_*_start -> consume out until closed (or cancel) ->
 * pat_proc_wait -> pat_proc_free.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

struct gen_state {
  pat_gen_fn fn;
  void *arg;
  unsigned char *elems; /* from_array / repeat */
  size_t count;
  bool forever;
  uint64_t take; /* take: how many to forward */
  chan_t *in;
  size_t elem_size;
  unsigned char buf[]; /* one element */
};

static void gen_state_free(void *s) {
  struct gen_state *g = s;
  if (g)
    free(g->elems);
  free(g);
}

static int gen_new(pat_proc **pp, pat_ctx *ctx, chan_t *out, const char *what,
                   struct gen_state **gs) {
  if (!pp || !out)
    return cl_pat_fail(PAT_EINVAL, "%s: %s is NULL", what, pp ? "out" : "p");
  size_t es = chan_elem_size(out);
  struct gen_state *g = calloc(1, sizeof *g + es + 1);
  if (!g)
    return cl_pat_fail(PAT_ENOMEM, "%s: out of memory", what);
  g->elem_size = es;
  int rc = cl_proc_new(pp, ctx, NULL, out);
  if (rc != PAT_OK) {
    free(g);
    return rc;
  }
  (*pp)->state = g;
  (*pp)->state_free = gen_state_free;
  *gs = g;
  return PAT_OK;
}

static int gen_launch(pat_proc *p, proc_thread_fn fn) {
  int rc = cl_proc_spawn(p, fn, p->state, true);
  if (rc != PAT_OK)
    return cl_proc_abort(p, rc);
  cl_proc_launched(p);
  return PAT_OK;
}

static int gen_main(pat_proc *p, void *arg) {
  struct gen_state *g = arg;
  for (uint64_t i = 0;; i++) {
    if (pat_ctx_err(p->ctx) != PAT_OK)
      return pat_ctx_err(p->ctx);
    int rc = g->fn(p->ctx, g->arg, i, g->buf);
    if (rc == PAT_STOP)
      return PAT_OK;
    if (rc != PAT_OK) {
      cl_proc_fail(p, rc);
      return rc;
    }
    PROC_COUNT(p, received, 1);
    rc = cl_proc_send(p, p->out, g->buf);
    if (rc != CHAN_OK) {
      PROC_COUNT(p, canceled, 1);
      return rc;
    }
    PROC_COUNT(p, sent, 1);
  }
}

int pat_generator_start(pat_proc **p, pat_ctx *ctx, chan_t *out, pat_gen_fn fn,
                        void *arg) {
  if (!fn)
    return cl_pat_fail(PAT_EINVAL, "pat_generator_start: fn is NULL");
  struct gen_state *g;
  int rc = gen_new(p, ctx, out, "pat_generator_start", &g);
  if (rc != PAT_OK)
    return rc;
  g->fn = fn;
  g->arg = arg;
  return gen_launch(*p, gen_main);
}

static int array_main(pat_proc *p, void *arg) {
  struct gen_state *g = arg;
  do {
    for (size_t i = 0; i < g->count; i++) {
      PROC_COUNT(p, received, 1);
      int rc = cl_proc_send(p, p->out, g->elems + i * g->elem_size);
      if (rc != CHAN_OK) {
        PROC_COUNT(p, canceled, 1);
        return rc;
      }
      PROC_COUNT(p, sent, 1);
    }
  } while (g->forever);
  return PAT_OK;
}

static int array_start(pat_proc **p, pat_ctx *ctx, chan_t *out,
                       const void *elems, size_t count, bool forever,
                       const char *what) {
  if (count && !elems)
    return cl_pat_fail(PAT_EINVAL, "%s: elems is NULL", what);
  if (forever && count == 0)
    return cl_pat_fail(PAT_EINVAL, "%s: nothing to repeat (count 0)", what);
  struct gen_state *g;
  int rc = gen_new(p, ctx, out, what, &g);
  if (rc != PAT_OK)
    return rc;
  size_t bytes = count * g->elem_size;
  if (bytes) {
    g->elems = malloc(bytes);
    if (!g->elems) {
      pat_proc_free(*p);
      return cl_pat_fail(PAT_ENOMEM, "%s: out of memory", what);
    }
    memcpy(g->elems, elems, bytes);
  }
  g->count = count;
  g->forever = forever;
  return gen_launch(*p, array_main);
}

int pat_from_array_start(pat_proc **p, pat_ctx *ctx, chan_t *out,
                         const void *elems, size_t count) {
  return array_start(p, ctx, out, elems, count, false, "pat_from_array_start");
}

int pat_repeat_start(pat_proc **p, pat_ctx *ctx, chan_t *out, const void *elems,
                     size_t count) {
  return array_start(p, ctx, out, elems, count, true, "pat_repeat_start");
}

static int take_main(pat_proc *p, void *arg) {
  struct gen_state *g = arg;
  for (uint64_t i = 0; i < g->take; i++) {
    int rc = cl_proc_recv(p, g->in, g->buf);
    if (rc == CHAN_CLOSED)
      return PAT_OK; /* fewer than n: the input ended first */
    if (rc != CHAN_OK)
      return rc;
    PROC_COUNT(p, received, 1);
    rc = cl_proc_send(p, p->out, g->buf);
    if (rc != CHAN_OK) {
      PROC_COUNT(p, canceled, 1);
      return rc;
    }
    PROC_COUNT(p, sent, 1);
  }
  return PAT_OK;
}

int pat_take_start(pat_proc **p, pat_ctx *ctx, chan_t *in, chan_t *out,
                   uint64_t n) {
  if (!in)
    return cl_pat_fail(PAT_EINVAL, "pat_take_start: in is NULL");
  if (out && chan_elem_size(in) != chan_elem_size(out))
    return cl_pat_fail(PAT_EINVAL, "pat_take_start: in and out sizes differ");
  struct gen_state *g;
  int rc = gen_new(p, ctx, out, "pat_take_start", &g);
  if (rc != PAT_OK)
    return rc;
  g->in = in;
  g->take = n;
  return gen_launch(*p, take_main);
}
