/*
 * pipeline.c - pipeline stages, the pipeline builder, the daisy chain, the
 * drop (load shedding) stage, the queue stage and the result stage.
 *
 * Seed 001 ("pipelines": generator -> multiply -> add, each stage a
 * goroutine between two channels; "queuing"; "error handling": Result
 * carrying value or error), seed 004 ("Pipeline Pattern", "Drop Pattern"),
 * seed 003 ("09_daisy_chain").
 *
 * Lifecycle: pat_stage_start / pat_drop_start / pat_queue_start /
 * pat_result_stage_start return a pat_proc (wait, free). A pat_pipeline
 * owns its stages and the links between them: make -> add... -> consume
 * pat_pipeline_out -> wait -> free.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

enum stage_mode { STAGE_MAP, STAGE_RESULT, STAGE_DROP };

struct stage_state {
  chan_t *in;
  pat_map_fn fn; /* NULL: forward unchanged */
  void *arg;
  size_t in_size, out_size;
  enum stage_mode mode;
};

static int stage_main(pat_proc *p, void *arg) {
  struct stage_state *s = arg;
  unsigned char in[s->in_size + 1], out[s->out_size + 1];
  for (;;) {
    int rc = cl_proc_recv(p, s->in, in);
    if (rc == CHAN_CLOSED)
      return PAT_OK;
    if (rc != CHAN_OK)
      return rc;
    PROC_COUNT(p, received, 1);
    const void *emit = out;
    if (s->mode == STAGE_RESULT) {
      struct pat_result_hdr hdr = {0, 0};
      memset(out, 0, s->out_size);
      hdr.status = s->fn(p->ctx, s->arg, in, pat_result_value(out));
      memcpy(out, &hdr, sizeof hdr);
    } else if (s->fn) {
      rc = s->fn(p->ctx, s->arg, in, out);
      if (rc == PAT_SKIP) {
        PROC_COUNT(p, filtered, 1);
        continue;
      }
      if (rc != PAT_OK) {
        PROC_COUNT(p, failed, 1);
        cl_proc_fail(p, rc);
        return rc;
      }
    } else {
      emit = in;
    }
    if (s->mode == STAGE_DROP) {
      uint64_t dropped = 0;
      rc = pat_drop_send(p->out, emit, &dropped);
      if (rc == CHAN_WOULD_BLOCK) {
        PROC_COUNT(p, dropped, dropped);
        continue;
      }
    } else {
      rc = cl_proc_send(p, p->out, emit);
    }
    if (rc != CHAN_OK) {
      PROC_COUNT(p, canceled, 1);
      return rc;
    }
    PROC_COUNT(p, sent, 1);
  }
}

static int stage_start(pat_proc **p, pat_ctx *ctx, chan_t *in, chan_t *out,
                       pat_map_fn fn, void *arg, enum stage_mode mode,
                       const char *what) {
  if (!p || !in || !out)
    return cl_pat_fail(PAT_EINVAL, "%s: %s is NULL", what,
                       !p ? "p" : (!in ? "in" : "out"));
  size_t in_size = chan_elem_size(in), out_size = chan_elem_size(out);
  if (cl_pat_check_size(what, in_size) != PAT_OK)
    return PAT_EINVAL;
  if (mode == STAGE_RESULT && !fn)
    return cl_pat_fail(PAT_EINVAL, "%s: fn is NULL", what);
  if (mode == STAGE_RESULT && out_size < sizeof(struct pat_result_hdr))
    return cl_pat_fail(PAT_EINVAL,
                       "%s: out elem size must be PAT_RESULT_SIZE()", what);
  if (!fn && in_size != out_size)
    return cl_pat_fail(PAT_EINVAL,
                       "%s: forwarding needs equal elem sizes (%zu, %zu)", what,
                       in_size, out_size);
  struct stage_state *s = calloc(1, sizeof *s);
  if (!s)
    return cl_pat_fail(PAT_ENOMEM, "%s: out of memory", what);
  *s = (struct stage_state){in, fn, arg, in_size, out_size, mode};
  int rc = cl_proc_new(p, ctx, NULL, out);
  if (rc != PAT_OK) {
    free(s);
    return rc;
  }
  (*p)->state = s;
  (*p)->state_free = free;
  rc = cl_proc_spawn(*p, stage_main, s, true);
  if (rc != PAT_OK)
    return cl_proc_abort(*p, rc);
  cl_proc_launched(*p);
  return PAT_OK;
}

int pat_stage_start(pat_proc **p, pat_ctx *ctx, chan_t *in, chan_t *out,
                    pat_map_fn fn, void *arg) {
  return stage_start(p, ctx, in, out, fn, arg, STAGE_MAP, "pat_stage_start");
}

int pat_or_done_start(pat_proc **p, pat_ctx *ctx, chan_t *in, chan_t *out) {
  return stage_start(p, ctx, in, out, NULL, NULL, STAGE_MAP,
                     "pat_or_done_start");
}

int pat_result_stage_start(pat_proc **p, pat_ctx *ctx, chan_t *in, chan_t *out,
                           pat_map_fn fn, void *arg) {
  return stage_start(p, ctx, in, out, fn, arg, STAGE_RESULT,
                     "pat_result_stage_start");
}

/* ---- drop --------------------------------------------------------------- */

int pat_drop_send(chan_t *ch, const void *elem, uint64_t *dropped) {
  if (!ch)
    return cl_pat_fail(CHAN_EINVAL, "pat_drop_send: NULL channel");
  int rc = chan_try_send(ch, elem); /* select { case ch <- v: default: } */
  if (rc == CHAN_WOULD_BLOCK && dropped)
    (*dropped)++;
  return rc;
}

int pat_drop_start(pat_proc **p, pat_ctx *ctx, chan_t *in, chan_t *out) {
  return stage_start(p, ctx, in, out, NULL, NULL, STAGE_DROP, "pat_drop_start");
}

/* ---- queue stage -------------------------------------------------------- */

struct queue_state {
  chan_t *in;
  size_t elem_size, capacity, head, count;
  unsigned char *ring;
  unsigned char *incoming;
};

static void queue_free(void *q) {
  struct queue_state *s = q;
  if (s) {
    free(s->ring);
    free(s->incoming);
  }
  free(s);
}

static int queue_main(pat_proc *p, void *arg) {
  struct queue_state *q = arg;
  bool in_open = true;
  for (;;) {
    if (!in_open && q->count == 0)
      return PAT_OK;
    /* Receive only while there is room, send only while holding a value:
     * a NULL channel disables the case. */
    struct chan_case cases[3] = {
        {in_open && q->count < q->capacity ? q->in : NULL, CHAN_RECV,
         q->incoming},
        {q->count ? p->out : NULL, CHAN_SEND, q->ring + q->head * q->elem_size},
        {pat_ctx_done(p->ctx), CHAN_RECV, NULL}};
    size_t k;
    int rc = chan_select(cases, 3, CHAN_FOREVER, &k);
    if (rc < 0)
      return rc;
    if (k == 2) {
      PROC_COUNT(p, canceled, q->count);
      return pat_ctx_err(p->ctx);
    }
    if (k == 0) {
      if (rc == CHAN_CLOSED) {
        in_open = false;
        continue;
      }
      size_t tail = (q->head + q->count) % q->capacity;
      memcpy(q->ring + tail * q->elem_size, q->incoming, q->elem_size);
      q->count++;
      PROC_COUNT(p, received, 1);
    } else {
      if (rc == CHAN_CLOSED) {
        PROC_COUNT(p, canceled, q->count);
        return CHAN_CLOSED;
      }
      q->head = (q->head + 1) % q->capacity;
      q->count--;
      PROC_COUNT(p, sent, 1);
    }
  }
}

int pat_queue_start(pat_proc **p, pat_ctx *ctx, chan_t *in, chan_t *out,
                    size_t capacity) {
  if (!p || !in || !out)
    return cl_pat_fail(PAT_EINVAL, "pat_queue_start: NULL argument");
  if (capacity == 0)
    return cl_pat_fail(PAT_EINVAL, "pat_queue_start: capacity must be > 0");
  if (chan_elem_size(in) != chan_elem_size(out))
    return cl_pat_fail(PAT_EINVAL, "pat_queue_start: in and out sizes differ");
  struct queue_state *q = calloc(1, sizeof *q);
  size_t es = chan_elem_size(in);
  if (q) {
    q->ring = calloc(capacity, es + 1);
    q->incoming = calloc(1, es + 1);
  }
  if (!q || !q->ring || !q->incoming) {
    queue_free(q);
    return cl_pat_fail(PAT_ENOMEM, "pat_queue_start: out of memory");
  }
  q->in = in;
  q->elem_size = es;
  q->capacity = capacity;
  int rc = cl_proc_new(p, ctx, NULL, out);
  if (rc != PAT_OK) {
    queue_free(q);
    return rc;
  }
  (*p)->state = q;
  (*p)->state_free = queue_free;
  rc = cl_proc_spawn(*p, queue_main, q, true);
  if (rc != PAT_OK)
    return cl_proc_abort(*p, rc);
  cl_proc_launched(*p);
  return PAT_OK;
}

/* ---- pipeline builder --------------------------------------------------- */

struct pat_pipeline {
  pat_ctx *ctx; /* parent of every stage */
  chan_t *source;
  chan_t **links;    /* links[i]: output of stage i */
  pat_proc **stages; /* stages[i] */
  size_t n;
};

int pat_pipeline_make(pat_pipeline **out, pat_ctx *ctx, chan_t *source) {
  if (!out || !source)
    return cl_pat_fail(PAT_EINVAL, "pat_pipeline_make: NULL argument");
  int rc = cl_pat_check_ctx(ctx);
  if (rc != PAT_OK)
    return rc;
  pat_pipeline *pl = calloc(1, sizeof *pl);
  if (!pl)
    return cl_pat_fail(PAT_ENOMEM, "pat_pipeline_make: out of memory");
  rc = cl_pat_ctx_child_or_root(&pl->ctx, ctx, chan_impl_name(source));
  if (rc != PAT_OK) {
    free(pl);
    return rc;
  }
  pl->source = source;
  *out = pl;
  return PAT_OK;
}

static int pipeline_grow(pat_pipeline *pl) {
  chan_t **links = realloc(pl->links, (pl->n + 1) * sizeof *links);
  if (links)
    pl->links = links;
  pat_proc **stages = realloc(pl->stages, (pl->n + 1) * sizeof *stages);
  if (stages)
    pl->stages = stages;
  if (!links || !stages)
    return cl_pat_fail(PAT_ENOMEM, "pipeline: out of memory");
  return PAT_OK;
}

static int pipeline_append(pat_pipeline *pl, pat_map_fn fn, void *arg,
                           size_t out_elem_size, size_t out_capacity,
                           size_t queue_capacity) {
  if (!pl)
    return cl_pat_fail(PAT_EINVAL, "pat_pipeline_add: NULL pipeline");
  int rc = pipeline_grow(pl);
  if (rc != PAT_OK)
    return rc;
  chan_t *in = pat_pipeline_out(pl), *link;
  rc =
      chan_make(&link, chan_impl_name(pl->source), out_elem_size, out_capacity);
  if (rc != CHAN_OK)
    return cl_pat_fail(rc, "pat_pipeline_add: %s", chan_last_error());
  pat_proc *stage;
  if (queue_capacity)
    rc = pat_queue_start(&stage, pl->ctx, in, link, queue_capacity);
  else
    rc = pat_stage_start(&stage, pl->ctx, in, link, fn, arg);
  if (rc != PAT_OK) {
    chan_destroy(link);
    return rc;
  }
  pl->links[pl->n] = link;
  pl->stages[pl->n] = stage;
  pl->n++;
  return PAT_OK;
}

int pat_pipeline_add(pat_pipeline *pl, pat_map_fn fn, void *arg,
                     size_t out_elem_size, size_t out_capacity) {
  return pipeline_append(pl, fn, arg, out_elem_size, out_capacity, 0);
}

int pat_pipeline_add_queue(pat_pipeline *pl, size_t capacity) {
  if (!pl || capacity == 0)
    return cl_pat_fail(PAT_EINVAL, "pat_pipeline_add_queue: %s",
                       pl ? "capacity must be > 0" : "NULL pipeline");
  chan_t *in = pat_pipeline_out(pl);
  return pipeline_append(pl, NULL, NULL, chan_elem_size(in), 0, capacity);
}

chan_t *pat_pipeline_out(const pat_pipeline *pl) {
  if (!pl)
    return NULL;
  return pl->n ? pl->links[pl->n - 1] : pl->source;
}

size_t pat_pipeline_length(const pat_pipeline *pl) {
  return pl ? pl->n : 0;
}

int pat_pipeline_stage_stats(const pat_pipeline *pl, size_t i,
                             struct pat_stats *out) {
  if (!pl || !out || i >= pl->n)
    return cl_pat_fail(PAT_EINVAL, "pat_pipeline_stage_stats: bad argument");
  pat_proc_stats(pl->stages[i], out);
  return PAT_OK;
}

int pat_pipeline_wait(pat_pipeline *pl) {
  if (!pl)
    return cl_pat_fail(PAT_EINVAL, "pat_pipeline_wait: NULL");
  int first = PAT_OK;
  for (size_t i = 0; i < pl->n; i++) {
    int rc = pat_proc_wait(pl->stages[i]);
    if (first == PAT_OK)
      first = rc;
  }
  return first;
}

void pat_pipeline_cancel(pat_pipeline *pl) {
  if (pl)
    pat_ctx_cancel(pl->ctx);
}

void pat_pipeline_free(pat_pipeline *pl) {
  if (!pl)
    return;
  pat_ctx_cancel(pl->ctx);
  for (size_t i = 0; i < pl->n; i++)
    pat_proc_free(pl->stages[i]);
  for (size_t i = 0; i < pl->n; i++)
    chan_destroy(pl->links[i]);
  pat_ctx_free(pl->ctx);
  free(pl->links);
  free(pl->stages);
  free(pl);
}

/* ---- daisy chain -------------------------------------------------------- */

/* Rob Pike's program, as seed 003 has it: a link is a bare goroutine that
 * receives once from its right, sends 1 + the value left and ends; no
 * pipeline stage, no context of its own, no close wave behind the value.
 * So the chain costs what it costs in Go: a goroutine and two hand-offs
 * per link. With a context every link also watches its done channel (one
 * channel for the whole chain, as a Go program hands one `done` to all its
 * goroutines). A link that gets no value closes its left channel instead
 * of sending, so a failure travels left and no link waits for ever. */
struct daisy_link {
  pat_ctx *ctx;
  chan_t *left, *right;
  struct cl_go go;
};

static void *daisy_link_main(void *arg) {
  struct daisy_link *l = arg;
  pat_item v;
  int rc = pat_recv_ctx(l->ctx, l->right, &v);
  if (rc == CHAN_OK) {
    v += 1; /* leftmost <- 1 + rightmost */
    rc = pat_send_ctx(l->ctx, l->left, &v);
  }
  if (rc != CHAN_OK)
    chan_close(l->left); /* the only writer of left */
  return NULL;
}

int pat_daisy_chain(pat_ctx *ctx, const char *impl, size_t n, pat_item init,
                    pat_item *result) {
  if (!result)
    return cl_pat_fail(PAT_EINVAL, "pat_daisy_chain: result is NULL");
  int rc = cl_pat_check_call("pat_daisy_chain", ctx, sizeof(pat_item), &impl);
  if (rc != PAT_OK)
    return rc;
  if (n >= SIZE_MAX / sizeof(struct daisy_link))
    return cl_pat_fail(PAT_EINVAL, "pat_daisy_chain: %zu links", n);
  /* Link i receives from ch[i + 1] and sends on ch[i]: ch[0] is the
   * leftmost, ch[n] the rightmost, which has one slot so that init enters
   * without a goroutine of its own. Built left to right, as Pike does. */
  chan_t **ch = calloc(n + 1, sizeof *ch);
  struct daisy_link *links = calloc(n + 1, sizeof *links);
  if (!ch || !links) {
    free(ch);
    free(links);
    return cl_pat_fail(PAT_ENOMEM, "pat_daisy_chain: out of memory");
  }
  chan_rt *rt = pat_ctx_runtime(ctx);
  size_t made = 0, started = 0; /* ch[0, made), links[0, started) */
  for (size_t k = 0; k <= n; k++) {
    rc = chan_make(&ch[k], impl, sizeof(pat_item), k == n ? 1 : 0);
    if (rc != CHAN_OK) {
      rc = cl_pat_fail(rc, "pat_daisy_chain: %s", chan_last_error());
      break;
    }
    made++;
    if (k == 0)
      continue;
    struct daisy_link *l = &links[k - 1];
    *l = (struct daisy_link){.ctx = ctx, .left = ch[k - 1], .right = ch[k]};
    rc = cl_go_start(&l->go, rt, daisy_link_main, l, "pat_daisy_chain");
    if (rc != PAT_OK)
      break;
    started++;
  }
  if (rc == PAT_OK) {
    chan_send(ch[n], &init); /* one slot, nobody else sends: never blocks */
    rc = pat_recv_ctx(ctx, ch[0], result);
  } else if (started > 0) {
    chan_close(ch[started]); /* the last started link's right: stop them */
  }
  for (size_t i = 0; i < started; i++)
    cl_go_join(&links[i].go);
  for (size_t i = 0; i < made; i++)
    chan_destroy(ch[i]);
  free(links);
  free(ch);
  return rc;
}
