/*
 * stress.c - main() for the stress drivers and the machinery they share
 * (options, replay lines, the per-value ledger, randomized operations,
 * child processes). See stress.h.
 *
 * The harness (tests/harness.c) owns the test loop; stress/CMakeLists.txt
 * compiles it with -Dmain=chan_harness_main, so this main() can take the
 * stress flags first and pass everything else on unchanged. Unknown flags
 * are rejected by one of the two parsers with a usage message.
 */
#include "stress.h"

#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(CHAN_SANITIZER_BUILD) && defined(__has_include)
#if __has_include(<sanitizer/allocator_interface.h>)
#include <sanitizer/allocator_interface.h>
#define STRESS_HAVE_SANITIZER_ALLOCATOR 1
#endif
#endif

extern char **environ;
int chan_harness_main(int argc, char **argv);

/* ---- options ----------------------------------------------------------- */

static double opt_seconds = 2.0;
static int opt_threads; /* 0: the test's default */
static size_t opt_capacity;
static bool opt_capacity_given;
static char replay_prefix[1024]; /* "[ENV=..] prog --seconds S ..." */
static uint64_t base_seed;

double stress_seconds(void) {
  return opt_seconds;
}

int stress_threads_or(int fallback) {
  return opt_threads > 0 ? opt_threads : fallback;
}

size_t stress_capacity_or(size_t fallback) {
  return opt_capacity_given ? opt_capacity : fallback;
}

bool stress_capacity_given(void) {
  return opt_capacity_given;
}

/* ---- a test's life ----------------------------------------------------- */

static atomic_bool failing;
static atomic_int fail_messages;

int64_t stress_begin(const char *test) {
  atomic_store(&failing, false);
  atomic_store(&fail_messages, 0);
  printf("stress: %s/%s replay: %s --impl %s --filter %s --seed %" PRIu64 "\n",
         test, test_impl(), replay_prefix, test_impl(), test, base_seed);
  fflush(stdout);
  return test_now_ns() + (int64_t)(opt_seconds * 1e9);
}

bool stress_before(int64_t deadline_ns) {
  return !atomic_load_explicit(&failing, memory_order_relaxed) &&
         test_now_ns() < deadline_ns;
}

void stress_report(const char *test, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  printf("stress: %s/%s: %s\n", test, test_impl(), msg);
  fflush(stdout);
}

bool stress_failing(void) {
  return atomic_load_explicit(&failing, memory_order_relaxed);
}

void stress_failf(const char *file, int line, const char *fmt, ...) {
  atomic_store(&failing, true);
  int n = atomic_fetch_add(&fail_messages, 1);
  if (n > 8)
    return; /* the first few say it; the test already failed */
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  test_fail(file, line, "%s%s", msg,
            n == 8 ? " (further failures of this test not shown)" : "");
}

/* ---- values ------------------------------------------------------------ */

uint64_t stress_mix(uint64_t a, uint64_t b, uint64_t c) {
  uint64_t z = a * 0x9e3779b97f4a7c15ull ^ (b + 0x632be59bd9b4e019ull) ^
               (c * 0xd1b54a32d192ed03ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

struct stress_msg stress_msg_make(uint64_t salt, uint32_t producer,
                                  uint32_t seq) {
  return (struct stress_msg){producer, seq, stress_mix(salt, producer, seq)};
}

bool stress_msg_valid(const struct stress_msg *m, uint64_t salt) {
  return m->check == stress_mix(salt, m->producer, m->seq);
}

/* ---- ledger ------------------------------------------------------------ */

void stress_ledger_init(struct stress_ledger *l, uint32_t producers,
                        uint32_t per_producer, uint64_t salt) {
  l->producers = producers;
  l->per_producer = per_producer;
  l->state = calloc((size_t)producers * per_producer, 1);
  if (!l->state) {
    fprintf(stderr, "stress: out of memory for the ledger\n");
    exit(2);
  }
  l->salt = salt;
}

void stress_ledger_reset(struct stress_ledger *l, uint64_t salt) {
  size_t n = (size_t)l->producers * l->per_producer;
  for (size_t i = 0; i < n; i++)
    atomic_store_explicit(&l->state[i], STRESS_UNSENT, memory_order_relaxed);
  l->salt = salt;
}

void stress_ledger_free(struct stress_ledger *l) {
  free(l->state);
  l->state = NULL;
}

static const char *state_name(unsigned s) {
  static const char *names[] = {"unsent", "being sent", "sent", "received",
                                "refused"};
  return s < 5 ? names[s] : "corrupt";
}

static _Atomic uint8_t *slot(struct stress_ledger *l, uint32_t p, uint32_t s) {
  return &l->state[(size_t)p * l->per_producer + s];
}

void stress_ledger_offer(struct stress_ledger *l, uint32_t p, uint32_t s) {
  uint8_t old = atomic_exchange(slot(l, p, s), STRESS_SENDING);
  if (old != STRESS_UNSENT && old != STRESS_REFUSED)
    STRESS_FAIL("value (%u,%u) offered while %s (test bug)", p, s,
                state_name(old));
}

void stress_ledger_sent(struct stress_ledger *l, uint32_t p, uint32_t s,
                        int status) {
  uint8_t expect = STRESS_SENDING;
  uint8_t next = status == CHAN_OK ? STRESS_SENT : STRESS_REFUSED;
  if (atomic_compare_exchange_strong(slot(l, p, s), &expect, next))
    return;
  /* Only a receiver can have moved it, to RECEIVED: fine after CHAN_OK
   * (it got there first), a violation after a failed send. */
  if (expect == STRESS_RECEIVED && status == CHAN_OK)
    return;
  STRESS_FAIL("value (%u,%u): send returned %s but the value was %s", p, s,
              chan_strerror(status), state_name(expect));
}

bool stress_ledger_received(struct stress_ledger *l,
                            const struct stress_msg *m) {
  if (m->producer >= l->producers || m->seq >= l->per_producer ||
      !stress_msg_valid(m, l->salt)) {
    STRESS_FAIL("phantom value received: producer %u seq %u check %016" PRIx64
                " (not a value any producer sent in this round)",
                m->producer, m->seq, m->check);
    return false;
  }
  uint8_t old = atomic_exchange(slot(l, m->producer, m->seq), STRESS_RECEIVED);
  switch (old) {
  case STRESS_SENDING:
  case STRESS_SENT:
    return true;
  case STRESS_RECEIVED:
    STRESS_FAIL("duplicate: value (%u,%u) received twice", m->producer, m->seq);
    return false;
  case STRESS_REFUSED:
    STRESS_FAIL("value (%u,%u) received although its send reported failure",
                m->producer, m->seq);
    return false;
  default:
    STRESS_FAIL("phantom: value (%u,%u) received before it was sent (%s)",
                m->producer, m->seq, state_name(old));
    return false;
  }
}

uint64_t stress_ledger_verify(struct stress_ledger *l, const char *what) {
  uint64_t lost = 0;
  for (uint32_t p = 0; p < l->producers; p++)
    for (uint32_t s = 0; s < l->per_producer; s++) {
      uint8_t st = atomic_load(slot(l, p, s));
      if (st == STRESS_SENT) {
        if (lost++ < 4)
          STRESS_FAIL("lost: value (%u,%u) was sent successfully but never "
                      "received (%s)",
                      p, s, what);
      } else if (st == STRESS_SENDING) {
        STRESS_FAIL("value (%u,%u) still being sent at the end (%s)", p, s,
                    what);
      }
    }
  if (lost > 4)
    STRESS_FAIL("lost %" PRIu64 " values in all (%s)", lost, what);
  return lost;
}

/* ---- randomized operations --------------------------------------------- */

static int64_t short_timeout(test_rng *r) {
  /* 0 polls; otherwise 1 us .. ~260 us, often shorter than a handoff. */
  uint64_t x = test_rng_below(r, 9);
  return x == 0 ? 0 : (int64_t)1000 << test_rng_below(r, 9);
}

static int select_one(chan_t *ch, enum chan_dir dir, void *elem, chan_t *never,
                      int64_t timeout, test_rng *r) {
  /* The real case sits at a random index among a disabled (NULL) case and
   * a case on a channel nobody uses, which must never fire. */
  char dummy[64];
  struct chan_case cases[3];
  size_t real = test_rng_below(r, 3);
  size_t other = 0;
  for (size_t i = 0; i < 3; i++) {
    if (i == real) {
      cases[i] = (struct chan_case){ch, dir, elem};
    } else if (other++ == 0) {
      cases[i] = (struct chan_case){NULL, CHAN_RECV, dummy};
    } else {
      cases[i] = (struct chan_case){never, CHAN_RECV, dummy};
    }
  }
  size_t chosen = SIZE_MAX;
  int rc = chan_select(cases, 3, timeout, &chosen);
  if ((rc == CHAN_OK || rc == CHAN_CLOSED) && chosen != real)
    STRESS_FAIL("select fired case %zu (%s), but only case %zu could be "
                "ready",
                chosen,
                cases[chosen < 3 ? chosen : 0].chan ? "never-ready" : "NULL",
                real);
  return rc;
}

/* Picks the operation: 0 blocking call, 1 timed call, 2 try call, 3 select
 * with a short timeout, 4 blocking select. */
static int pick_op(test_rng *r, enum stress_ops ops) {
  uint64_t x = test_rng_below(r, 20);
  switch (ops) {
  case STRESS_OPS_BLOCKING:
    return x < 14 ? 0 : 4;
  case STRESS_OPS_TIMED:
    return x < 12 ? 1 : 3;
  default:
    return x < 8 ? 0 : x < 13 ? 1 : x < 16 ? 2 : x < 19 ? 3 : 4;
  }
}

int stress_send_any(chan_t *ch, const void *elem, chan_t *never, test_rng *r,
                    enum stress_ops ops) {
  switch (pick_op(r, ops)) {
  case 0:
    return chan_send(ch, elem);
  case 1:
    return chan_send_timeout(ch, elem, short_timeout(r));
  case 2:
    return chan_try_send(ch, elem);
  case 3:
    return select_one(ch, CHAN_SEND, (void *)elem, never, short_timeout(r), r);
  default:
    return select_one(ch, CHAN_SEND, (void *)elem, never, CHAN_FOREVER, r);
  }
}

int stress_recv_any(chan_t *ch, void *elem, chan_t *never, test_rng *r,
                    enum stress_ops ops) {
  switch (pick_op(r, ops)) {
  case 0:
    return chan_recv(ch, elem);
  case 1:
    return chan_recv_timeout(ch, elem, short_timeout(r));
  case 2:
    return chan_try_recv(ch, elem);
  case 3:
    return select_one(ch, CHAN_RECV, elem, never, short_timeout(r), r);
  default:
    return select_one(ch, CHAN_RECV, elem, never, CHAN_FOREVER, r);
  }
}

/* ---- children ---------------------------------------------------------- */

#define MAX_CHILDREN 32
static struct {
  const char *name;
  stress_child_fn fn;
} children[MAX_CHILDREN];
static size_t nchildren;

void stress_child_register(const char *name, stress_child_fn fn) {
  if (nchildren == MAX_CHILDREN) {
    fprintf(stderr, "stress: too many child functions\n");
    exit(2);
  }
  children[nchildren].name = name;
  children[nchildren].fn = fn;
  nchildren++;
}

void stress_run_child(const char *name, double timeout_s) {
  char seed[32];
  snprintf(seed, sizeof seed, "%" PRIu64, test_seed());
  char *argv[] = {"stress-child",      "--child", (char *)name, "--impl",
                  (char *)test_impl(), "--seed",  seed,         NULL};
  pid_t pid;
  int rc = posix_spawn(&pid, "/proc/self/exe", NULL, NULL, argv, environ);
  if (rc != 0) {
    STRESS_FAIL("cannot start child %s: %s", name, strerror(rc));
    return;
  }
  int64_t deadline = test_now_ns() + (int64_t)(timeout_s * 1e9);
  int status = 0;
  for (;;) {
    pid_t got = waitpid(pid, &status, WNOHANG);
    if (got == pid)
      break;
    if (got < 0 && errno != EINTR) {
      STRESS_FAIL("waitpid(child %s): %s", name, strerror(errno));
      return;
    }
    if (test_now_ns() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      STRESS_FAIL("child %s hung for %.0f s (killed)", name, timeout_s);
      return;
    }
    /* Polling a process's exit, not ordering events between threads. */
    nanosleep(&(struct timespec){0, 2000000}, NULL);
  }
  if (WIFSIGNALED(status))
    STRESS_FAIL("child %s died of signal %d", name, WTERMSIG(status));
  else if (WEXITSTATUS(status) != 0)
    STRESS_FAIL("child %s failed (exit status %d; its messages are above)",
                name, WEXITSTATUS(status));
}

static int run_child(const char *name, const char *impl, uint64_t seed) {
  for (size_t i = 0; i < nchildren; i++)
    if (!strcmp(children[i].name, name))
      return children[i].fn(impl, seed);
  fprintf(stderr, "stress: no child function named '%s'\n", name);
  return 2;
}

/* ---- misc -------------------------------------------------------------- */

size_t stress_heap_in_use(void) {
#ifdef STRESS_HAVE_SANITIZER_ALLOCATOR
  return __sanitizer_get_current_allocated_bytes();
#else
  /* mallinfo2 sees the main arena only; main() sets M_ARENA_MAX to 1 so
   * that every thread allocates there. */
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
#endif
}

void stress_join_all(pthread_t *threads, size_t n) {
  for (size_t i = 0; i < n; i++)
    test_thread_join(threads[i]);
}

/* ---- main -------------------------------------------------------------- */

static void usage(FILE *to, const char *prog) {
  fprintf(to,
          "usage: %s [--impl NAME|all] [--seconds S] [--threads N]\n"
          "          [--capacity C] [--seed N] [--filter SUBSTR]\n"
          "          [--timeout SEC] [--list]\n"
          "  --seconds S    wall-clock budget of each test (default 2)\n"
          "  --threads N    thread count, instead of each test's default\n"
          "  --capacity C   channel capacity, instead of each test's mix\n"
          "  --timeout SEC  watchdog per test (default 3*S + 30, sanitizers "
          "+120)\n",
          prog);
}

static bool parse_u64(const char *s, uint64_t *out) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 0);
  if (errno || end == s || *end || s[0] == '-')
    return false;
  *out = v;
  return true;
}

static void appendf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void appendf(char *buf, size_t size, const char *fmt, ...) {
  size_t len = strlen(buf);
  if (len >= size)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf + len, size - len, fmt, ap);
  va_end(ap);
}

int main(int argc, char **argv) {
  const char *prog = argv[0];
  const char *child = NULL, *impl = NULL;
  bool seed_given = false, timeout_given = false;
  /* The arguments the harness gets: everything but the stress flags. */
  char **pass = calloc((size_t)argc + 8, sizeof *pass);
  int npass = 1;
  if (!pass)
    return 2;

  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    bool takes_value = !strcmp(a, "--seconds") || !strcmp(a, "--threads") ||
                       !strcmp(a, "--capacity") || !strcmp(a, "--child") ||
                       !strcmp(a, "--impl") || !strcmp(a, "--seed") ||
                       !strcmp(a, "--filter") || !strcmp(a, "--timeout");
    if (takes_value && !v) {
      fprintf(stderr, "%s: %s needs a value\n", prog, a);
      usage(stderr, prog);
      return 2;
    }
    uint64_t n;
    if (!strcmp(a, "--seconds")) {
      char *end;
      opt_seconds = strtod(v, &end);
      if (*end || !(opt_seconds > 0) || opt_seconds > 1e6) {
        fprintf(stderr, "%s: --seconds needs a positive number, not '%s'\n",
                prog, v);
        return 2;
      }
    } else if (!strcmp(a, "--threads")) {
      if (!parse_u64(v, &n) || n < 2 || n > 1024) {
        fprintf(stderr, "%s: --threads needs a number in 2..1024, not '%s'\n",
                prog, v);
        return 2;
      }
      opt_threads = (int)n;
    } else if (!strcmp(a, "--capacity")) {
      if (!parse_u64(v, &n) || n > (1u << 20)) {
        fprintf(stderr,
                "%s: --capacity needs a number in 0..1048576, not '%s'\n", prog,
                v);
        return 2;
      }
      opt_capacity = (size_t)n;
      opt_capacity_given = true;
    } else if (!strcmp(a, "--child")) {
      child = v;
    } else if (!strcmp(a, "--seed")) {
      if (!parse_u64(v, &base_seed)) {
        fprintf(stderr, "%s: --seed needs a number, not '%s'\n", prog, v);
        return 2;
      }
      seed_given = true;
    } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout, prog);
      return 0;
    } else if (!strcmp(a, "--impl") || !strcmp(a, "--filter") ||
               !strcmp(a, "--timeout")) {
      if (!strcmp(a, "--impl"))
        impl = v;
      timeout_given |= !strcmp(a, "--timeout");
      pass[npass++] = argv[i];
      pass[npass++] = argv[i + 1];
    } else if (!strcmp(a, "--list")) {
      pass[npass++] = argv[i];
      continue;
    } else {
      fprintf(stderr, "%s: unknown argument '%s'\n", prog, a);
      usage(stderr, prog);
      return 2;
    }
    i++; /* every other flag took a value */
  }

  if (child) {
    if (!impl || !seed_given) {
      fprintf(stderr, "%s: --child needs --impl and --seed\n", prog);
      return 2;
    }
    return run_child(child, impl, base_seed);
  }

#ifndef STRESS_HAVE_SANITIZER_ALLOCATOR
  mallopt(M_ARENA_MAX, 1); /* see stress_heap_in_use() */
#endif
  if (!seed_given)
    base_seed = (uint64_t)test_now_ns() ^ ((uint64_t)getpid() << 32);

#ifdef CHAN_CHAOS
  /* Chaos injections follow the run's seed unless one is forced. */
  if (!getenv("CHAN_CHAOS_SEED")) {
    char s[32];
    snprintf(s, sizeof s, "%" PRIu64, base_seed);
    setenv("CHAN_CHAOS_SEED", s, 1);
  }
  appendf(replay_prefix, sizeof replay_prefix, "CHAN_CHAOS_SEED=%s ",
          getenv("CHAN_CHAOS_SEED"));
  printf("stress: chaos build, CHAN_CHAOS_SEED=%s\n",
         getenv("CHAN_CHAOS_SEED"));
#endif
  if (getenv("CHAN_PLANT"))
    appendf(replay_prefix, sizeof replay_prefix, "CHAN_PLANT=%s ",
            getenv("CHAN_PLANT"));
  appendf(replay_prefix, sizeof replay_prefix, "%s --seconds %g", prog,
          opt_seconds);
  if (opt_threads)
    appendf(replay_prefix, sizeof replay_prefix, " --threads %d", opt_threads);
  if (opt_capacity_given)
    appendf(replay_prefix, sizeof replay_prefix, " --capacity %zu",
            opt_capacity);

  static char seed_arg[32], timeout_arg[32];
  snprintf(seed_arg, sizeof seed_arg, "%" PRIu64, base_seed);
  pass[npass++] = "--seed";
  pass[npass++] = seed_arg;
  if (!timeout_given) {
    double t = 3 * opt_seconds + (test_sanitized() ? 120 : 30);
    snprintf(timeout_arg, sizeof timeout_arg, "%d", (int)ceil(t));
    pass[npass++] = "--timeout";
    pass[npass++] = timeout_arg;
  }
  pass[0] = replay_prefix; /* the harness's replay line names argv[0] */
  pass[npass] = NULL;
  setvbuf(stdout, NULL, _IOLBF, 0);
  int rc = chan_harness_main(npass, pass);
  free(pass);
  return rc;
}
