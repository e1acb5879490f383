/*
 * boost_fiber.cc - Boost.Fiber's channels, used from plain threads.
 * Written against Boost 1.74 (Debian 12: libboost-fiber-dev 1.74.0.3); the
 * row's library string carries the package version found at configure.
 *
 * The library: boost::fibers::buffered_channel<T> (a bounded MPMC ring under
 * a spinlock, with FIFO lists of waiting fibers) and unbuffered_channel<T>
 * (a lock-free stack of slots on the senders' stacks: a sender publishes its
 * value and sleeps until a receiver takes it), the closest thing to Go's
 * channels in C++: close, try (buffered only), timed operations.
 *
 * Semantics as mapped here (row "boost_fiber"), like Go's make(chan T, n):
 *   - capacity 0 is unbuffered_channel, a true rendezvous: push returns
 *     only once a receiver has taken the value (BQ_RENDEZVOUS);
 *   - capacity n > 0 is buffered_channel, whose power-of-two ring keeps one
 *     slot empty: it gets the ring of bq_ring_slots(n), which holds at most
 *     n (capacity 1 holds 1, 128 holds 127, 1024 holds 1023);
 *   - close: channel.close() wakes every waiting sender and receiver;
 *     receivers drain what is buffered, then get CHAN_CLOSED; a sender
 *     waiting in an unbuffered push gets CHAN_CLOSED if its value was not
 *     taken. A second close returns CHAN_EALREADY_CLOSED, as chanlab's.
 *     Defect of Boost 1.74 at capacity 0: close() leaves a waiting sender's
 *     slot (on that sender's stack) in the channel, so a pop() after the
 *     sender returned reads a dead stack frame; the adapter's receive checks
 *     is_closed() first, which covers close-then-receive (and the close
 *     storm, whose receivers wait in pop()), but a pop() already past that
 *     check when close() runs can still meet the dead slot, and close()
 *     racing a pop() can wake the sender twice. Closing an unbuffered
 *     channel while senders and receivers race is therefore not tested
 *     (peers_test races close at capacity 16 only) and not benchmarked.
 *   - blocking: every OS thread that touches Boost.Fiber runs its own main
 *     fiber with its own scheduler (round robin). A blocked push or pop
 *     suspends that fiber; with no other fiber ready the scheduler sleeps on
 *     a condition variable, and a sender on another thread makes it ready
 *     through the scheduler's remote ready queue and notifies the condition
 *     variable: the thread parks and wakes (BQ_BLOCKING; peers_test checks
 *     the parked thread sleeps in the kernel and uses no CPU).
 *   - try: buffered_channel's try_push/try_pop; unbuffered_channel has none,
 *     so try at capacity 0 refuses with CHAN_EINVAL and a reason (the
 *     try-ops scenario runs at capacity 128). send/recv/try map one to one.
 * Any element size up to 4096 bytes (peer_cxx.hpp's buckets).
 */
#include "peer_cxx.hpp"

#include <atomic>
#include <boost/fiber/buffered_channel.hpp>
#include <boost/fiber/unbuffered_channel.hpp>
#include <type_traits>

namespace {

using boost::fibers::buffered_channel;
using boost::fibers::channel_op_status;
using boost::fibers::unbuffered_channel;

int status(channel_op_status s) {
  return s == channel_op_status::success ? CHAN_OK : CHAN_CLOSED;
}

/* Either channel kind: push/pop/close are the same calls; only the buffered
 * one has try_push/try_pop. */
template <class Chan> struct channel : peer::queue {
  using T = typename Chan::value_type;
  static constexpr bool has_try = std::is_same_v<Chan, buffered_channel<T>>;

  template <class... A>
  explicit channel(std::size_t elem, A... args)
      : peer::queue(elem), ch(args...) {}

  int send(const void *e) override {
    return status(ch.push(load<T>(e)));
  }
  int recv(void *e) override {
    /* Boost 1.74's unbuffered close() wakes a waiting sender but leaves its
     * slot, which lives on the sender's stack, in the channel; the sender
     * returns "closed" and a later pop() would take the dead slot (a crash
     * seen here). Nothing is buffered at capacity 0, so once closed a
     * receive is CHAN_CLOSED without calling pop(). */
    if constexpr (!has_try)
      if (ch.is_closed())
        return CHAN_CLOSED;
    T v;
    channel_op_status s = ch.pop(v);
    if (s == channel_op_status::success)
      store(e, v);
    return status(s);
  }
  int try_send(const void *e) override {
    if constexpr (has_try) {
      channel_op_status s = ch.try_push(load<T>(e));
      return s == channel_op_status::full ? CHAN_WOULD_BLOCK : status(s);
    }
    return bq_fail(CHAN_EINVAL, "boost_fiber: unbuffered_channel (capacity "
                                "0) has no try_push");
  }
  int try_recv(void *e) override {
    if constexpr (has_try) {
      T v;
      channel_op_status s = ch.try_pop(v);
      if (s == channel_op_status::empty)
        return CHAN_WOULD_BLOCK;
      if (s == channel_op_status::success)
        store(e, v);
      return status(s);
    }
    return bq_fail(CHAN_EINVAL, "boost_fiber: unbuffered_channel (capacity "
                                "0) has no try_pop");
  }
  int close() override {
    /* Boost ignores a second close; chanlab reports it. */
    if (closed.exchange(true))
      return bq_fail(CHAN_EALREADY_CLOSED, "boost_fiber: closed twice");
    ch.close();
    return CHAN_OK;
  }

  Chan ch;
  std::atomic<bool> closed{false};
};

std::size_t ring_slots(std::size_t capacity) {
  std::size_t n = bq_ring_slots(capacity);
  if (n == 0)
    throw std::invalid_argument("capacity too large");
  return n;
}

template <class T> struct buffered final : channel<buffered_channel<T>> {
  buffered(std::size_t elem, std::size_t capacity)
      : channel<buffered_channel<T>>(elem, ring_slots(capacity)) {}
};

template <class T> struct unbuffered final : channel<unbuffered_channel<T>> {
  unbuffered(std::size_t elem, std::size_t)
      : channel<unbuffered_channel<T>>(elem) {}
};

int make(void **q, std::size_t elem_size, std::size_t capacity) {
  return capacity == 0 ? peer::make<unbuffered>(q, elem_size, capacity)
                       : peer::make<buffered>(q, elem_size, capacity);
}

} // namespace

extern "C" const struct bq_ops bq_peer_boost_fiber = {
    "boost_fiber",
    "Boost.Fiber (" PEER_PACKAGE ")",
    BQ_CLOSE | BQ_RENDEZVOUS | BQ_BOUNDED | BQ_TRY | BQ_MULTI_PRODUCER |
        BQ_MULTI_CONSUMER | BQ_BLOCKING | BQ_PAYLOAD,
    make,
    peer::send,
    peer::recv,
    peer::try_send,
    peer::try_recv,
    peer::close,
    peer::destroy,
};
