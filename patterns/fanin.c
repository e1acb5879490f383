/*
 * fanin.c - fan-in (multiplexing) and sequenced fan-in.
 *
 * Seed 001 ("fan-out, fan-in": fanIn(done, channels...) with a WaitGroup
 * closing the multiplexed stream) and seed 004 ("Fan-in or Multiplexing":
 * a goroutine per input, or one goroutine with select; "restore sequence
 * by using Wait Channel").
 *
 * Lifecycle: start -> consume out until it closes (all inputs closed) or
 * cancel -> pat_proc_wait -> pat_proc_free.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

struct fanin_arg {
  struct fanin_state *st;
  size_t index;
};

struct fanin_state {
  chan_t **inputs;
  struct fanin_arg *args; /* one per thread-per-input forwarder */
  size_t n;
  size_t elem_size;
};

static void fanin_free(void *s) {
  struct fanin_state *st = s;
  if (st) {
    free(st->inputs);
    free(st->args);
  }
  free(st);
}

static int fanin_one_main(pat_proc *p, void *arg) {
  struct fanin_arg *a = arg;
  return cl_proc_forward(p, a->st->inputs[a->index], a->st->elem_size);
}

static int fanin_select_main(pat_proc *p, void *arg) {
  struct fanin_state *st = arg;
  size_t n = st->n, open = n;
  unsigned char buf[st->elem_size + 1];
  struct chan_case cases[CHAN_SELECT_MAX_CASES];
  for (size_t i = 0; i < n; i++)
    cases[i] = (struct chan_case){st->inputs[i], CHAN_RECV, buf};
  cases[n] = (struct chan_case){pat_ctx_done(p->ctx), CHAN_RECV, NULL};
  while (open > 0) {
    size_t k;
    int rc = chan_select(cases, n + 1, CHAN_FOREVER, &k);
    if (rc < 0)
      return rc;
    if (k == n)
      return pat_ctx_err(p->ctx);
    if (rc == CHAN_CLOSED) {
      cases[k].chan = NULL; /* the notes' nil-channel trick */
      open--;
      continue;
    }
    PROC_COUNT(p, received, 1);
    rc = cl_proc_send(p, p->out, buf);
    if (rc != CHAN_OK) {
      PROC_COUNT(p, canceled, 1);
      return rc;
    }
    PROC_COUNT(p, sent, 1);
  }
  return PAT_OK;
}

static int fanin_start(pat_proc **p, pat_ctx *ctx, chan_t *const *inputs,
                       size_t n, chan_t *out, bool one_thread,
                       const char *what) {
  if (!p || !out || (!inputs && n))
    return cl_pat_fail(PAT_EINVAL, "%s: NULL argument", what);
  if (one_thread && n > CHAN_SELECT_MAX_CASES - 2)
    return cl_pat_fail(PAT_EINVAL, "%s: at most %d inputs", what,
                       CHAN_SELECT_MAX_CASES - 2);
  size_t es = chan_elem_size(out);
  for (size_t i = 0; i < n; i++) {
    if (!inputs[i])
      return cl_pat_fail(PAT_EINVAL, "%s: input %zu is NULL", what, i);
    if (chan_elem_size(inputs[i]) != es)
      return cl_pat_fail(PAT_EINVAL, "%s: input %zu elem size %zu != out %zu",
                         what, i, chan_elem_size(inputs[i]), es);
  }
  struct fanin_state *st = calloc(1, sizeof *st);
  if (st) {
    st->inputs = calloc(n ? n : 1, sizeof(chan_t *));
    st->args = calloc(n ? n : 1, sizeof *st->args);
  }
  if (!st || !st->args || !st->inputs) {
    fanin_free(st);
    return cl_pat_fail(PAT_ENOMEM, "%s: out of memory", what);
  }
  memcpy(st->inputs, inputs, n * sizeof(chan_t *));
  st->n = n;
  st->elem_size = es;
  int rc = cl_proc_new(p, ctx, NULL, out);
  if (rc != PAT_OK) {
    fanin_free(st);
    return rc;
  }
  pat_proc *pr = *p;
  pr->state = st;
  pr->state_free = fanin_free;
  if (one_thread) {
    rc = cl_proc_spawn(pr, fanin_select_main, st, true);
  } else {
    for (size_t i = 0; i < n && rc == PAT_OK; i++) {
      st->args[i] = (struct fanin_arg){st, i};
      rc = cl_proc_spawn(pr, fanin_one_main, &st->args[i], true);
    }
  }
  if (rc != PAT_OK)
    return cl_proc_abort(pr, rc);
  cl_proc_launched(pr);
  return PAT_OK;
}

int pat_fan_in_start(pat_proc **p, pat_ctx *ctx, chan_t *const *inputs,
                     size_t n, chan_t *out) {
  return fanin_start(p, ctx, inputs, n, out, false, "pat_fan_in_start");
}

int pat_fan_in_select_start(pat_proc **p, pat_ctx *ctx, chan_t *const *inputs,
                            size_t n, chan_t *out) {
  return fanin_start(p, ctx, inputs, n, out, true, "pat_fan_in_select_start");
}

/* ---- sequenced fan-in: producers that wait for their turn -------------- */

struct seq_state {
  pat_gen_fn fn;
  void *arg;
  uint32_t producer;
  chan_t *wait; /* one slot: the consumer's go-ahead never blocks */
};

static int seq_main(pat_proc *p, void *arg) {
  struct seq_state *s = arg;
  int rc = PAT_OK;
  for (uint64_t i = 0;; i++) {
    struct pat_seq_msg m = {.producer = s->producer, .wait = s->wait};
    rc = s->fn(p->ctx, s->arg, i, &m.value);
    if (rc == PAT_STOP) {
      rc = PAT_OK;
      break;
    }
    if (rc != PAT_OK) {
      cl_proc_fail(p, rc);
      break;
    }
    PROC_COUNT(p, received, 1);
    rc = cl_proc_send(p, p->out, &m);
    if (rc != CHAN_OK) {
      PROC_COUNT(p, canceled, 1);
      break;
    }
    PROC_COUNT(p, sent, 1);
    rc = cl_proc_recv(p, s->wait, NULL); /* <-waitForIt */
    if (rc != CHAN_OK)
      break;
  }
  /* Later releases report CHAN_CLOSED instead of filling the slot. */
  chan_close(s->wait);
  return rc;
}

int pat_seq_producer_start(pat_proc **p, pat_ctx *ctx, chan_t *out,
                           uint32_t producer, pat_gen_fn fn, void *arg) {
  if (!p || !out || !fn)
    return cl_pat_fail(PAT_EINVAL, "pat_seq_producer_start: NULL argument");
  if (chan_elem_size(out) != sizeof(struct pat_seq_msg))
    return cl_pat_fail(PAT_EINVAL, "pat_seq_producer_start: out elem size must "
                                   "be sizeof(struct pat_seq_msg)");
  struct seq_state *s = calloc(1, sizeof *s);
  if (!s)
    return cl_pat_fail(PAT_ENOMEM, "pat_seq_producer_start: out of memory");
  int rc = cl_proc_new(p, ctx, NULL, out);
  if (rc != PAT_OK) {
    free(s);
    return rc;
  }
  (*p)->state = s;
  (*p)->state_free = free;
  s->fn = fn;
  s->arg = arg;
  s->producer = producer;
  rc = cl_proc_make_chan(*p, &s->wait, 0, 1);
  if (rc == PAT_OK)
    rc = cl_proc_spawn(*p, seq_main, s, true);
  if (rc != PAT_OK)
    return cl_proc_abort(*p, rc);
  cl_proc_launched(*p);
  return PAT_OK;
}

int pat_seq_release(const struct pat_seq_msg *m) {
  if (!m || !m->wait)
    return cl_pat_fail(PAT_EINVAL, "pat_seq_release: NULL message or channel");
  return chan_try_send(m->wait, NULL); /* a second release: WOULD_BLOCK */
}
