/*
 * moodycamel_mpmc.cc - moodycamel::BlockingConcurrentQueue, header-only.
 * Written against concurrentqueue 1.0.3 (Debian 12: libconcurrentqueue-dev
 * 1.0.3+ds-1); the row's library string carries the package version found
 * at configure.
 *
 * The library: an unbounded lock-free MPMC queue made of one sub-queue per
 * producer (blocks of elements, allocated as needed), plus a counting
 * semaphore (LightweightSemaphore: spin about 10000 times, then a POSIX
 * semaphore) that wait_dequeue sleeps on when the queue is empty. Items of
 * one producer come out in its order; there is no order across producers.
 *
 * Semantics as mapped here (row "moodycamel_mpmc"):
 *   - unbounded: no BQ_BOUNDED. The capacity (> 0) only sizes the initial
 *     allocation; a send never blocks. Capacity 0 is refused (it is no
 *     rendezvous).
 *   - no close (the library has none).
 *   - send is enqueue (implicit per-thread producer, no tokens; CHAN_ENOMEM
 *     if it cannot allocate); recv is wait_dequeue, which parks
 *     (BQ_BLOCKING); try_send is enqueue too (it never blocks); try_recv is
 *     try_dequeue.
 * Any element size up to 4096 bytes (peer_cxx.hpp's buckets).
 */
#include "peer_cxx.hpp"

#include <concurrentqueue/blockingconcurrentqueue.h>

namespace {

template <class T> struct unbounded final : peer::queue {
  unbounded(std::size_t elem, std::size_t capacity)
      : peer::queue(elem),
        q(peer::buffered_capacity<T>(
            capacity, "capacity 0: BlockingConcurrentQueue is unbounded, "
                      "not a rendezvous")) {}
  int send(const void *e) override {
    if (!q.enqueue(load<T>(e)))
      return bq_fail(CHAN_ENOMEM, "moodycamel_mpmc: enqueue failed to "
                                  "allocate");
    return CHAN_OK;
  }
  int recv(void *e) override {
    return take_into<T>(e, [&](T &v) { q.wait_dequeue(v); });
  }
  int try_send(const void *e) override {
    return send(e);
  }
  int try_recv(void *e) override {
    return try_take_into<T>(e, [&](T &v) { return q.try_dequeue(v); });
  }
  moodycamel::BlockingConcurrentQueue<T> q;
};

} // namespace

extern "C" const struct bq_ops bq_peer_moodycamel_mpmc = {
    "moodycamel_mpmc",
    "moodycamel BlockingConcurrentQueue (" PEER_PACKAGE ")",
    BQ_TRY | BQ_MULTI_PRODUCER | BQ_MULTI_CONSUMER | BQ_BLOCKING | BQ_PAYLOAD,
    peer::make<unbounded>,
    peer::send,
    peer::recv,
    peer::try_send,
    peer::try_recv,
    nullptr,
    peer::destroy,
    nullptr, /* competes: no floor */
    nullptr, /* no fiber scheduler of its own */
};
