/*
 * boost_fiber.cc - Boost.Fiber's channels, used from plain threads and on
 * Boost.Fiber's own scheduler.
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
 *
 * On Boost.Fiber's own scheduler (bq_ops.fibers, exec:fiber rows): a pool
 * of one worker thread per usable PU (worker w pinned to the w-th PU of the
 * process's affinity mask, as chanlab's fiber runtime pins its workers),
 * each running algo::work_stealing(N) with Boost's default suspend = false:
 * while fibers run, an idle worker spins stealing from the others (Boost's
 * choice; with suspend = true a sleeping worker is woken only by a fiber
 * readied on it from another thread and never steals, so every fiber would
 * stay on the worker that spawned it). work_stealing keeps its schedulers
 * and a barrier in statics, so there is one pool per process, started on
 * first use and kept until shutdown(). The workers are started with
 * pthread_create rather than std::thread, whose call is inside libstdc++:
 * chanbench wraps pthread_create at link time to count every worker's
 * allocations (bench/alloc_wrap.c), as it does for chanlab's runtime.
 * Between runs the workers do not spin: each one's main fiber blocks its
 * thread on a std::condition_variable (so its dispatcher does not run).
 * run() hands the job to them there; worker 0's main fiber spawns the n
 * fibers (256 KiB mmap'd stacks with a guard page, as chanlab's fibers
 * have), which wait at a gate, tells the caller they exist, and joins
 * them; the other workers' main fibers wait on a fiber condition variable
 * meanwhile, which suspends them and lets their dispatchers steal and run
 * fibers. The caller, a plain thread outside the pool, calls go() and
 * opens the gate (Boost.Fiber's mutex and condition variable work across
 * threads: the caller's thread gets a main fiber of its own on first use).
 * When the fibers are joined, worker 0 releases the others and the caller
 * is woken once every worker is back at its idle wait.
 *
 *   shared state            protected by                  waited on by
 *   generation, stop, job,  pool.m (std::mutex)           idle workers and the
 *   spawned, workers_done                                 caller: pool.cv
 *   fibers_done             pool.fm (fibers::mutex)       workers 1..N-1 in a
 *                                                         job: pool.fcv
 *   gate state              gate.m (fibers::mutex)        the job's fibers
 */
#include "peer_cxx.hpp"

#include <atomic>
#include <boost/fiber/algo/work_stealing.hpp>
#include <boost/fiber/buffered_channel.hpp>
#include <boost/fiber/condition_variable.hpp>
#include <boost/fiber/fiber.hpp>
#include <boost/fiber/mutex.hpp>
#include <boost/fiber/operations.hpp>
#include <boost/fiber/protected_fixedsize_stack.hpp>
#include <boost/fiber/unbuffered_channel.hpp>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <pthread.h>
#include <sched.h>
#include <string>
#include <type_traits>
#include <vector>

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

/* ---- Boost.Fiber's own scheduler (bq_fibers) ---------------------------- */

constexpr std::size_t fiber_stack = 256 << 10;

/* The job's fibers wait here until all are spawned (or the spawning failed
 * and they must not run). */
struct gate {
  enum state { waiting, go, cancel };
  boost::fibers::mutex m;
  boost::fibers::condition_variable cv;
  state s = waiting;

  bool wait() {
    std::unique_lock<boost::fibers::mutex> lk(m);
    cv.wait(lk, [this] { return s != waiting; });
    return s == go;
  }
  void open(state to) {
    {
      std::lock_guard<boost::fibers::mutex> lk(m);
      s = to;
    }
    cv.notify_all();
  }
};

struct job {
  std::size_t n;
  void (*task)(void *, std::size_t);
  void *arg;
  gate g;
  bool spawned = false; /* worker 0 is done spawning (pool.m) */
  int status;           /* worker 0's: CHAN_OK or why the fibers could not
                           start */
  std::string error;
};

struct pool {
  std::mutex m;
  std::condition_variable cv;
  std::uint64_t generation = 0; /* of the current job; 0 before the first */
  bool stop = false;
  job *current = nullptr;
  unsigned workers_done = 0;

  boost::fibers::mutex fm;
  boost::fibers::condition_variable fcv;
  std::uint64_t fibers_done = 0; /* generation whose fibers are joined */

  std::vector<pthread_t> threads;
  std::vector<int> cpus;
};

pool *the_pool;         /* started on first use, until shutdown() */
std::string pool_error; /* why it could not start */
bool shut_down;         /* work_stealing cannot be set up twice */
std::mutex pool_start;  /* guards the three above */

/* Worker 0's part of a job: spawn the fibers behind the gate, tell the
 * caller (who opens it; on a failure it is cancelled here and no task
 * runs), join them. */
void launch(pool *p, job &j) {
  std::vector<boost::fibers::fiber> fibers;
  int rc = CHAN_OK;
  try {
    fibers.reserve(j.n);
    for (std::size_t i = 0; i < j.n; i++)
      fibers.emplace_back(std::allocator_arg,
                          boost::fibers::protected_fixedsize_stack(fiber_stack),
                          [&j, i] {
                            if (j.g.wait())
                              j.task(j.arg, i);
                          });
  } catch (const std::exception &e) {
    rc = CHAN_ENOMEM;
    j.error = std::string("cannot spawn a Boost.Fiber fiber: ") + e.what();
    j.g.open(gate::cancel);
  }
  {
    std::lock_guard<std::mutex> lk(p->m);
    j.status = rc;
    j.spawned = true;
  }
  p->cv.notify_all();
  for (auto &f : fibers)
    f.join();
}

void worker(pool *p, unsigned w, unsigned nworkers) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(p->cpus[w], &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set); /* best effort */
  /* Every worker must install it: its constructor waits for all N. */
  boost::fibers::use_scheduling_algorithm<boost::fibers::algo::work_stealing>(
      nworkers);
  for (std::uint64_t seen = 0;;) {
    job *j;
    {
      /* Idle: the thread blocks here, so its dispatcher does not spin. */
      std::unique_lock<std::mutex> lk(p->m);
      p->cv.wait(lk, [&] { return p->stop || p->generation != seen; });
      if (p->stop)
        return;
      seen = p->generation;
      j = p->current;
    }
    if (w == 0) {
      launch(p, *j);
      {
        std::lock_guard<boost::fibers::mutex> lk(p->fm);
        p->fibers_done = seen;
      }
      p->fcv.notify_all();
    } else {
      /* Suspends this main fiber: the dispatcher steals and runs fibers. */
      std::unique_lock<boost::fibers::mutex> lk(p->fm);
      p->fcv.wait(lk, [&] { return p->fibers_done == seen; });
    }
    std::lock_guard<std::mutex> lk(p->m);
    if (++p->workers_done == nworkers)
      p->cv.notify_all();
  }
}

/* A worker thread's start (pthread_create). */
struct worker_start {
  pool *p;
  unsigned w, n;
};

void *worker_main(void *arg) {
  std::unique_ptr<worker_start> s(static_cast<worker_start *>(arg));
  worker(s->p, s->w, s->n);
  return nullptr;
}

/* The pool, started on first use; NULL with *status and bq_error() set if
 * it cannot be. */
pool *get_pool(int *status) {
  std::lock_guard<std::mutex> lk(pool_start);
  if (the_pool)
    return the_pool;
  if (shut_down) {
    *status = bq_fail(CHAN_EINVAL,
                      "boost_fiber: the scheduler was shut down "
                      "(work_stealing cannot be set up twice in a process)");
    return nullptr;
  }
  if (!pool_error.empty()) {
    *status = bq_fail(CHAN_ENOMEM, "%s", pool_error.c_str());
    return nullptr;
  }
  auto p = std::make_unique<pool>();
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; c++)
      if (CPU_ISSET(c, &set))
        p->cpus.push_back(c);
  }
  if (p->cpus.empty())
    p->cpus.push_back(0);
  unsigned n = static_cast<unsigned>(p->cpus.size());
  p->threads.reserve(n);
  for (unsigned w = 0; w < n; w++) {
    pthread_t t;
    auto *s = new (std::nothrow) worker_start{p.get(), w, n};
    int rc = s ? pthread_create(&t, nullptr, worker_main, s) : ENOMEM;
    if (rc != 0) {
      delete s;
      /* The started workers wait in work_stealing's barrier for the
       * missing ones, for good: leave them (and their pool) behind. */
      for (pthread_t started : p->threads)
        pthread_detach(started);
      p.release();
      pool_error = std::string("boost_fiber: cannot start the work_stealing "
                               "workers: ") +
                   std::strerror(rc);
      *status = bq_fail(CHAN_ENOMEM, "%s", pool_error.c_str());
      return nullptr;
    }
    p->threads.push_back(t);
  }
  the_pool = p.release();
  return the_pool;
}

unsigned fibers_workers() {
  int status;
  pool *p = get_pool(&status);
  return p ? static_cast<unsigned>(p->threads.size()) : 0;
}

int fibers_run(std::size_t n, void (*task)(void *, std::size_t),
               void (*go)(void *), void *arg) {
  if (n == 0 || !task)
    return bq_fail(CHAN_EINVAL, "boost_fiber: run needs tasks");
  int status;
  pool *p = get_pool(&status);
  if (!p)
    return status;
  job j{n, task, arg, {}, false, CHAN_OK, {}};
  std::unique_lock<std::mutex> lk(p->m);
  p->current = &j;
  p->workers_done = 0;
  p->generation++;
  p->cv.notify_all();
  p->cv.wait(lk, [&] { return j.spawned; });
  if (j.status == CHAN_OK) {
    lk.unlock();
    if (go)
      go(arg);
    j.g.open(gate::go);
    lk.lock();
  }
  p->cv.wait(lk, [&] { return p->workers_done == p->threads.size(); });
  p->current = nullptr;
  if (j.status != CHAN_OK)
    return bq_fail(j.status, "%s", j.error.c_str());
  return CHAN_OK;
}

void fibers_shutdown() {
  std::lock_guard<std::mutex> start(pool_start);
  pool *p = the_pool;
  if (!p)
    return;
  {
    std::lock_guard<std::mutex> lk(p->m);
    p->stop = true;
  }
  p->cv.notify_all();
  for (pthread_t t : p->threads)
    pthread_join(t, nullptr);
  shut_down = true; /* later runs are refused */
  the_pool = nullptr;
  delete p;
}

const struct bq_fibers scheduler = {
    "Boost.Fiber algo::work_stealing, one pinned worker per PU",
    fibers_run,
    fibers_workers,
    fibers_shutdown,
};

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
    nullptr, /* competes: no floor */
    &scheduler,
};
