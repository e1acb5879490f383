/*
 * tbb.cc - oneTBB's concurrent_bounded_queue. Written against oneTBB
 * 2021.8 (Debian 12: libtbb-dev 2021.8.0-2+deb12u1); the row's library
 * string carries the package version found at configure.
 *
 * The library: a bounded MPMC FIFO. push and pop take a ticket from an
 * atomic counter and use one of several micro-queues of pages, so producers
 * and consumers rarely touch the same line; a push on a full queue or a pop
 * on an empty one spins briefly, then sleeps in TBB's concurrent_monitor (a
 * futex-based wait list) until a pop or push notifies it (BQ_BLOCKING).
 *
 * Semantics as mapped here (row "tbb"):
 *   - capacity n > 0 is set_capacity(n), exact (BQ_BOUNDED).
 *   - capacity 0 is refused. set_capacity(0) is no rendezvous: a push that
 *     arrives first waits for a pop to take its ticket, and that pop then
 *     spins waiting for the push to write the item while the push sleeps
 *     for a notification that never comes: a deadlock (seen here with
 *     oneTBB 2021.8: push on one thread, then pop or try_pop on another;
 *     both stay stuck). A pop that waits first does get the next push.
 *   - no close. abort() is not one: each push and pop notes an abort
 *     counter when it starts and abort() makes only the operations already
 *     waiting throw tbb::user_abort; an operation that starts after it waits
 *     forever, and nothing is drained first. A sticky close on top would need
 *     every send and receive to register in a shared counter (so close
 *     could abort until none is left), an extra contended atomic on the path
 *     being measured; the benchmark rounds end by message counts, not close,
 *     so the row has no BQ_CLOSE and close scenarios leave it out.
 *   - send/recv are push/pop; try_send/try_recv are try_push/try_pop.
 * Any element size up to 4096 bytes (peer_cxx.hpp's buckets).
 */
#include "peer_cxx.hpp"

#include <oneapi/tbb/concurrent_queue.h>

namespace {

template <class T> struct bounded final : peer::queue {
  bounded(std::size_t elem, std::size_t capacity) : peer::queue(elem) {
    q.set_capacity(static_cast<std::ptrdiff_t>(peer::buffered_capacity<T>(
        capacity, "capacity 0: concurrent_bounded_queue with capacity 0 is no "
                  "rendezvous (a push waiting before its pop deadlocks)")));
  }
  int send(const void *e) override {
    q.push(load<T>(e));
    return CHAN_OK;
  }
  int recv(void *e) override {
    return take_into<T>(e, [&](T &v) { q.pop(v); });
  }
  int try_send(const void *e) override {
    return q.try_push(load<T>(e)) ? CHAN_OK : CHAN_WOULD_BLOCK;
  }
  int try_recv(void *e) override {
    return try_take_into<T>(e, [&](T &v) { return q.try_pop(v); });
  }
  tbb::concurrent_bounded_queue<T> q;
};

} // namespace

extern "C" const struct bq_ops bq_peer_tbb = {
    "tbb",
    "oneTBB concurrent_bounded_queue (" PEER_PACKAGE ")",
    BQ_BOUNDED | BQ_TRY | BQ_MULTI_PRODUCER | BQ_MULTI_CONSUMER | BQ_BLOCKING |
        BQ_PAYLOAD,
    peer::make<bounded>,
    peer::send,
    peer::recv,
    peer::try_send,
    peer::try_recv,
    nullptr,
    peer::destroy,
    nullptr, /* competes: no floor */
    nullptr, /* no fiber scheduler of its own */
};
