/*
 * api.c - the public functions of chan.h: the registry of implementations,
 * argument checking, deadlines and error messages; then a dispatch through
 * the channel's operations table (impl.h).
 */
#include <chan/chan.h>
#include <chan/chan_debug.h>

#include <chan/impl.h>

#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/impl.h"

/* ---- registry ----------------------------------------------------------
 *
 * The in-tree implementations (registry.def) come first, the first being
 * the default; implementations registered at run time (chan_impl_register,
 * chan_impl_load, CHANLAB_IMPLS) are appended. Entries are never removed
 * and never move, so a struct chan_impl pointer held by a channel and the
 * names array returned by chan_impl_names() stay valid; appends happen
 * under registry_lock and publish the new count with release, and readers
 * load it with acquire, so a lookup never sees a half-written entry.
 */

#define CHAN_IMPL(name) extern const struct cl_impl cl_impl_##name;
#include "registry.def"
#undef CHAN_IMPL

static const struct cl_impl *const builtin[] = {
#define CHAN_IMPL(name) &cl_impl_##name,
#include "registry.def"
#undef CHAN_IMPL
};

#define NBUILTIN (sizeof builtin / sizeof builtin[0])
#define MAX_REGISTERED 16 /* run-time registrations a process may make */
#define MAX_IMPLS (NBUILTIN + MAX_REGISTERED)

static const struct cl_impl *registry[MAX_IMPLS];
static const char *registry_names[MAX_IMPLS + 1]; /* NULL-terminated */
static _Atomic size_t nimpls;
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;

/* Run-time registrations: the registry's own copy of each definition's
 * struct chan_impl (what create() receives) and the ops it declared. */
static struct cl_impl registered[MAX_REGISTERED];
static const struct cl_ops *registered_ops[MAX_REGISTERED];

/* CHANLAB_IMPLS entries that failed to load, for chan_make's message. */
static char env_failures[256];

static void load_env_impls(void);
static pthread_once_t env_once = PTHREAD_ONCE_INIT;

static void builtin_init(void) {
  for (size_t i = 0; i < NBUILTIN; i++) {
    registry[i] = builtin[i];
    registry_names[i] = builtin[i]->name;
  }
  atomic_store_explicit(&nimpls, NBUILTIN, memory_order_release);
}

static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;

/* Every consultation of the registry starts here: the in-tree entries,
 * then (once per process) CHANLAB_IMPLS. */
static size_t registry_count(void) {
  pthread_once(&builtin_once, builtin_init);
  pthread_once(&env_once, load_env_impls);
  return atomic_load_explicit(&nimpls, memory_order_acquire);
}

const char *const *chan_impl_names(size_t *count) {
  size_t n = registry_count();
  if (count)
    *count = n;
  return registry_names;
}

static const struct cl_impl *find_impl_in(const char *name, size_t n) {
  if (!name || !strcmp(name, "default"))
    return registry[0];
  for (size_t i = 0; i < n; i++)
    if (!strcmp(registry[i]->name, name))
      return registry[i];
  return NULL;
}

static const struct cl_impl *find_impl(const char *name) {
  return find_impl_in(name, registry_count());
}

/* The ops a run-time registered implementation declared, or NULL for an
 * in-tree one (whose create() fills its header itself). */
static const struct cl_ops *registered_ops_of(const struct cl_impl *impl) {
  for (size_t i = 0; i < MAX_REGISTERED; i++)
    if (impl == &registered[i])
      return registered_ops[i];
  return NULL;
}

const char *chan_impl_summary(const char *name) {
  const struct cl_impl *impl = find_impl(name);
  return impl ? impl->summary : NULL;
}

static bool impl_name_ok(const char *name) {
  size_t len = strlen(name);
  if (len == 0 || len > 31 || !strcmp(name, "all") ||
      !strcmp(name, "default"))
    return false;
  for (const char *c = name; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
          *c == '_' || *c == '-'))
      return false;
  return true;
}

/* Checks a definition without calling anything in it. */
static int check_def(const char *fn, const struct chan_impl_def *def) {
  if (!def)
    return cl_set_error(CHAN_EINVAL, "%s: NULL definition", fn);
  if (def->abi_version != CHAN_IMPL_ABI_VERSION)
    return cl_set_error(CHAN_EIMPL_ABI,
                        "%s: '%s' was built for implementation ABI version "
                        "%d; this chanlab has version %d (rebuild it "
                        "against this chan/impl.h)",
                        fn, def->name ? def->name : "(unnamed)",
                        def->abi_version, CHAN_IMPL_ABI_VERSION);
  if (!def->name)
    return cl_set_error(CHAN_EINVAL, "%s: the definition has no name", fn);
  if (!impl_name_ok(def->name))
    return cl_set_error(CHAN_EINVAL,
                        "%s: bad implementation name '%.40s' (1 to 31 of "
                        "a-z 0-9 _ -, not 'all' or 'default')",
                        fn, def->name);
  if (!def->create)
    return cl_set_error(CHAN_EINVAL, "%s: '%s' has no create function", fn,
                        def->name);
  const struct cl_ops *ops = def->ops;
  if (!ops)
    return cl_set_error(CHAN_EINVAL, "%s: '%s' has no operations table", fn,
                        def->name);
  const char *missing = !ops->send             ? "send"
                        : !ops->recv           ? "recv"
                        : !ops->close          ? "close"
                        : !ops->len            ? "len"
                        : !ops->change_count   ? "change_count"
                        : !ops->waiters        ? "waiters"
                        : !ops->destroy        ? "destroy"
                        : !ops->select_enqueue ? "select_enqueue"
                        : !ops->select_dequeue ? "select_dequeue"
                                               : NULL;
  if (missing)
    return cl_set_error(CHAN_EINVAL,
                        "%s: '%s' has no %s operation (every operation "
                        "but renotify is required)",
                        fn, def->name, missing);
  return CHAN_OK;
}

static int register_def(const char *fn, const struct chan_impl_def *def) {
  int rc = check_def(fn, def);
  if (rc)
    return rc;
  pthread_once(&builtin_once, builtin_init);
  pthread_mutex_lock(&registry_lock);
  size_t n = atomic_load_explicit(&nimpls, memory_order_relaxed);
  if (find_impl_in(def->name, n)) {
    rc = cl_set_error(CHAN_EIMPL_EXISTS,
                      "%s: an implementation named '%s' is already "
                      "registered",
                      fn, def->name);
  } else if (n == MAX_IMPLS) {
    rc = cl_set_error(CHAN_ENOMEM,
                      "%s: the registry is full (%d run-time "
                      "implementations)",
                      fn, MAX_REGISTERED);
  } else {
    size_t slot = n - NBUILTIN;
    registered[slot] = (struct cl_impl){.name = def->name,
                                        .summary = def->summary
                                                       ? def->summary
                                                       : "(no summary)",
                                        .create = def->create,
                                        .config = def->config};
    registered_ops[slot] = def->ops;
    registry[n] = &registered[slot];
    registry_names[n] = def->name;
    atomic_store_explicit(&nimpls, n + 1, memory_order_release);
  }
  pthread_mutex_unlock(&registry_lock);
  return rc;
}

int chan_impl_register(const struct chan_impl_def *def) {
  return register_def("chan_impl_register", def);
}

int chan_impl_load(const char *path) {
  if (!path)
    return cl_set_error(CHAN_EINVAL, "chan_impl_load: NULL path");
  /* RTLD_NOW: an object with an unresolved symbol fails here, not in the
   * middle of a channel operation. */
  void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!handle)
    return cl_set_error(CHAN_EIMPL_LOAD, "chan_impl_load: cannot load '%s': %s",
                        path, dlerror());
  chan_impl_entry_fn entry;
  /* POSIX's sanctioned way to turn dlsym's object pointer into a function
   * pointer. */
  *(void **)&entry = dlsym(handle, CHAN_IMPL_ENTRY_SYMBOL);
  if (!entry) {
    dlclose(handle);
    return cl_set_error(CHAN_EIMPL_SYMBOL,
                        "chan_impl_load: '%s' does not export %s(), the "
                        "entry of a chanlab implementation (chan/impl.h)",
                        path, CHAN_IMPL_ENTRY_SYMBOL);
  }
  const struct chan_impl_def *def = entry();
  if (!def) {
    dlclose(handle);
    return cl_set_error(CHAN_EIMPL_SYMBOL,
                        "chan_impl_load: %s() of '%s' returned NULL",
                        CHAN_IMPL_ENTRY_SYMBOL, path);
  }
  char fn[160];
  snprintf(fn, sizeof fn, "chan_impl_load('%.120s')", path);
  int rc = register_def(fn, def);
  if (rc)
    dlclose(handle); /* nothing of it is referenced */
  /* A registered object stays loaded for good: its channels, names and
   * tables are referenced from the registry. */
  return rc;
}

/* CHANLAB_IMPLS: a colon-separated list of objects to load, for running a
 * program on an implementation without changing its command line. A bad
 * entry must not stop the program (it may never use that name), so it is
 * reported on stderr and remembered for chan_make's message. */
static void load_env_impls(void) {
  const char *env = getenv("CHANLAB_IMPLS");
  while (env && *env) {
    const char *colon = strchr(env, ':');
    size_t len = colon ? (size_t)(colon - env) : strlen(env);
    if (len > 0) {
      char path[4096];
      if (len >= sizeof path) {
        fprintf(stderr, "chanlab: CHANLAB_IMPLS: a path of %zu bytes is too "
                        "long; skipped\n", len);
      } else {
        memcpy(path, env, len);
        path[len] = '\0';
        if (chan_impl_load(path) != CHAN_OK) {
          fprintf(stderr, "chanlab: CHANLAB_IMPLS: %s\n", chan_last_error());
          size_t used = strlen(env_failures);
          snprintf(env_failures + used, sizeof env_failures - used, "%s%.100s",
                   used ? ", " : "", path);
        }
      }
    }
    env = colon ? colon + 1 : NULL;
  }
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
  case CHAN_EIMPL_ABI:
    return "implementation built for another ABI version";
  case CHAN_EIMPL_EXISTS:
    return "implementation name already registered";
  case CHAN_EIMPL_LOAD:
    return "cannot load implementation";
  case CHAN_EIMPL_SYMBOL:
    return "no implementation entry symbol";
  case CHAN_ENOTSUP:
    return "not supported by this build";
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
    size_t n = registry_count();
    char names[256] = "";
    for (size_t i = 0; i < n; i++) {
      strncat(names, i ? ", " : "", sizeof names - strlen(names) - 1);
      strncat(names, registry[i]->name, sizeof names - strlen(names) - 1);
    }
    return cl_set_error(CHAN_EUNKNOWN_IMPL,
                        "chan_make: unknown implementation '%s' "
                        "(registered: %s%s%s)",
                        impl_name, names,
                        env_failures[0] ? "; CHANLAB_IMPLS failed to load: "
                                        : "",
                        env_failures);
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
  const struct cl_ops *ops = registered_ops_of(impl);
  if (ops) {
    /* A run-time implementation's channels dispatch to the table that was
     * validated when it registered, whatever create() left there. */
    ch->ops = ops;
    ch->impl = impl;
    ch->elem_size = elem_size;
    ch->capacity = capacity;
  }
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
