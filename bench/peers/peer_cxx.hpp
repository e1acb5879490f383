/*
 * peer_cxx.hpp - what the C++ adapters share.
 *
 * C++ queues are templates over a fixed element type, while a bq_ops row
 * takes any element size at make time. An adapter is a class template
 * Q<T> derived from peer::queue; peer::make<Q> instantiates it for the
 * smallest element bucket (8, 64, 256, 1024 or 4096 bytes) that holds
 * elem_size and copies exactly elem_size bytes in and out, so the payload
 * sizes chanbench uses (0, 8, 64, 256, 1024, 4096) move no extra bytes
 * (size 0 moves an 8-byte bucket with nothing copied into it). Elements
 * above 4096 bytes are refused at make.
 *
 * The C entry points (peer::send, ...) make one virtual call into the
 * adapter and turn any exception into a negative status with the reason in
 * bq_error(), so no exception ever crosses into C.
 */
#ifndef CHAN_BENCH_PEER_CXX_HPP
#define CHAN_BENCH_PEER_CXX_HPP

#include "peers.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <new>
#include <stdexcept>

namespace peer {

constexpr std::size_t max_elem = 4096;

template <std::size_t N> struct blob { unsigned char bytes[N]; };

/* The type-erased queue behind a bq_ops row's void *q. Operations a
 * library lacks refuse with a reason (the row's features say which). */
struct queue {
  explicit queue(std::size_t elem) : elem_size(elem) {}
  virtual ~queue() = default;
  virtual int send(const void *elem) = 0;
  virtual int recv(void *elem) = 0;
  virtual int try_send(const void *) {
    return bq_fail(CHAN_EINVAL, "this queue has no non-blocking send");
  }
  virtual int try_recv(void *) {
    return bq_fail(CHAN_EINVAL, "this queue has no non-blocking receive");
  }
  virtual int close() {
    return bq_fail(CHAN_EINVAL, "this queue has no close");
  }

  template <class T> T load(const void *elem) const {
    T v;
    std::memcpy(&v, elem, elem_size);
    return v;
  }
  template <class T> void store(void *elem, const T &v) const {
    std::memcpy(elem, &v, elem_size);
  }
  /* A receive: take(v) fills a T, which is copied out to elem. */
  template <class T, class Take> int take_into(void *elem, Take &&take) {
    T v;
    take(v);
    store(elem, v);
    return CHAN_OK;
  }
  /* A non-blocking receive: try_take(v) is false when there is nothing. */
  template <class T, class TryTake>
  int try_take_into(void *elem, TryTake &&try_take) {
    T v;
    if (!try_take(v))
      return CHAN_WOULD_BLOCK;
    store(elem, v);
    return CHAN_OK;
  }

  const std::size_t elem_size;
};

/* capacity, or std::invalid_argument if that many T could not be
 * allocated at all (libraries that preallocate do not all check). */
template <class T> std::size_t fitting(std::size_t capacity) {
  if (capacity > static_cast<std::size_t>(PTRDIFF_MAX) / sizeof(T) / 2)
    throw std::invalid_argument("capacity too large");
  return capacity;
}

/* The capacity of a queue without a rendezvous: refused (with why_not_zero)
 * if 0, or if too large to allocate. */
template <class T>
std::size_t buffered_capacity(std::size_t capacity, const char *why_not_zero) {
  if (capacity == 0)
    throw std::invalid_argument(why_not_zero);
  return fitting<T>(capacity);
}

/* Runs f, turning exceptions into a status and a reason. */
template <class F> int guarded(const char *what, F &&f) {
  try {
    return f();
  } catch (const std::bad_alloc &) {
    return bq_fail(CHAN_ENOMEM, "%s: out of memory", what);
  } catch (const std::exception &e) {
    return bq_fail(CHAN_EINVAL, "%s: %s", what, e.what());
  } catch (...) {
    return bq_fail(CHAN_EINVAL, "%s: unknown exception", what);
  }
}

/* bq_ops.make for adapter template Q: Q<blob<N>>(elem_size, capacity),
 * whose constructor throws std::invalid_argument for what it refuses. */
template <template <class> class Q>
int make(void **out, std::size_t elem_size, std::size_t capacity) {
  if (!out)
    return bq_fail(CHAN_EINVAL, "make: NULL result pointer");
  if (elem_size > max_elem)
    return bq_fail(CHAN_EINVAL,
                   "make: elements up to %zu bytes (the largest bucket), "
                   "not %zu",
                   max_elem, elem_size);
  return guarded("make", [&] {
    queue *q;
    if (elem_size <= 8)
      q = new Q<blob<8>>(elem_size, capacity);
    else if (elem_size <= 64)
      q = new Q<blob<64>>(elem_size, capacity);
    else if (elem_size <= 256)
      q = new Q<blob<256>>(elem_size, capacity);
    else if (elem_size <= 1024)
      q = new Q<blob<1024>>(elem_size, capacity);
    else
      q = new Q<blob<max_elem>>(elem_size, capacity);
    *out = q;
    return CHAN_OK;
  });
}

inline int send(void *q, const void *elem) {
  return guarded("send", [&] { return static_cast<queue *>(q)->send(elem); });
}
inline int recv(void *q, void *elem) {
  return guarded("recv", [&] { return static_cast<queue *>(q)->recv(elem); });
}
inline int try_send(void *q, const void *elem) {
  return guarded("try_send",
                 [&] { return static_cast<queue *>(q)->try_send(elem); });
}
inline int try_recv(void *q, void *elem) {
  return guarded("try_recv",
                 [&] { return static_cast<queue *>(q)->try_recv(elem); });
}
inline int close(void *q) {
  return guarded("close", [&] { return static_cast<queue *>(q)->close(); });
}
inline void destroy(void *q) {
  delete static_cast<queue *>(q);
}

} // namespace peer

#endif /* CHAN_BENCH_PEER_CXX_HPP */
