/*
 * stress_churn.c - property: tens of thousands of short-lived channels,
 * each used for one handoff, leave memory flat.
 *
 * Worker pairs make a channel, pass it over a long-lived pipe, do one
 * handoff on it (plain, select, or a close instead of a value), and the
 * last of the two to return destroys it, so a waker that still touches a
 * channel or a waiter after its counterpart returned is a use-after-free
 * (ASan reports it). Heap in use (the sanitizer allocator's count under
 * ASan/TSan, mallinfo2 otherwise) is sampled after every round of
 * thousands of channels: once warmed up it must not grow. Channels closed
 * with values still buffered are destroyed too (LSan reports a leaked
 * buffer).
 */
#include "stress.h"

#include <stdlib.h>
#include <string.h>

struct job {
  chan_t *ch;
  atomic_int users; /* the last to finish destroys the channel */
  int kind;
  uint64_t seq;
};

struct pair {
  chan_t *pipe;  /* carries struct job * from maker to partner */
  chan_t *quiet; /* a long-lived channel in every select, never ready */
  uint32_t count;
  uint64_t id;
  atomic_ullong done;
};

static void finish(struct job *j) {
  if (atomic_fetch_sub(&j->users, 1) != 1)
    return;
  int rc = chan_destroy(j->ch);
  if (rc != CHAN_OK)
    STRESS_FAIL("chan_destroy after both sides returned: %s",
                chan_strerror(rc));
  free(j);
}

/* kind: 0 maker receives, 1 maker sends, 2 partner closes instead of
 * sending, 3 both sides select, 4 buffered: send then the partner receives
 * after the maker returned. */
static void *maker_main(void *arg) {
  struct pair *p = arg;
  test_rng r = test_rng_make(p->id);
  for (uint32_t i = 0; i < p->count && !stress_failing(); i++) {
    struct job *j = malloc(sizeof *j);
    if (!j) {
      STRESS_FAIL("out of memory");
      break;
    }
    j->kind = (int)test_rng_below(&r, 5);
    j->seq = i;
    atomic_init(&j->users, 2);
    if (chan_make(&j->ch, test_impl(), sizeof(uint64_t),
                  j->kind == 4 ? 1 : test_rng_below(&r, 2)) != CHAN_OK) {
      STRESS_FAIL("chan_make: %s", chan_last_error());
      free(j);
      break;
    }
    if (chan_send(p->pipe, &j) != CHAN_OK) {
      STRESS_FAIL("pipe send failed");
      break;
    }
    uint64_t v = i;
    int rc;
    switch (j->kind) {
    case 0:
      rc = chan_recv(j->ch, &v);
      if (rc != CHAN_OK || v != i + 1000)
        STRESS_FAIL("handoff receive: %s, value %llu", chan_strerror(rc),
                    (unsigned long long)v);
      break;
    case 1:
    case 4:
      rc = chan_send(j->ch, &v);
      if (rc != CHAN_OK)
        STRESS_FAIL("handoff send: %s", chan_strerror(rc));
      break;
    case 2:
      rc = chan_recv(j->ch, &v);
      if (rc != CHAN_CLOSED)
        STRESS_FAIL("receive on a channel closed by the partner: %s",
                    chan_strerror(rc));
      break;
    default: {
      struct chan_case c[2] = {{p->quiet, CHAN_RECV, &v},
                               {j->ch, CHAN_RECV, &v}};
      size_t chosen;
      rc = chan_select(c, 2, CHAN_FOREVER, &chosen);
      if (rc != CHAN_OK || chosen != 1 || v != i + 1000)
        STRESS_FAIL("handoff select: %s, case %zu", chan_strerror(rc), chosen);
    }
    }
    finish(j);
    atomic_fetch_add_explicit(&p->done, 1, memory_order_relaxed);
  }
  struct job *end = NULL;
  chan_send(p->pipe, &end);
  return NULL;
}

static void *partner_main(void *arg) {
  struct pair *p = arg;
  for (;;) {
    struct job *j;
    if (chan_recv(p->pipe, &j) != CHAN_OK || !j)
      return NULL;
    uint64_t v = j->seq + 1000;
    int rc;
    switch (j->kind) {
    case 0:
      rc = chan_send(j->ch, &v);
      break;
    case 1:
    case 4:
      rc = chan_recv(j->ch, &v);
      if (rc == CHAN_OK && v != j->seq)
        STRESS_FAIL("handoff carried %llu, expected %llu",
                    (unsigned long long)v, (unsigned long long)j->seq);
      break;
    case 2:
      rc = chan_close(j->ch);
      break;
    default: {
      struct chan_case c[2] = {{j->ch, CHAN_SEND, &v},
                               {p->quiet, CHAN_RECV, &v}};
      size_t chosen;
      rc = chan_select(c, 2, CHAN_FOREVER, &chosen);
      if (rc == CHAN_OK && chosen != 0)
        STRESS_FAIL("select fired the never-ready case");
    }
    }
    if (rc != CHAN_OK)
      STRESS_FAIL("partner operation (kind %d): %s", j->kind,
                  chan_strerror(rc));
    finish(j);
  }
}

TEST(churn_handoff_memory_flat) {
  int64_t deadline = stress_begin("churn_handoff_memory_flat");
  int npairs = stress_threads_or(4) / 2;
  if (npairs > 32)
    npairs = 32;
  uint32_t per_round = (uint32_t)test_scale(5000);
  struct pair pairs[32];
  for (int i = 0; i < npairs; i++) {
    pairs[i] = (struct pair){.pipe = test_chan(sizeof(struct job *), 4),
                             .quiet = test_chan(sizeof(uint64_t), 0),
                             .count = per_round};
    REQUIRE(pairs[i].pipe && pairs[i].quiet);
  }
  uint64_t rounds = 0, channels = 0;
  size_t baseline = 0, worst = 0;
  do {
    test_task tids[64];
    for (int i = 0; i < npairs; i++) {
      pairs[i].id = rounds * 64 + (uint64_t)i;
      atomic_store(&pairs[i].done, 0);
      tids[2 * i] = test_spawn(maker_main, &pairs[i]);
      tids[2 * i + 1] = test_spawn(partner_main, &pairs[i]);
    }
    stress_join_all(tids, (size_t)npairs * 2);
    for (int i = 0; i < npairs; i++)
      channels += atomic_load(&pairs[i].done);
    size_t heap = stress_heap_in_use();
    if (rounds == 1)
      baseline = heap; /* round 0 warms up allocator caches */
    else if (rounds > 1 && heap > baseline && heap - baseline > worst)
      worst = heap - baseline;
    rounds++;
  } while (stress_before(deadline) || rounds < 3);
  for (int i = 0; i < npairs; i++) {
    CHECK_EQ(chan_debug_waiters(pairs[i].quiet, CHAN_RECV), 0);
    CHECK_STATUS(chan_destroy(pairs[i].pipe), CHAN_OK);
    CHECK_STATUS(chan_destroy(pairs[i].quiet), CHAN_OK);
  }
  /* A leak of even 16 bytes per channel would pass 256 KiB well within the
   * channels a run makes after the baseline. */
  uint64_t after = channels - channels / rounds;
  if (worst > 256 * 1024)
    STRESS_FAIL("heap grew by %zu bytes over %llu channels after warm-up "
                "(%.1f bytes per channel)",
                worst, (unsigned long long)after,
                (double)worst / (double)(after ? after : 1));
  stress_report("churn_handoff_memory_flat",
                "%llu short-lived channels in %llu rounds by %d pairs; heap "
                "%zu bytes after warm-up, worst growth %zu bytes",
                (unsigned long long)channels, (unsigned long long)rounds,
                npairs, baseline, worst);
}

/* Channels closed with values still buffered, then destroyed: the buffer
 * must be freed with them (LSan), and what was buffered is still received
 * in order after the close. */
TEST(churn_close_with_buffered_values) {
  int64_t deadline = stress_begin("churn_close_with_buffered_values");
  test_rng r = test_rng_make(3);
  uint64_t channels = 0;
  size_t baseline = 0, worst = 0;
  do {
    for (int k = 0; k < 1000; k++) {
      size_t cap = 1 + test_rng_below(&r, 16);
      chan_t *ch = test_chan(8 + 8 * test_rng_below(&r, 8), cap);
      if (!ch)
        return;
      uint64_t v[8] = {0};
      size_t filled = test_rng_below(&r, cap + 1);
      for (size_t i = 0; i < filled; i++) {
        v[0] = i;
        CHECK_STATUS(chan_try_send(ch, v), CHAN_OK);
      }
      CHECK_STATUS(chan_close(ch), CHAN_OK);
      size_t take = test_rng_below(&r, filled + 1);
      for (size_t i = 0; i < take; i++) {
        CHECK_STATUS(chan_recv(ch, v), CHAN_OK);
        CHECK_EQ(v[0], i);
      }
      CHECK_EQ(chan_len(ch), filled - take);
      CHECK_STATUS(chan_destroy(ch), CHAN_OK);
      channels++;
    }
    size_t heap = stress_heap_in_use();
    if (channels == 2000)
      baseline = heap;
    else if (channels > 2000 && heap > baseline && heap - baseline > worst)
      worst = heap - baseline;
  } while (stress_before(deadline) || channels < 3000);
  if (worst > 256 * 1024)
    STRESS_FAIL("heap grew by %zu bytes after warm-up", worst);
  stress_report("churn_close_with_buffered_values",
                "%llu channels closed with values buffered and destroyed; "
                "worst heap growth %zu bytes",
                (unsigned long long)channels, worst);
}
