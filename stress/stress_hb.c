/*
 * stress_hb.c - property: a send happens-before the matching receive.
 *
 * Plain (non-atomic) memory written before a send must be read intact after
 * the receive, and ThreadSanitizer must see the ordering (it reports a data
 * race otherwise, and the tsan preset halts on it):
 *   - ownership transfer: the value is a pointer to a heap object the
 *     sender filled; the receiver checks and frees it;
 *   - inline payloads of 1 byte to 4 KiB, checked byte for byte (a torn or
 *     stale copy shows as a wrong byte);
 *   - request/reply: the server writes into the client's stack object and
 *     then replies; the client reads the object after the reply.
 */
#include "stress.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>

#define WORDS 15

struct parcel {
  uint64_t seq;
  uint64_t words[WORDS]; /* plain memory, written only before the send */
};

struct exchange {
  chan_t *ch, *never;
  size_t elem_size;
  uint32_t per_producer;
  bool pointers;
  atomic_int producers_left;
  atomic_ullong received;
  uint64_t round;
};

struct hb_thread {
  struct exchange *x;
  uint32_t id;
};

static void fill_bytes(unsigned char *p, size_t n, uint64_t key) {
  uint64_t s = key;
  for (size_t i = 0; i < n; i++) {
    if (i % 8 == 0)
      s = stress_mix(key, i, 1);
    p[i] = (unsigned char)(s >> (8 * (i % 8)));
  }
}

static bool check_bytes(const unsigned char *p, size_t n, uint64_t key) {
  uint64_t s = key;
  for (size_t i = 0; i < n; i++) {
    if (i % 8 == 0)
      s = stress_mix(key, i, 1);
    if (p[i] != (unsigned char)(s >> (8 * (i % 8))))
      return false;
  }
  return true;
}

/* Inline payloads carry (producer, seq) in their first 8 bytes when there
 * is room; smaller ones are checked against a key the size allows. */
static uint64_t payload_key(struct exchange *x, uint32_t p, uint32_t s) {
  return stress_mix(x->round, p, s);
}

static void *hb_producer(void *arg) {
  struct hb_thread *t = arg;
  struct exchange *x = t->x;
  test_rng r = test_rng_make(x->round * 100 + t->id);
  unsigned char *buf = malloc(x->elem_size > 8 ? x->elem_size : 8);
  for (uint32_t s = 0; s < x->per_producer && !stress_failing(); s++) {
    struct parcel *parcel = NULL;
    if (x->pointers) {
      parcel = malloc(sizeof *parcel);
      parcel->seq = ((uint64_t)t->id << 32) | s;
      for (int w = 0; w < WORDS; w++)
        parcel->words[w] = stress_mix(parcel->seq, (uint64_t)w, 2);
      memcpy(buf, &parcel, sizeof parcel);
    } else if (x->elem_size >= 16) {
      uint32_t hdr[2] = {t->id, s};
      memcpy(buf, hdr, 8);
      fill_bytes(buf + 8, x->elem_size - 8, payload_key(x, t->id, s));
    } else {
      memset(buf, (int)(s & 0xff), x->elem_size);
    }
    int rc;
    do
      rc = stress_send_any(x->ch, buf, x->never, &r, STRESS_OPS_ANY);
    while (rc == CHAN_TIMEOUT || rc == CHAN_WOULD_BLOCK);
    if (rc != CHAN_OK) {
      STRESS_FAIL("send returned %s", chan_strerror(rc));
      free(parcel);
      break;
    }
  }
  free(buf);
  if (atomic_fetch_sub(&x->producers_left, 1) == 1)
    chan_close(x->ch);
  return NULL;
}

static void *hb_consumer(void *arg) {
  struct hb_thread *t = arg;
  struct exchange *x = t->x;
  test_rng r = test_rng_make(x->round * 100 + 50 + t->id);
  unsigned char *buf = malloc(x->elem_size > 8 ? x->elem_size : 8);
  uint64_t got = 0;
  for (;;) {
    int rc = stress_recv_any(x->ch, buf, x->never, &r, STRESS_OPS_ANY);
    if (rc == CHAN_CLOSED)
      break;
    if (rc != CHAN_OK)
      continue;
    got++;
    if (x->pointers) {
      struct parcel *p;
      memcpy(&p, buf, sizeof p);
      for (int w = 0; w < WORDS; w++)
        if (p->words[w] != stress_mix(p->seq, (uint64_t)w, 2)) {
          STRESS_FAIL("parcel %llx: word %d written before the send reads "
                      "%llx after the receive",
                      (unsigned long long)p->seq, w,
                      (unsigned long long)p->words[w]);
          break;
        }
      free(p);
    } else if (x->elem_size >= 16) {
      uint32_t hdr[2];
      memcpy(hdr, buf, 8);
      if (!check_bytes(buf + 8, x->elem_size - 8,
                       payload_key(x, hdr[0], hdr[1])))
        STRESS_FAIL("%zu-byte payload from producer %u seq %u arrived torn",
                    x->elem_size, hdr[0], hdr[1]);
    } else {
      for (size_t i = 1; i < x->elem_size; i++)
        if (buf[i] != buf[0])
          STRESS_FAIL("%zu-byte payload arrived torn", x->elem_size);
    }
  }
  free(buf);
  atomic_fetch_add(&x->received, got);
  return NULL;
}

static void run_exchange(const char *test, bool pointers) {
  int64_t deadline = stress_begin(test);
  static const size_t sizes[] = {1, 3, 16, 100, 1000, 4096};
  int n = stress_threads_or(6) / 2;
  chan_t *never = NULL;
  uint64_t rounds = 0, values = 0;
  do {
    size_t elem = pointers ? sizeof(void *) : sizes[rounds % 6];
    struct exchange x = {
        .ch = test_chan(elem, stress_capacity_or(rounds % 3 ? 0 : 4)),
        .elem_size = elem,
        .per_producer = (uint32_t)test_scale(elem > 1000 ? 500 : 2000),
        .pointers = pointers,
        .round = rounds};
    chan_make(&never, test_impl(), elem, 0);
    x.never = never;
    REQUIRE(x.ch && never);
    atomic_init(&x.producers_left, n);
    test_task tids[128];
    struct hb_thread ht[128];
    for (int i = 0; i < 2 * n; i++) {
      ht[i] = (struct hb_thread){&x, (uint32_t)(i / 2)};
      tids[i] = test_spawn(i % 2 ? hb_consumer : hb_producer, &ht[i]);
    }
    stress_join_all(tids, (size_t)(2 * n));
    uint64_t want = (uint64_t)n * x.per_producer;
    if (!stress_failing() && atomic_load(&x.received) != want)
      STRESS_FAIL("received %llu values of %llu",
                  (unsigned long long)atomic_load(&x.received),
                  (unsigned long long)want);
    values += atomic_load(&x.received);
    CHECK_STATUS(chan_destroy(x.ch), CHAN_OK);
    CHECK_STATUS(chan_destroy(never), CHAN_OK);
    rounds++;
  } while (stress_before(deadline));
  stress_report(test, "%llu rounds, %llu %s checked after the receive",
                (unsigned long long)rounds, (unsigned long long)values,
                pointers ? "heap parcels (plain memory)"
                         : "inline payloads of 1 B .. 4 KiB");
}

TEST(hb_owned_pointer_payload) {
  run_exchange("hb_owned_pointer_payload", true);
}

TEST(hb_inline_payload_intact) {
  run_exchange("hb_inline_payload_intact", false);
}

/* ---- request/reply through the client's stack -------------------------- */

struct request {
  uint64_t *answer; /* the client's stack; the server writes it */
  uint64_t question;
  chan_t *reply;
};

static void *server_main(void *arg) {
  chan_t *requests = arg;
  struct request rq;
  while (chan_recv(requests, &rq) == CHAN_OK) {
    for (int i = 0; i < 8; i++)
      rq.answer[i] = stress_mix(rq.question, (uint64_t)i, 3);
    char ok = 1;
    if (chan_send(rq.reply, &ok) != CHAN_OK)
      STRESS_FAIL("reply send failed");
  }
  return NULL;
}

struct client {
  chan_t *requests;
  chan_t *reply; /* destroyed by the test once the servers returned: a
                  * server may still be inside its last reply's send */
  uint32_t id, count;
};

static void *client_main(void *arg) {
  struct client *c = arg;
  chan_t *reply = c->reply;
  for (uint32_t i = 0; i < c->count && !stress_failing(); i++) {
    uint64_t answer[8]; /* plain stack memory the server fills */
    struct request rq = {answer, ((uint64_t)c->id << 32) | i, reply};
    char ok;
    if (chan_send(c->requests, &rq) != CHAN_OK ||
        chan_recv(reply, &ok) != CHAN_OK) {
      STRESS_FAIL("request/reply failed");
      break;
    }
    for (int k = 0; k < 8; k++)
      if (answer[k] != stress_mix(rq.question, (uint64_t)k, 3)) {
        STRESS_FAIL("answer word %d written by the server before its reply "
                    "is wrong after the reply",
                    k);
        break;
      }
  }
  return NULL;
}

TEST(hb_request_reply_stack_object) {
  int64_t deadline = stress_begin("hb_request_reply_stack_object");
  int n = stress_threads_or(6);
  int servers = n / 3 > 0 ? n / 3 : 1, clients = n - servers;
  if (clients > 60)
    clients = 60;
  uint64_t rounds = 0, requests = 0;
  do {
    chan_t *rq = test_chan(sizeof(struct request), rounds % 2 ? 0 : 8);
    REQUIRE(rq);
    test_task st[32], ct[64];
    struct client cs[64];
    for (int i = 0; i < servers && i < 32; i++)
      st[i] = test_spawn(server_main, rq);
    for (int i = 0; i < clients; i++) {
      cs[i] = (struct client){rq, test_chan(1, (size_t)i % 2), (uint32_t)i,
                              (uint32_t)test_scale(1000)};
      REQUIRE(cs[i].reply);
      ct[i] = test_spawn(client_main, &cs[i]);
    }
    stress_join_all(ct, (size_t)clients);
    chan_close(rq);
    stress_join_all(st, (size_t)(servers < 32 ? servers : 32));
    CHECK_STATUS(chan_destroy(rq), CHAN_OK);
    for (int i = 0; i < clients; i++)
      CHECK_STATUS(chan_destroy(cs[i].reply), CHAN_OK);
    requests += (uint64_t)clients * test_scale(1000);
    rounds++;
  } while (stress_before(deadline));
  stress_report("hb_request_reply_stack_object",
                "%llu rounds, %llu requests answered through the client's "
                "stack, %d servers, %d clients",
                (unsigned long long)rounds, (unsigned long long)requests,
                servers, clients);
}
