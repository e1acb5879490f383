/*
 * api.c - the public functions of chan.h: the registry of implementations,
 * argument checking, deadlines and error messages; then a dispatch through
 * the channel's operations table (impl.h).
 */
#include <chan/chan.h>
#include <chan/chan_debug.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/impl.h"

/* ---- registry ---------------------------------------------------------- */

#define CHAN_IMPL(name) extern const struct cl_impl cl_impl_##name;
#include "registry.def"
#undef CHAN_IMPL

static const struct cl_impl *const registry[] = {
#define CHAN_IMPL(name) &cl_impl_##name,
#include "registry.def"
#undef CHAN_IMPL
};

#define NIMPLS (sizeof registry / sizeof registry[0])

static const char *const registry_names[] = {
#define CHAN_IMPL(name) #name,
#include "registry.def"
#undef CHAN_IMPL
    NULL};

const char *const *chan_impl_names(size_t *count) {
  if (count)
    *count = NIMPLS;
  return registry_names;
}

static const struct cl_impl *find_impl(const char *name) {
  if (!name || !strcmp(name, "default"))
    return registry[0];
  for (size_t i = 0; i < NIMPLS; i++)
    if (!strcmp(registry[i]->name, name))
      return registry[i];
  return NULL;
}

const char *chan_impl_summary(const char *name) {
  const struct cl_impl *impl = find_impl(name);
  return impl ? impl->summary : NULL;
}

/* ---- errors ------------------------------------------------------------ */

static _Thread_local char last_error[256];

int cl_set_error(int status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_error, sizeof last_error, fmt, ap);
  va_end(ap);
  return status;
}

const char *chan_last_error(void) {
  return last_error;
}

const char *chan_strerror(int status) {
  switch (status) {
  case CHAN_OK:
    return "ok";
  case CHAN_CLOSED:
    return "channel closed";
  case CHAN_WOULD_BLOCK:
    return "would block";
  case CHAN_TIMEOUT:
    return "timed out";
  case CHAN_EINVAL:
    return "invalid argument";
  case CHAN_EUNKNOWN_IMPL:
    return "unknown implementation";
  case CHAN_ENOMEM:
    return "out of memory";
  case CHAN_EALREADY_CLOSED:
    return "channel already closed";
  case CHAN_EBUSY:
    return "in use";
  case CHAN_ESTOPPED:
    return "runtime stopped";
  case CHAN_ENOTFIBER:
    return "not called from a fiber";
  default:
    return "unknown status";
  }
}

/* ---- making and destroying --------------------------------------------- */

int chan_make(chan_t **out, const char *impl_name, size_t elem_size,
              size_t capacity) {
  if (!out)
    return cl_set_error(CHAN_EINVAL, "chan_make: out is NULL");
  *out = NULL;
  const struct cl_impl *impl = find_impl(impl_name);
  if (!impl) {
    char names[128] = "";
    for (size_t i = 0; i < NIMPLS; i++) {
      strncat(names, i ? ", " : "", sizeof names - strlen(names) - 1);
      strncat(names, registry[i]->name, sizeof names - strlen(names) - 1);
    }
    return cl_set_error(CHAN_EUNKNOWN_IMPL,
                        "chan_make: unknown implementation '%s' "
                        "(registered: %s)",
                        impl_name, names);
  }
  if (elem_size > CHAN_MAX_ELEM_SIZE)
    return cl_set_error(CHAN_EINVAL,
                        "chan_make: element size %zu exceeds %zu bytes",
                        elem_size, (size_t)CHAN_MAX_ELEM_SIZE);
  if (capacity > CHAN_MAX_CAPACITY)
    return cl_set_error(CHAN_EINVAL, "chan_make: capacity %zu exceeds %zu",
                        capacity, (size_t)CHAN_MAX_CAPACITY);
  if (elem_size && capacity > SIZE_MAX / 2 / elem_size)
    return cl_set_error(CHAN_EINVAL,
                        "chan_make: %zu values of %zu bytes overflow", capacity,
                        elem_size);
  struct chan *ch = impl->create(impl, elem_size, capacity);
  if (!ch)
    return cl_set_error(CHAN_ENOMEM,
                        "chan_make: no memory for %zu values of %zu bytes",
                        capacity, elem_size);
  *out = ch;
  return CHAN_OK;
}

int chan_destroy(chan_t *ch) {
  if (!ch)
    return cl_set_error(CHAN_EINVAL, "chan_destroy: NULL channel");
  size_t blocked = ch->ops->waiters(ch, CHAN_SEND, false) +
                   ch->ops->waiters(ch, CHAN_RECV, false);
  if (blocked)
    return cl_set_error(CHAN_EBUSY,
                        "chan_destroy: %zu threads are blocked on this "
                        "channel; it was not destroyed",
                        blocked);
  ch->ops->destroy(ch);
  return CHAN_OK;
}

/* ---- operations -------------------------------------------------------- */

static int check_send(const char *fn, const chan_t *ch, const void *elem) {
  if (!ch)
    return cl_set_error(CHAN_EINVAL, "%s: NULL channel", fn);
  if (!elem && ch->elem_size)
    return cl_set_error(CHAN_EINVAL, "%s: NULL value for %zu-byte elements", fn,
                        ch->elem_size);
  return CHAN_OK;
}

static int check_recv(const char *fn, const chan_t *ch) {
  if (!ch)
    return cl_set_error(CHAN_EINVAL, "%s: NULL channel", fn);
  return CHAN_OK;
}

static int timeout_deadline(const char *fn, int64_t timeout_ns,
                            int64_t *deadline) {
  if (timeout_ns < 0)
    return cl_set_error(CHAN_EINVAL, "%s: negative timeout %lld", fn,
                        (long long)timeout_ns);
  *deadline =
      timeout_ns == 0 ? CL_DEADLINE_POLL : cl_deadline_after(timeout_ns);
  return CHAN_OK;
}

int chan_send(chan_t *ch, const void *elem) {
  int rc = check_send("chan_send", ch, elem);
  return rc ? rc : ch->ops->send(ch, elem, CL_DEADLINE_NONE);
}

int chan_recv(chan_t *ch, void *elem) {
  int rc = check_recv("chan_recv", ch);
  return rc ? rc : ch->ops->recv(ch, elem, CL_DEADLINE_NONE);
}

int chan_try_send(chan_t *ch, const void *elem) {
  int rc = check_send("chan_try_send", ch, elem);
  return rc ? rc : ch->ops->send(ch, elem, CL_DEADLINE_POLL);
}

int chan_try_recv(chan_t *ch, void *elem) {
  int rc = check_recv("chan_try_recv", ch);
  return rc ? rc : ch->ops->recv(ch, elem, CL_DEADLINE_POLL);
}

int chan_send_timeout(chan_t *ch, const void *elem, int64_t timeout_ns) {
  int64_t deadline = CL_DEADLINE_POLL;
  int rc = check_send("chan_send_timeout", ch, elem);
  if (!rc)
    rc = timeout_deadline("chan_send_timeout", timeout_ns, &deadline);
  return rc ? rc : ch->ops->send(ch, elem, deadline);
}

int chan_recv_timeout(chan_t *ch, void *elem, int64_t timeout_ns) {
  int64_t deadline = CL_DEADLINE_POLL;
  int rc = check_recv("chan_recv_timeout", ch);
  if (!rc)
    rc = timeout_deadline("chan_recv_timeout", timeout_ns, &deadline);
  return rc ? rc : ch->ops->recv(ch, elem, deadline);
}

int chan_close(chan_t *ch) {
  if (!ch)
    return cl_set_error(CHAN_EINVAL, "chan_close: NULL channel");
  int rc = ch->ops->close(ch);
  if (rc == CHAN_EALREADY_CLOSED)
    cl_set_error(rc, "chan_close: the channel is already closed");
  return rc;
}

size_t chan_len(const chan_t *ch) {
  return ch ? ch->ops->len(ch) : 0;
}

size_t chan_cap(const chan_t *ch) {
  return ch ? ch->capacity : 0;
}

size_t chan_elem_size(const chan_t *ch) {
  return ch ? ch->elem_size : 0;
}

const char *chan_impl_name(const chan_t *ch) {
  return ch ? ch->impl->name : "";
}

size_t chan_debug_waiters(const chan_t *ch, enum chan_dir dir) {
  return ch ? ch->ops->waiters(ch, dir, false) : 0;
}

size_t chan_debug_sleepers(const chan_t *ch, enum chan_dir dir) {
  return ch ? ch->ops->waiters(ch, dir, true) : 0;
}

bool chan_debug_strict_fifo(const chan_t *ch) {
  /* An engine that wakes waiters to retry needs renotify (impl.h); one that
   * completes them itself, by handoff, does not, and serves them in queue
   * order. */
  return ch && ch->ops->renotify == NULL;
}
