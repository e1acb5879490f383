/*
 * chaos.c - the runtime behind chaos.h: seeded race-window widening
 * (CL_CHAOS_POINT). Compiles to nothing unless the build asks for it
 * (-DCHAN_CHAOS=ON), so normal builds carry no trace of it.
 */
#ifdef CHAN_CHAOS

#include "common/chaos.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

static uint64_t chaos_splitmix(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* The seed comes from CHAN_CHAOS_SEED (read once; 1 if unset). Each thread
 * draws its own stream, numbered in the order threads first reach a chaos
 * point, so a thread's injections depend only on the seed, its number and
 * the points it passes: the same seed replays the same sequence. */
static pthread_once_t chaos_once = PTHREAD_ONCE_INIT;
static uint64_t chaos_seed = 1;
static atomic_uint chaos_threads;

static void chaos_init(void) {
  const char *s = getenv("CHAN_CHAOS_SEED");
  if (s && *s)
    chaos_seed = strtoull(s, NULL, 0);
}

static _Thread_local struct {
  bool ready;
  uint64_t state;
} chaos_rng;

void cl_chaos_point(const char *where) {
  (void)where; /* a name for debuggers and for reading the code */
  if (!chaos_rng.ready) {
    pthread_once(&chaos_once, chaos_init);
    uint64_t stream =
        atomic_fetch_add_explicit(&chaos_threads, 1, memory_order_relaxed);
    chaos_rng.state = chaos_seed ^ (stream * 0xd1b54a32d192ed03ull);
    chaos_rng.ready = true;
  }
  uint64_t x = chaos_splitmix(&chaos_rng.state);
  unsigned roll = (unsigned)(x & 1023);
  uint64_t arg = x >> 10;
  if (roll < 80) {
    /* ~8%: give the CPU away, the usual way a window gets hit. */
    sched_yield();
  } else if (roll < 96) {
    /* ~1.5%: a short busy pause (up to a few microseconds), which keeps
     * the CPU and so reorders against the other core instead. */
    for (volatile unsigned i = (unsigned)(arg % 2048); i > 0; i--) {
    }
  } else if (roll < 99) {
    /* ~0.3%: a real sleep of up to 50 us, long enough for a timeout or a
     * close to land inside the window. */
    struct timespec ts = {0, (long)(1000 + arg % 49000)};
    int cancel_state; /* nanosleep is a cancellation point; no channel
                       * function may be one (chan.h) */
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);
    nanosleep(&ts, NULL);
    pthread_setcancelstate(cancel_state, NULL);
  }
}

#endif /* CHAN_CHAOS */
