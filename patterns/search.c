/*
 * search.c - replicated requests with a timeout (Rob Pike's fake Google
 * search, seed 003 "10_system_interactions": send the query to every
 * replica, take the first answer, give up at a deadline; and Google Search
 * 3.0, the fan-in of several such searches under one timeout).
 *
 * Both calls are synchronous. Answers travel on a channel buffered for
 * every replica, so a late replica never blocks; the losers are canceled
 * through their context and every replica thread is joined before
 * returning (Go's version leaves the losers running; here nothing leaks).
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

struct answer_hdr {
  int32_t status;
  uint32_t reserved;
  uint64_t replica;
};

struct first_state {
  pat_query_fn fn;
  void *const *replicas;
  const void *query;
  pat_ctx *ctx;
  chan_t *answers; /* capacity nreplicas */
  size_t answer_size;
  struct first_task {
    struct first_state *st;
    size_t replica;
    struct cl_go go;
  } * tasks;
};

static void *replica_main(void *arg) {
  struct first_task *t = arg;
  struct first_state *st = t->st;
  unsigned char buf[st->answer_size];
  memset(buf, 0, st->answer_size);
  struct answer_hdr hdr = {0, 0, t->replica};
  hdr.status =
      st->fn(st->ctx, st->replicas[t->replica], st->query, buf + sizeof hdr);
  memcpy(buf, &hdr, sizeof hdr);
  chan_send(st->answers, buf); /* buffered for every replica */
  return NULL;
}

int pat_first(pat_ctx *ctx, const char *impl, pat_query_fn fn,
              void *const *replicas, size_t nreplicas, const void *query,
              void *result, size_t result_size, int64_t timeout_ns,
              size_t *winner) {
  if (!fn || !replicas || (result_size && !result))
    return cl_pat_fail(PAT_EINVAL, "pat_first: NULL argument");
  if (nreplicas == 0)
    return cl_pat_fail(PAT_EINVAL, "pat_first: no replicas");
  if (timeout_ns < 0 && timeout_ns != CHAN_FOREVER)
    return cl_pat_fail(PAT_EINVAL, "pat_first: bad timeout");
  int rc = cl_pat_check_call("pat_first", ctx, result_size, &impl);
  if (rc != PAT_OK)
    return rc;
  struct first_state st = {.fn = fn, .replicas = replicas, .query = query};
  st.answer_size = sizeof(struct answer_hdr) + result_size;
  pat_ctx *base = NULL;
  rc = cl_pat_ctx_child_or_root(&base, ctx, impl);
  if (rc != PAT_OK)
    return rc;
  if (timeout_ns == CHAN_FOREVER)
    rc = pat_ctx_with_cancel(&st.ctx, base);
  else
    rc = pat_ctx_with_timeout(&st.ctx, base, timeout_ns);
  if (rc != PAT_OK) {
    pat_ctx_free(base);
    return rc;
  }
  st.tasks = calloc(nreplicas, sizeof *st.tasks);
  int mk = chan_make(&st.answers, impl, st.answer_size, nreplicas);
  size_t started = 0;
  if (!st.tasks || mk != CHAN_OK)
    rc = cl_pat_fail(PAT_ENOMEM, "pat_first: out of resources");
  for (; rc == PAT_OK && started < nreplicas; started++) {
    st.tasks[started] = (struct first_task){.st = &st, .replica = started};
    rc = cl_go_start(&st.tasks[started].go, pat_ctx_runtime(st.ctx),
                     replica_main, &st.tasks[started], "pat_first");
    if (rc != PAT_OK)
      break;
  }
  if (rc == PAT_OK) {
    unsigned char buf[st.answer_size];
    int last_error = PAT_OK;
    size_t pending = nreplicas;
    rc = PAT_DEADLINE_EXCEEDED;
    while (pending > 0) {
      int r = pat_recv_ctx(st.ctx, st.answers, buf);
      if (r != CHAN_OK) {
        rc = r; /* the deadline passed, or the caller canceled */
        break;
      }
      pending--;
      struct answer_hdr hdr;
      memcpy(&hdr, buf, sizeof hdr);
      if (hdr.status == PAT_OK) {
        if (result_size)
          memcpy(result, buf + sizeof hdr, result_size);
        if (winner)
          *winner = (size_t)hdr.replica;
        rc = PAT_OK;
        break;
      }
      last_error = hdr.status;
      rc = last_error;
    }
  }
  pat_ctx_cancel(st.ctx); /* the losers stop */
  for (size_t i = 0; i < nreplicas && st.tasks && i < started; i++)
    cl_go_join(&st.tasks[i].go);
  if (mk == CHAN_OK)
    chan_destroy(st.answers);
  free(st.tasks);
  pat_ctx_free(st.ctx);
  pat_ctx_free(base);
  return rc;
}

/* ---- Google Search 3.0: several replicated searches, fanned in ---------- */

struct search_state {
  const struct pat_service *services;
  const void *query;
  const char *impl;
  pat_ctx *ctx;    /* carries the shared deadline */
  chan_t *results; /* capacity nservices */
  size_t result_size, msg_size;
  struct search_task {
    struct search_state *st;
    size_t service;
    struct cl_go go;
  } * tasks;
};

static void *service_main(void *arg) {
  struct search_task *t = arg;
  struct search_state *st = t->st;
  const struct pat_service *s = &st->services[t->service];
  unsigned char msg[st->msg_size];
  memset(msg, 0, st->msg_size);
  struct answer_hdr hdr = {0, 0, t->service};
  hdr.status =
      pat_first(st->ctx, st->impl, s->fn, s->replicas, s->nreplicas, st->query,
                msg + sizeof hdr, st->result_size, CHAN_FOREVER, NULL);
  memcpy(msg, &hdr, sizeof hdr);
  chan_send(st->results, msg); /* fan-in; buffered: never blocks */
  return NULL;
}

int pat_search_all(pat_ctx *ctx, const char *impl,
                   const struct pat_service *services, size_t nservices,
                   const void *query, void *results, size_t result_size,
                   int *status, int64_t timeout_ns) {
  if (!services || !status || (result_size && nservices && !results))
    return cl_pat_fail(PAT_EINVAL, "pat_search_all: NULL argument");
  if (nservices == 0)
    return cl_pat_fail(PAT_EINVAL, "pat_search_all: no services");
  for (size_t i = 0; i < nservices; i++)
    if (!services[i].fn || !services[i].replicas || !services[i].nreplicas)
      return cl_pat_fail(PAT_EINVAL, "pat_search_all: service %zu is empty", i);
  if (timeout_ns < 0 && timeout_ns != CHAN_FOREVER)
    return cl_pat_fail(PAT_EINVAL, "pat_search_all: bad timeout");
  int rc = cl_pat_check_call("pat_search_all", ctx, result_size, &impl);
  if (rc != PAT_OK)
    return rc;
  struct search_state st = {
      .services = services, .query = query, .result_size = result_size};
  st.msg_size = sizeof(struct answer_hdr) + result_size;
  pat_ctx *base = NULL;
  rc = cl_pat_ctx_child_or_root(&base, ctx, impl);
  if (rc != PAT_OK)
    return rc;
  st.impl = cl_pat_impl_of(base, NULL);
  rc = timeout_ns == CHAN_FOREVER
           ? pat_ctx_with_cancel(&st.ctx, base)
           : pat_ctx_with_timeout(&st.ctx, base, timeout_ns);
  if (rc != PAT_OK) {
    pat_ctx_free(base);
    return rc;
  }
  st.tasks = calloc(nservices, sizeof *st.tasks);
  int mk = chan_make(&st.results, st.impl, st.msg_size, nservices);
  size_t started = 0;
  if (!st.tasks || mk != CHAN_OK)
    rc = cl_pat_fail(PAT_ENOMEM, "pat_search_all: out of resources");
  for (; rc == PAT_OK && started < nservices; started++) {
    st.tasks[started] = (struct search_task){.st = &st, .service = started};
    rc = cl_go_start(&st.tasks[started].go, pat_ctx_runtime(st.ctx),
                     service_main, &st.tasks[started], "pat_search_all");
    if (rc != PAT_OK)
      break;
  }
  int answered = 0;
  for (size_t i = 0; i < nservices; i++)
    status[i] = PAT_CANCELED;
  /* Every service answers by the deadline (pat_first stops at it). */
  unsigned char msg[st.msg_size];
  for (size_t i = 0; i < started; i++) {
    if (chan_recv(st.results, msg) != CHAN_OK)
      break;
    struct answer_hdr hdr;
    memcpy(&hdr, msg, sizeof hdr);
    status[hdr.replica] = hdr.status;
    if (hdr.status == PAT_OK) {
      answered++;
      if (result_size)
        memcpy((unsigned char *)results + hdr.replica * result_size,
               msg + sizeof hdr, result_size);
    }
  }
  pat_ctx_cancel(st.ctx);
  for (size_t i = 0; i < started; i++)
    cl_go_join(&st.tasks[i].go);
  if (mk == CHAN_OK)
    chan_destroy(st.results);
  free(st.tasks);
  pat_ctx_free(st.ctx);
  pat_ctx_free(base);
  return rc == PAT_OK ? answered : rc;
}
