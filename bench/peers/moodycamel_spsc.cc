/*
 * moodycamel_spsc.cc - moodycamel::BlockingReaderWriterCircularBuffer,
 * header-only. Written against readerwriterqueue 1.0.6 (Debian 12:
 * libreaderwriterqueue-dev 1.0.6-1); the row's library string carries the
 * package version found at configure.
 *
 * The library: a bounded single-producer single-consumer ring with two
 * counting semaphores (free slots and items; LightweightSemaphore: spin,
 * then a POSIX semaphore) that a full send or an empty receive sleeps on.
 *
 * Semantics as mapped here (row "moodycamel_spsc"):
 *   - one sender and one receiver at a time (no BQ_MULTI_*);
 *   - capacity n > 0 holds exactly n (BQ_BOUNDED); capacity 0 is refused
 *     (no rendezvous: a send would wait forever for a free slot);
 *   - no close (the library has none);
 *   - send/recv are wait_enqueue/wait_dequeue, which park (BQ_BLOCKING);
 *     try_send/try_recv are try_enqueue/try_dequeue.
 * Any element size up to 4096 bytes (peer_cxx.hpp's buckets).
 */
#include "peer_cxx.hpp"

#include <readerwriterqueue/readerwritercircularbuffer.h>

namespace {

template <class T> struct ring final : peer::queue {
  ring(std::size_t elem, std::size_t capacity)
      : peer::queue(elem),
        q(peer::buffered_capacity<T>(
            capacity, "capacity 0: the circular buffer is not a rendezvous")) {}
  int send(const void *e) override {
    q.wait_enqueue(load<T>(e));
    return CHAN_OK;
  }
  int recv(void *e) override {
    return take_into<T>(e, [&](T &v) { q.wait_dequeue(v); });
  }
  int try_send(const void *e) override {
    return q.try_enqueue(load<T>(e)) ? CHAN_OK : CHAN_WOULD_BLOCK;
  }
  int try_recv(void *e) override {
    return try_take_into<T>(e, [&](T &v) { return q.try_dequeue(v); });
  }
  moodycamel::BlockingReaderWriterCircularBuffer<T> q;
};

} // namespace

extern "C" const struct bq_ops bq_peer_moodycamel_spsc = {
    "moodycamel_spsc",
    "moodycamel BlockingReaderWriterCircularBuffer (" PEER_PACKAGE ")",
    BQ_BOUNDED | BQ_TRY | BQ_BLOCKING | BQ_PAYLOAD,
    peer::make<ring>,
    peer::send,
    peer::recv,
    peer::try_send,
    peer::try_recv,
    nullptr,
    peer::destroy,
    nullptr, /* competes: no floor */
    nullptr, /* no fiber scheduler of its own */
};
