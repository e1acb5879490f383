//! chanpeers - Rust's crossbeam-channel, flume and tokio on chanlab's
//! scenarios.
//!
//! The Rust counterpart of bench/go (Go's channels): the same scenarios as
//! chanbench where they apply, the same round structure, and the same JSON
//! schema (Google Benchmark's), with benchmark names "impl:crossbeam",
//! "impl:flume" and "impl:tokio", so the results land in the same tables and
//! plots. tokio's rows (tokio::sync::mpsc between tasks of its multi-thread
//! runtime, and Go's pattern and goroutine benchmarks as tasks) are made in
//! tokio_peer.rs, which says how they differ; what follows is about the two
//! crates used from OS threads.
//!
//!   pingpong     round trip over two unbuffered channels; mean, and
//!                p50/p99/p99.9 from chanbench's log-linear histogram
//!   spsc mpsc spmc mpmc
//!                fixed message counts split evenly over the role threads,
//!                capacities 0/1/128/1024, 2.. producers (consumers) up to
//!                4x the PUs, n x n with 2n up to 4x the PUs
//!   payload      SPSC, capacity 128, messages of 0..4096 bytes
//!   select_recv  one producer sends round-robin on k channels, one consumer
//!                selects over all k receive cases (k 2/4/8/16, capacity 0
//!                and 128): crossbeam's Select, flume's Selector (which is a
//!                builder consumed by each wait, so it is rebuilt per message)
//!
//! A round starts its role threads together at a barrier (each pinned first,
//! as chanbench pins: place_ffi.c calls chanbench's hwloc placement code),
//! moves a fixed number of messages, and is timed from the first role's
//! start to the last one's end; rounds repeat until --min-time is measured,
//! and the reported time is wall time per message. Every consumer sums what
//! it receives, and the round fails the program (exit 1, naming the
//! benchmark) unless the sum and count match what was sent; a round that
//! does not end within 60 s (a lost value leaves a consumer waiting) fails
//! it too.
//!
//! Counters as chanbench's: cpu_ns_per_msg (and cpu_time) is the role
//! threads' CPU time (CLOCK_THREAD_CPUTIME_ID) per message, vcsw_per_msg
//! their voluntary context switches (getrusage RUSAGE_THREAD),
//! alloc_bytes_per_op and allocs_per_op what they allocated (a counting
//! global allocator; a thread's first use of a crate may allocate once),
//! noise_other_pct and noise_steal_pct what other processes and the
//! hypervisor took from the machine during the repetition (/proc/stat, as
//! chanbench and gochan measure it; none under 50 ms).
//!
//! The suites are chanbench's for a peer: the quick one measures ping-pong
//! unpinned and across cores, and unpinned SPSC at capacities 0, 128 and
//! 1024, the sweeps at cap 128 up to 4 threads a side, unbuffered MPMC 2x2,
//! payloads of 0 and 4096 bytes and select over 4, with 6 repetitions of
//! 0.08 s; --full every configuration on every placement with 10 of 0.2 s. Every repetition is
//! its own entry (repetition_index; no aggregate rows: chanlab_results.py
//! computes medians and intervals), and the repetitions of all benchmarks
//! run in a random interleaved order.
//!
//! Flags: chanbench's and gochan's (see USAGE below), which scripts/run.sh
//! passes to every program of a run.

use std::alloc::{GlobalAlloc, Layout, System};
use std::ffi::CStr;
use std::fmt::Write as _;
use std::os::raw::{c_char, c_int};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant};

use nanorand::Rng as _;

mod tokio_peer;

// ---- allocation counting ---------------------------------------------------

/// The system allocator, counting each thread's allocations (calls and
/// bytes) for alloc_bytes_per_op and allocs_per_op.
struct Counting;

// Atomics only so that another thread may read them (tokio.rs sums its
// runtime's workers'); the owner alone writes, with a plain load and store.
thread_local! {
    static ALLOC_CALLS: AtomicU64 = const { AtomicU64::new(0) };
    static ALLOC_BYTES: AtomicU64 = const { AtomicU64::new(0) };
}

fn count_alloc(size: usize) {
    // try_with: nothing to count while the thread is being torn down.
    let _ = ALLOC_CALLS.try_with(|c| c.store(c.load(Ordering::Relaxed) + 1, Ordering::Relaxed));
    let _ = ALLOC_BYTES.try_with(|b| {
        b.store(b.load(Ordering::Relaxed) + size as u64, Ordering::Relaxed)
    });
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_alloc(layout.size());
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count_alloc(layout.size());
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_alloc(new_size);
        System.realloc(ptr, layout, new_size)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

// ---- placement (chanbench's, through place_ffi.c) --------------------------

extern "C" {
    fn chanpeers_place_open(err: *mut c_char, len: usize) -> c_int;
    fn chanpeers_place_classes() -> c_int;
    fn chanpeers_place_pus() -> c_int;
    fn chanpeers_place_name(c: c_int) -> *const c_char;
    fn chanpeers_place_available(c: c_int) -> c_int;
    fn chanpeers_place_note(c: c_int) -> *const c_char;
    fn chanpeers_place_cpu(c: c_int, side: c_int, k: c_int) -> c_int;
    fn chanpeers_place_pin(cpu: c_int) -> c_int;
}

fn cstr(p: *const c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

#[derive(Clone)]
struct Place {
    class: i32,
    name: String,
}

// ---- per-thread costs and time ---------------------------------------------

#[derive(Default, Clone, Copy)]
struct Cost {
    cpu_ns: i64,
    vcsw: i64,
    alloc_bytes: u64,
    alloc_calls: u64,
}

impl Cost {
    fn now() -> Cost {
        let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        unsafe {
            libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts);
            libc::getrusage(libc::RUSAGE_THREAD, &mut ru);
        }
        Cost {
            cpu_ns: ts.tv_sec as i64 * 1_000_000_000 + ts.tv_nsec as i64,
            vcsw: ru.ru_nvcsw as i64,
            alloc_bytes: ALLOC_BYTES.with(|b| b.load(Ordering::Relaxed)),
            alloc_calls: ALLOC_CALLS.with(|c| c.load(Ordering::Relaxed)),
        }
    }
    fn add_delta(&mut self, a: &Cost, b: &Cost) {
        self.cpu_ns += b.cpu_ns - a.cpu_ns;
        self.vcsw += b.vcsw - a.vcsw;
        self.alloc_bytes += b.alloc_bytes - a.alloc_bytes;
        self.alloc_calls += b.alloc_calls - a.alloc_calls;
    }
}

/// Nanoseconds since the program started (monotonic).
fn now_ns(epoch: Instant) -> u64 {
    epoch.elapsed().as_nanos() as u64
}

// ---- latency histogram (chanbench's bench_common.c, same buckets) -----------

const HIST_BUCKETS: usize = 64 + 40 * 32;

struct Hist {
    count: Vec<u64>,
    n: u64,
}

impl Hist {
    fn new() -> Hist {
        Hist { count: vec![0; HIST_BUCKETS], n: 0 }
    }
    /// Exact below 64 ns, then 32 sub-buckets per power of two.
    fn index(v: u64) -> usize {
        if v < 64 {
            return v as usize;
        }
        let msb = 63 - v.leading_zeros() as usize;
        let idx = 64 + (msb - 6) * 32 + ((v >> (msb - 5)) & 31) as usize;
        idx.min(HIST_BUCKETS - 1)
    }
    fn upper(idx: usize) -> f64 {
        if idx < 64 {
            return idx as f64;
        }
        let (msb, sub) = ((idx - 64) / 32 + 6, (idx - 64) % 32);
        ((32 + sub as u64 + 1) << (msb - 5)) as f64
    }
    fn add(&mut self, ns: u64) {
        self.count[Hist::index(ns)] += 1;
        self.n += 1;
    }
    fn merge(&mut self, other: &Hist) {
        for (a, b) in self.count.iter_mut().zip(&other.count) {
            *a += b;
        }
        self.n += other.n;
    }
    /// The upper edge of the bucket holding quantile q.
    fn quantile(&self, q: f64) -> f64 {
        if self.n == 0 {
            return 0.0;
        }
        let rank = (q * (self.n - 1) as f64) as u64 + 1;
        let mut seen = 0;
        for (i, c) in self.count.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Hist::upper(i);
            }
        }
        Hist::upper(HIST_BUCKETS - 1)
    }
}

// ---- the two crates behind one small interface -------------------------------

/// A sending end: put blocks while the channel is full; false if closed.
trait Tx<T>: Send + Sync + 'static {
    fn put(&self, v: T) -> bool;
}
/// A receiving end: get blocks while the channel is empty; None if closed.
trait Rx<T>: Send + Sync + 'static {
    fn get(&self) -> Option<T>;
}
/// Receiving with a select over several channels of u64.
trait SelectRx: Rx<u64> + Sized {
    /// Receives n values, each with one select over all of rxs; their sum.
    fn select_sum(rxs: &[Self], n: u64) -> Option<u64>;
}

/// Both crates' ends have the same blocking send and recv.
macro_rules! ends {
    ($krate:ident) => {
        impl<T: Send + 'static> Tx<T> for $krate::Sender<T> {
            fn put(&self, v: T) -> bool {
                self.send(v).is_ok()
            }
        }
        impl<T: Send + 'static> Rx<T> for $krate::Receiver<T> {
            fn get(&self) -> Option<T> {
                self.recv().ok()
            }
        }
    };
}
ends!(crossbeam_channel);
ends!(flume);

impl SelectRx for crossbeam_channel::Receiver<u64> {
    fn select_sum(rxs: &[Self], n: u64) -> Option<u64> {
        let mut sel = crossbeam_channel::Select::new();
        for r in rxs {
            sel.recv(r);
        }
        let mut sum = 0u64;
        for _ in 0..n {
            let op = sel.select();
            let i = op.index();
            sum = sum.wrapping_add(op.recv(&rxs[i]).ok()?);
        }
        Some(sum)
    }
}

impl SelectRx for flume::Receiver<u64> {
    fn select_sum(rxs: &[Self], n: u64) -> Option<u64> {
        let mut sum = 0u64;
        for _ in 0..n {
            // flume's Selector is consumed by wait(): one per message.
            let mut sel = flume::Selector::new();
            for r in rxs {
                sel = sel.recv(r, |v| v.ok());
            }
            sum = sum.wrapping_add(sel.wait()?);
        }
        Some(sum)
    }
}

/// A message: u64, or N bytes carrying the value in their first 8.
trait Message: Send + 'static {
    fn of(i: u64) -> Self;
    /// The value it carries (0 if it has fewer than 8 bytes).
    fn value(&self) -> u64;
}
impl<const N: usize> Message for [u8; N] {
    fn of(i: u64) -> Self {
        let mut m = [0u8; N];
        if N >= 8 {
            m[..8].copy_from_slice(&i.to_ne_bytes());
        }
        m
    }
    fn value(&self) -> u64 {
        let mut v = [0u8; 8];
        if N >= 8 {
            v.copy_from_slice(&self[..8]);
        }
        u64::from_ne_bytes(v)
    }
}
impl Message for u64 {
    fn of(i: u64) -> Self {
        i
    }
    fn value(&self) -> u64 {
        *self
    }
}

// ---- rounds ------------------------------------------------------------------

/// Set while a round runs: the watchdog fails the program if it overruns.
static ROUND_DEADLINE_NS: AtomicU64 = AtomicU64::new(0);
static CURRENT: Mutex<String> = Mutex::new(String::new());
const ROUND_LIMIT: Duration = Duration::from_secs(60);

fn fail(name: &str, msg: &str) -> ! {
    eprintln!("chanpeers: {name}: {msg}");
    std::process::exit(1);
}

fn start_watchdog(epoch: Instant) {
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_millis(500));
        let d = ROUND_DEADLINE_NS.load(Ordering::Acquire);
        if d != 0 && now_ns(epoch) > d {
            let name = CURRENT.lock().map(|n| n.clone()).unwrap_or_default();
            fail(
                &name,
                "a round did not finish in 60 s: a value was lost (consumers wait for their \
                 fixed counts) or a thread is stuck",
            );
        }
    });
}

/// What one role thread reports.
struct RoleOut {
    t_start: u64,
    t_end: u64,
    cost: Cost,
    sum: u64,
    count: u64,
    hist: Option<Hist>,
    err: Option<String>,
}

/// Worker k of n's share of total.
fn split(total: u64, n: u64, k: u64) -> u64 {
    total / n + u64::from(k < total % n)
}

struct Round {
    elapsed_ns: u64,
    cost: Cost,
    hist: Option<Hist>,
}

struct Ctx {
    epoch: Instant,
}

/// Runs one round: n0 threads run f0 (side 0) and n1 run f1 (side 1), each
/// with its share of total0 / total1, pinned by place and started together.
/// Each function gets (k, count) and returns (sum, count, hist) or an error.
fn round<F0, F1>(ctx: &Ctx, place: &Place, n0: u64, f0: F0, total0: u64, n1: u64, f1: F1,
                 total1: u64) -> Result<(Round, u64, u64, u64, u64), String>
where
    F0: Fn(u64, u64) -> Result<(u64, u64, Option<Hist>), String> + Sync,
    F1: Fn(u64, u64) -> Result<(u64, u64, Option<Hist>), String> + Sync,
{
    let barrier = Barrier::new((n0 + n1) as usize);
    let epoch = ctx.epoch;
    let outs: Vec<RoleOut> = std::thread::scope(|s| {
        let mut handles = Vec::new();
        for side in 0..2u64 {
            let n = if side == 0 { n0 } else { n1 };
            for k in 0..n {
                let count = split(if side == 0 { total0 } else { total1 }, n, k);
                let (barrier, f0, f1, class) = (&barrier, &f0, &f1, place.class);
                handles.push(s.spawn(move || {
                    let cpu = unsafe { chanpeers_place_cpu(class, side as c_int, k as c_int) };
                    let pin = unsafe { chanpeers_place_pin(cpu) };
                    barrier.wait();
                    let c0 = Cost::now();
                    let t_start = now_ns(epoch);
                    let r = if pin != 0 {
                        Err(format!("cannot pin to PU {cpu}: errno {pin}"))
                    } else if side == 0 {
                        f0(k, count)
                    } else {
                        f1(k, count)
                    };
                    let t_end = now_ns(epoch);
                    let mut cost = Cost::default();
                    cost.add_delta(&c0, &Cost::now());
                    match r {
                        Ok((sum, count, hist)) => {
                            RoleOut { t_start, t_end, cost, sum, count, hist, err: None }
                        }
                        Err(e) => RoleOut {
                            t_start, t_end, cost, sum: 0, count: 0, hist: None,
                            err: Some(format!("{} {k}: {e}",
                                              if side == 0 { "producer" } else { "consumer" })),
                        },
                    }
                }));
            }
        }
        handles.into_iter().map(|h| h.join().expect("role thread panicked")).collect()
    });
    let mut r = Round { elapsed_ns: 0, cost: Cost::default(), hist: None };
    let (mut t0, mut t1) = (u64::MAX, 0);
    let (mut sums, mut counts) = ([0u64; 2], [0u64; 2]);
    for (i, o) in outs.into_iter().enumerate() {
        if let Some(e) = o.err {
            return Err(e);
        }
        let side = usize::from(i as u64 >= n0);
        t0 = t0.min(o.t_start);
        t1 = t1.max(o.t_end);
        r.cost.add_delta(&Cost::default(), &o.cost);
        sums[side] = sums[side].wrapping_add(o.sum);
        counts[side] += o.count;
        if let Some(h) = o.hist {
            r.hist.get_or_insert_with(Hist::new).merge(&h);
        }
    }
    r.elapsed_ns = t1.saturating_sub(t0);
    Ok((r, sums[0], counts[0], sums[1], counts[1]))
}

/// A measured benchmark: its rounds' total time, messages and costs, and
/// what the rest of the machine did meanwhile.
struct Measured {
    ns: u64,
    msgs: u64,
    cost: Cost,
    hist: Option<Hist>,
    noise: Option<(f64, f64)>, // (other processes' CPU %, steal %)
}

impl Measured {
    fn new() -> Measured {
        Measured { ns: 0, msgs: 0, cost: Cost::default(), hist: None, noise: None }
    }
    fn add(&mut self, r: Round, msgs: u64) {
        self.ns += r.elapsed_ns;
        self.msgs += msgs;
        self.cost.add_delta(&Cost::default(), &r.cost);
        if let Some(h) = r.hist {
            self.hist.get_or_insert_with(Hist::new).merge(&h);
        }
    }
}

// ---- noise: what else the machine did (/proc/stat), as chanbench and gochan --

/// /proc/stat's first line: CPU time every process used and the time the
/// hypervisor stole, in ns; and this process's CPU clock and the wall clock.
struct Machine {
    busy_ns: i64,
    steal_ns: i64,
    self_ns: i64,
    wall: Instant,
}

fn clock_ns(clock: libc::clockid_t) -> i64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts.tv_sec as i64 * 1_000_000_000 + ts.tv_nsec as i64
}

fn machine() -> Option<Machine> {
    let tick_ns = 1_000_000_000 / unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as i64;
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let f: Vec<i64> = stat.lines().next()?.split_whitespace().skip(1)
        .map(|x| x.parse().unwrap_or(0)).collect();
    if f.len() < 7 {
        return None;
    }
    // user nice system idle iowait irq softirq steal
    Some(Machine {
        busy_ns: (f[0] + f[1] + f[2] + f[5] + f[6]) * tick_ns,
        steal_ns: f.get(7).copied().unwrap_or(0) * tick_ns,
        self_ns: clock_ns(libc::CLOCK_PROCESS_CPUTIME_ID),
        wall: Instant::now(),
    })
}

/// (other processes' CPU, steal) as shares of the machine's capacity between
/// a and b; None under 50 ms, where 10 ms ticks say nothing.
fn noise(a: &Option<Machine>, b: &Option<Machine>, pus: u64) -> Option<(f64, f64)> {
    let (a, b) = (a.as_ref()?, b.as_ref()?);
    let wall = b.wall.duration_since(a.wall).as_nanos() as f64;
    if wall < 50e6 {
        return None;
    }
    let capacity = wall * pus as f64;
    let other = ((b.busy_ns - a.busy_ns) - (b.self_ns - a.self_ns)) as f64;
    let steal = (b.steal_ns - a.steal_ns) as f64;
    Some(((100.0 * other / capacity).clamp(0.0, 100.0),
          (100.0 * steal / capacity).clamp(0.0, 100.0)))
}

/// One repetition: repeats round_fn (one round of `msgs` messages) until
/// min_time is measured, between two noise snapshots. A round's check
/// failure ends the program.
fn measure(name: &str, cfg: &Config, epoch: Instant, pus: u64, msgs: u64,
           mut round_fn: impl FnMut() -> Result<Round, String>) -> Measured {
    let mut m = Measured::new();
    *CURRENT.lock().unwrap() = name.to_string();
    let before = machine();
    while m.ns < (cfg.min_time * 1e9) as u64 || m.msgs == 0 {
        ROUND_DEADLINE_NS.store(now_ns(epoch) + ROUND_LIMIT.as_nanos() as u64, Ordering::Release);
        let r = round_fn().unwrap_or_else(|e| fail(name, &e));
        ROUND_DEADLINE_NS.store(0, Ordering::Release);
        m.add(r, msgs);
    }
    m.noise = noise(&before, &machine(), pus);
    m
}

/// Producers send value i (as a T) for i in 0..count, consumers receive
/// their counts; the sums and counts of both sides must match.
fn throughput<T, S, R>(ctx: &Ctx, place: &Place, make: fn(usize) -> (S, R), cap: usize,
                       p: u64, c: u64, msgs: u64) -> Result<Round, String>
where
    T: Message,
    S: Tx<T>,
    R: Rx<T>,
{
    let (tx, rx) = make(cap);
    let produce = |_k: u64, n: u64| {
        let mut sum = 0u64;
        for i in 0..n {
            let m = T::of(i);
            sum = sum.wrapping_add(m.value());
            if !tx.put(m) {
                return Err(format!("send failed at message {i}"));
            }
        }
        Ok((sum, n, None))
    };
    let consume = |_k: u64, n: u64| {
        let mut sum = 0u64;
        for i in 0..n {
            match rx.get() {
                Some(v) => sum = sum.wrapping_add(v.value()),
                None => return Err(format!("receive failed at message {i}")),
            }
        }
        Ok((sum, n, None))
    };
    let (r, s0, n0, s1, n1) = round(ctx, place, p, produce, msgs, c, consume, msgs)?;
    if s0 != s1 || n0 != n1 {
        return Err(format!("sent {n0} values summing to {s0}, received {n1} summing to {s1}"));
    }
    Ok(r)
}

fn pingpong<S, R>(ctx: &Ctx, place: &Place, make: fn(usize) -> (S, R), trips: u64)
                  -> Result<Round, String>
where
    S: Tx<u64>,
    R: Rx<u64>,
{
    let ((ping_tx, ping_rx), (pong_tx, pong_rx)) = (make(0), make(0));
    let epoch = ctx.epoch;
    let initiator = |_k: u64, n: u64| {
        let mut hist = Hist::new();
        for i in 0..n {
            let t = now_ns(epoch);
            if !ping_tx.put(i) {
                return Err("send ping failed".to_string());
            }
            match pong_rx.get() {
                Some(v) if v == i => {}
                Some(v) => return Err(format!("pong {v} for ping {i}")),
                None => return Err("receive pong failed".to_string()),
            }
            hist.add(now_ns(epoch) - t);
        }
        Ok((0, n, Some(hist)))
    };
    let echo = |_k: u64, n: u64| {
        for _ in 0..n {
            let v = ping_rx.get().ok_or_else(|| "receive ping failed".to_string())?;
            if !pong_tx.put(v) {
                return Err("send pong failed".to_string());
            }
        }
        Ok((0, n, None))
    };
    let (r, _, _, _, _) = round(ctx, place, 1, initiator, trips, 1, echo, trips)?;
    Ok(r)
}

fn select_recv<S, R>(ctx: &Ctx, place: &Place, make: fn(usize) -> (S, R), k: usize, cap: usize,
                     msgs: u64) -> Result<Round, String>
where
    S: Tx<u64>,
    R: SelectRx,
{
    let (txs, rxs): (Vec<S>, Vec<R>) = (0..k).map(|_| make(cap)).unzip();
    let produce = |_k: u64, n: u64| {
        let mut sum = 0u64;
        for i in 0..n {
            if !txs[(i % k as u64) as usize].put(i) {
                return Err(format!("send failed at message {i}"));
            }
            sum = sum.wrapping_add(i);
        }
        Ok((sum, n, None))
    };
    let consume = |_k: u64, n: u64| {
        R::select_sum(&rxs, n).map(|s| (s, n, None)).ok_or_else(|| "select failed".to_string())
    };
    let (r, s0, n0, s1, n1) = round(ctx, place, 1, produce, msgs, 1, consume, msgs)?;
    if s0 != s1 || n0 != n1 {
        return Err(format!("sent {n0} values summing to {s0}, received {n1} summing to {s1}"));
    }
    Ok(r)
}

// ---- results -------------------------------------------------------------------

fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json_num(v: f64) -> String {
    if v.is_finite() {
        format!("{v}")
    } else {
        "0".to_string()
    }
}

/// One benchmark entry in Google Benchmark's JSON schema.
fn entry(name: &str, m: &Measured, reps: u32, rep: u32, bytes_per_msg: Option<u64>) -> String {
    let msgs = m.msgs.max(1) as f64;
    let per_msg = m.ns as f64 / msgs;
    let cpu = m.cost.cpu_ns as f64 / msgs;
    let mut fields = vec![
        ("name", json_str(name)),
        ("run_name", json_str(name)),
        ("run_type", json_str("iteration")),
        ("repetitions", reps.to_string()),
        ("repetition_index", rep.to_string()),
        ("threads", "1".to_string()),
        ("iterations", m.msgs.to_string()),
        ("real_time", json_num(per_msg)),
        ("cpu_time", json_num(cpu)),
        ("time_unit", json_str("ns")),
        ("items_per_second", json_num(msgs / (m.ns.max(1) as f64 * 1e-9))),
        ("cpu_ns_per_msg", json_num(cpu)),
        ("vcsw_per_msg", json_num(m.cost.vcsw as f64 / msgs)),
        ("alloc_bytes_per_op", json_num(m.cost.alloc_bytes as f64 / msgs)),
        ("allocs_per_op", json_num(m.cost.alloc_calls as f64 / msgs)),
    ];
    if let Some(b) = bytes_per_msg {
        fields.push(("bytes_per_second", json_num(msgs * b as f64 / (m.ns.max(1) as f64 * 1e-9))));
    }
    if let Some((other, steal)) = m.noise {
        fields.push(("noise_other_pct", json_num(other)));
        fields.push(("noise_steal_pct", json_num(steal)));
    }
    if let Some(h) = &m.hist {
        fields.push(("p50_ns", json_num(h.quantile(0.50))));
        fields.push(("p99_ns", json_num(h.quantile(0.99))));
        fields.push(("p999_ns", json_num(h.quantile(0.999))));
    }
    let body: Vec<String> = fields.iter().map(|(k, v)| format!("      \"{k}\": {v}")).collect();
    format!("    {{\n{}\n    }}", body.join(",\n"))
}

// ---- command line ------------------------------------------------------------------

const IMPLS: [&str; 3] = ["crossbeam", "flume", "tokio"];

struct Config {
    full: bool,
    min_time: f64,
    messages: u64,
    repetitions: u32,
    out: Option<String>,
    filter: Option<(bool, regex::Regex)>, // (negated, pattern)
    impls: Vec<String>,
    scenarios: Option<Vec<String>>, // names or globs; None: all
    placements: Option<Vec<String>>,
    interleave: bool,
    progress: bool,
    list: bool,
}

// The suites, as chanbench's (bench/main.c): repetitions, seconds per
// repetition, messages per round.
const QUICK: (u32, f64, u64) = (6, 0.08, 20000);
const FULL: (u32, f64, u64) = (10, 0.2, 50000);

const USAGE: &str = "usage: chanpeers [options]

crossbeam-channel, flume and tokio on chanlab's scenarios, in Google Benchmark's
JSON schema (impl:crossbeam, impl:flume, impl:tokio). Flags as chanbench's and gochan's
(--x=v and --x v; Go's single-dash forms and Google Benchmark's --benchmark_x
spellings work too):
  -q, --quick            the quick suite (default): chanbench's quick
                         configurations, 6 repetitions of 0.08 s
  -f, --full             every configuration on every placement, 10
                         repetitions of 0.2 s
  -i, --impl LIST        crossbeam,flume,tokio (default all)
  -s, --scenario LIST    scenarios, names or globs (pingpong, spsc, mpsc,
                         spmc, mpmc, payload, select_recv; tokio also
                         pattern_*, spawn, switch; others are chanbench's)
  -p, --placement LIST   placement classes (chanbench's)
  -F, --filter REGEX     only benchmarks whose name matches (a leading '-'
                         negates)
  -r, --repetitions N    repetitions of each benchmark (default 6 quick, 10 full)
  -t, --min-time S       seconds per repetition (default 0.08 quick, 0.2 full)
  -m, --messages N       messages per round (default 20000 quick, 50000 full)
  -o, --out FILE         write the JSON here (default: stdout)
      --no-interleave    each benchmark's repetitions back to back (default:
                         all repetitions in a random interleaved order)
      --no-progress      no progress lines on stderr
  -l, --list             list the benchmarks that would run
  -h, --help             this help
The quick suite takes about 45 s on 2 PUs, --full about 18 minutes (--list
estimates it on this machine).
Exit status: 2 for bad input or when no benchmark matches, 1 when a consumer
lost or duplicated a value or a round did not finish in 60 s.";

fn usage_error(msg: &str) -> ! {
    eprintln!("chanpeers: {msg}\n(chanpeers --help lists the flags)");
    std::process::exit(2);
}

/// Shell-style glob match ('*' and '?'), for --scenario as chanbench's.
fn glob(pat: &[u8], s: &[u8]) -> bool {
    match (pat.first(), s.first()) {
        (None, None) => true,
        (Some(b'*'), _) => glob(&pat[1..], s) || (!s.is_empty() && glob(pat, &s[1..])),
        (Some(b'?'), Some(_)) => glob(&pat[1..], &s[1..]),
        (Some(p), Some(c)) if p == c => glob(&pat[1..], &s[1..]),
        _ => false,
    }
}

fn list_of(what: &str, value: &str, known: Option<&[&str]>) -> Vec<String> {
    let items: Vec<String> =
        value.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect();
    if items.is_empty() {
        usage_error(&format!("empty {what} list"));
    }
    if let Some(known) = known {
        for i in &items {
            if !known.contains(&i.as_str()) {
                usage_error(&format!("unknown {what} '{i}' (known: {})", known.join(",")));
            }
        }
    }
    items
}

fn parse_args(place_names: &[String]) -> Config {
    let mut cfg = Config {
        full: false, min_time: 0.0, messages: 0, repetitions: 0, out: None, filter: None,
        impls: IMPLS.iter().map(|s| s.to_string()).collect(),
        scenarios: None, placements: None, interleave: true, progress: true, list: false,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        let flag = a.strip_prefix("--").or_else(|| a.strip_prefix('-'))
            .unwrap_or_else(|| usage_error(&format!("unknown argument '{a}'")));
        let (key, inline) = match flag.split_once('=') {
            Some((k, v)) => (k, Some(v.to_string())),
            None => (flag, None),
        };
        // One spelling per flag: Google Benchmark's prefix and '-' vs '_' do
        // not matter; single letters are chanbench's short options.
        let key = key.strip_prefix("benchmark_").unwrap_or(key).replace('-', "_");
        let key = match key.as_str() {
            "q" => "quick", "f" => "full", "i" => "impl", "s" => "scenario", "p" => "placement",
            "F" => "filter", "r" => "repetitions", "t" => "min_time", "m" => "messages",
            "o" => "out", "l" => "list", "h" => "help", k => k,
        }.to_string();
        let mut value = || -> String {
            if let Some(v) = &inline {
                return v.clone();
            }
            i += 1;
            args.get(i).cloned().unwrap_or_else(|| usage_error(&format!("{a} needs a value")))
        };
        match key.as_str() {
            "quick" => cfg.full = false,
            "full" => cfg.full = true,
            "list" | "list_tests" => cfg.list = true,
            "no_interleave" => cfg.interleave = false,
            "no_progress" => cfg.progress = false,
            "help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            "min_time" => {
                let v = value();
                cfg.min_time = v.parse().ok().filter(|t: &f64| *t > 0.0 && *t <= 60.0)
                    .unwrap_or_else(|| usage_error(&format!(
                        "bad --min-time '{v}' (seconds, more than 0 and at most 60)")));
            }
            "messages" => {
                let v = value();
                cfg.messages = v.parse().ok().filter(|n| *n > 0 && *n <= 1 << 32)
                    .unwrap_or_else(|| usage_error(&format!("bad --messages '{v}' (1..2^32)")));
            }
            "repetitions" => {
                let v = value();
                cfg.repetitions = v.parse().ok().filter(|n| *n > 0 && *n <= 1000)
                    .unwrap_or_else(|| usage_error(&format!("bad --repetitions '{v}' (1..1000)")));
            }
            "out" => {
                let v = value();
                if v.is_empty() {
                    usage_error("empty --out");
                }
                cfg.out = Some(v);
            }
            "out_format" => {
                let v = value();
                if v != "json" {
                    usage_error(&format!("only JSON output, not '{v}'"));
                }
            }
            "enable_random_interleaving" => cfg.interleave = value() != "false",
            "filter" => {
                let v = value();
                if v.is_empty() {
                    usage_error("empty --filter");
                }
                let (neg, pat) = match v.strip_prefix('-') {
                    Some(p) => (true, p.to_string()),
                    None => (false, v.clone()),
                };
                let re = regex::Regex::new(&pat)
                    .unwrap_or_else(|e| usage_error(&format!("bad --filter '{v}': {e}")));
                cfg.filter = Some((neg, re));
            }
            "impl" => {
                let v = value();
                if v != "all" {
                    cfg.impls = list_of("implementation", &v, Some(&IMPLS));
                }
            }
            "scenario" => cfg.scenarios = Some(list_of("scenario", &value(), None)),
            "placement" => {
                let known: Vec<&str> = place_names.iter().map(String::as_str).collect();
                cfg.placements = Some(list_of("placement", &value(), Some(&known)));
            }
            _ => usage_error(&format!("unknown argument '{a}'")),
        }
        i += 1;
    }
    let (reps, min_time, messages) = if cfg.full { FULL } else { QUICK };
    if cfg.repetitions == 0 {
        cfg.repetitions = reps;
    }
    if cfg.min_time == 0.0 {
        cfg.min_time = min_time;
    }
    if cfg.messages == 0 {
        cfg.messages = messages;
    }
    cfg
}

// ---- the suite ----------------------------------------------------------------------

/// One benchmark to run: its name and how to run one round of it.
struct Bench {
    name: String,
    msgs: u64,
    bytes: Option<u64>,
    run: Box<dyn Fn(&Ctx) -> Result<Round, String>>,
}

fn payload_bench<const N: usize, S, R>(v: &mut Vec<Bench>, prefix: &str, pl: &Place,
                                       make: fn(usize) -> (S, R), msgs: u64)
where
    S: Tx<[u8; N]>,
    R: Rx<[u8; N]>,
{
    let pl = pl.clone();
    v.push(Bench {
        name: format!("payload/impl:{prefix}/place:{}/bytes:{N}/cap:128/manual_time", pl.name),
        msgs,
        bytes: Some(N as u64),
        run: Box::new(move |ctx| throughput::<[u8; N], S, R>(ctx, &pl, make, 128, 1, 1, msgs)),
    });
}

/// chanbench's quick suite for a peer (bench/scenarios/throughput.c
/// in_quick, bench_common.c suite_measures): SPSC at capacities 0, 128 and
/// 1024 and the sweeps at capacity 128 up to 4 threads a side, and
/// unbuffered MPMC 2x2, all unpinned; the full suite has every
/// configuration on every placement.
fn in_quick(shape: &str, cap: usize, n: u64) -> bool {
    if shape == "spsc" {
        return cap != 1;
    }
    (cap == 128 && n <= 4) || (cap == 0 && n == 2 && shape == "mpmc")
}

/// Registers every scenario for one crate ($krate::bounded), in chanbench's
/// shapes and suites: ping-pong on `pp` (every placement; in the quick suite
/// unpinned and across cores), SPSC on `all` (every placement; unpinned in
/// the quick suite), the sweeps on `sweep` (unpinned in the quick suite).
macro_rules! register {
    ($v:expr, $cfg:expr, $name:expr, $pp:expr, $all:expr, $sweep:expr, $pus:expr,
     $krate:ident) => {{
        let (v, cfg, name, pp, all, sweep): (&mut Vec<Bench>, &Config, &str, &[Place], &[Place],
                                             &[Place]) = ($v, $cfg, $name, $pp, $all, $sweep);
        let msgs = cfg.messages;
        let make8 = $krate::bounded::<u64>;
        let trips = if cfg.full { 5000 } else { 2000 };
        for pl in pp {
            let pl = pl.clone();
            v.push(Bench {
                name: format!("pingpong/impl:{name}/place:{}/manual_time", pl.name),
                msgs: trips,
                bytes: None,
                run: Box::new(move |ctx| pingpong(ctx, &pl, make8, trips)),
            });
        }
        let max_threads = 4 * $pus;
        for cap in [0usize, 1, 128, 1024] {
            let mut shapes: Vec<(&str, u64, u64, u64, &[Place])> = vec![("spsc", 1, 1, 1, all)];
            let mut n = 2;
            while n <= max_threads {
                shapes.push(("mpsc", n, 1, n, sweep));
                shapes.push(("spmc", 1, n, n, sweep));
                if 2 * n <= max_threads {
                    shapes.push(("mpmc", n, n, n, sweep));
                }
                n *= 2;
            }
            for (shape, p, c, n, places) in shapes {
                for pl in places {
                    if !cfg.full && !in_quick(shape, cap, n) {
                        continue;
                    }
                    let pl = pl.clone();
                    v.push(Bench {
                        name: format!(
                            "{shape}/impl:{name}/place:{}/cap:{cap}/p:{p}/c:{c}/manual_time",
                            pl.name),
                        msgs,
                        bytes: Some(8),
                        run: Box::new(move |ctx| throughput(ctx, &pl, make8, cap, p, c, msgs)),
                    });
                }
            }
        }
        for pl in sweep {
            // quick: empty messages (a signal) and a page, as chanbench's
            if cfg.full {
                payload_bench::<8, _, _>(v, name, pl, $krate::bounded::<[u8; 8]>, msgs);
                payload_bench::<64, _, _>(v, name, pl, $krate::bounded::<[u8; 64]>, msgs);
                payload_bench::<256, _, _>(v, name, pl, $krate::bounded::<[u8; 256]>, msgs);
                payload_bench::<1024, _, _>(v, name, pl, $krate::bounded::<[u8; 1024]>, msgs);
            }
            payload_bench::<0, _, _>(v, name, pl, $krate::bounded::<[u8; 0]>, msgs);
            payload_bench::<4096, _, _>(v, name, pl, $krate::bounded::<[u8; 4096]>, msgs);
        }
        for pl in sweep {
            for cap in [0usize, 128] {
                for k in [2usize, 4, 8, 16] {
                    if !cfg.full && k != 4 {
                        continue; // quick: k 4 at both capacities, as chanbench's
                    }
                    let pl = pl.clone();
                    v.push(Bench {
                        name: format!(
                            "select_recv/impl:{name}/place:{}/k:{k}/cap:{cap}/p:1/c:1/manual_time",
                            pl.name),
                        msgs,
                        bytes: None,
                        run: Box::new(move |ctx| select_recv(ctx, &pl, make8, k, cap, msgs)),
                    });
                }
            }
        }
    }};
}

fn clock(secs: f64) -> String {
    let s = secs.round() as u64;
    format!("{}:{:02}", s / 60, s % 60)
}

fn main() {
    let epoch = Instant::now();
    let mut err = [0 as c_char; 256];
    if unsafe { chanpeers_place_open(err.as_mut_ptr(), err.len()) } != 0 {
        eprintln!("chanpeers: {}", cstr(err.as_ptr()));
        std::process::exit(2);
    }
    let classes = unsafe { chanpeers_place_classes() };
    let pus = unsafe { chanpeers_place_pus() }.max(1) as u64;
    let place_names: Vec<String> =
        (0..classes).map(|c| cstr(unsafe { chanpeers_place_name(c) })).collect();
    let cfg = parse_args(&place_names);

    // Placements as chanbench chooses them (bench_common.c suite_placements):
    // every selected class the machine has where all_in_quick, else only
    // "unpinned" in the quick suite; the missing ones go into the context.
    let mut context: Vec<(String, String)> = Vec::new();
    let mut selected: Vec<Place> = Vec::new();
    for c in 0..classes {
        let name = place_names[c as usize].clone();
        let note = cstr(unsafe { chanpeers_place_note(c) });
        let wanted = cfg.placements.as_ref().map_or(true, |l| l.contains(&name));
        let available = unsafe { chanpeers_place_available(c) } != 0;
        if wanted && !available {
            eprintln!("chanpeers: placement {name} {note}");
        }
        context.push((format!("placement.{name}"), note));
        if wanted && available {
            selected.push(Place { class: c, name });
        }
    }
    // The full suite: every selected placement for everything. The quick
    // one, as chanbench's for a peer (bench_common.c suite_measures):
    // unpinned, and for ping-pong also across cores (the nearest pinned
    // class with two PUs); the first selected placement if "unpinned" is not.
    let cross = selected.iter().find(|p| p.name != "same_pu" && p.name != "unpinned").cloned();
    let mut sweep: Vec<Place> = if cfg.full {
        selected.clone()
    } else {
        selected.iter().filter(|p| p.name == "unpinned").cloned().collect()
    };
    if sweep.is_empty() {
        sweep.extend(selected.first().cloned());
    }
    let pp: Vec<Place> = if cfg.full {
        selected.clone()
    } else {
        sweep.iter().cloned().chain(cross.filter(|c| !sweep.iter().any(|s| s.name == c.name)))
            .collect()
    };
    let all = if cfg.full { selected.clone() } else { sweep.clone() };

    let mut benches: Vec<Bench> = Vec::new();
    for name in &cfg.impls {
        match name.as_str() {
            "crossbeam" => {
                register!(&mut benches, &cfg, name, &pp, &all, &sweep, pus, crossbeam_channel)
            }
            "flume" => register!(&mut benches, &cfg, name, &pp, &all, &sweep, pus, flume),
            // Tasks cannot be pinned: tokio's rows are place:unpinned only.
            _ if sweep.iter().any(|p| p.name == "unpinned") => {
                tokio_peer::register(&mut benches, &cfg, pus, &mut context)
            }
            _ => context.push(("absent.all.tokio".to_string(),
                               "tokio's tasks cannot be pinned: its rows are place:unpinned, \
                                and --placement left unpinned out".to_string())),
        }
    }
    benches.retain(|b| {
        let scenario = b.name.split('/').next().unwrap_or("");
        cfg.scenarios.as_ref().map_or(true, |l| {
            l.iter().any(|g| glob(g.as_bytes(), scenario.as_bytes()))
        }) && cfg.filter.as_ref().map_or(true, |(neg, re)| re.is_match(&b.name) != *neg)
    });
    if benches.is_empty() {
        eprintln!("chanpeers: no benchmark matches the filters (--scenario, --filter, --impl)");
        std::process::exit(2);
    }
    if cfg.list {
        for b in &benches {
            println!("{}", b.name);
        }
        // A repetition takes about 1.5x its minimum time (chanbench's
        // estimate; starting threads and making channels).
        let minutes = benches.len() as f64 * cfg.repetitions as f64 * cfg.min_time * 1.5 / 60.0;
        println!("{} benchmarks x {} repetitions of {} s: about {minutes:.1} minutes",
                 benches.len(), cfg.repetitions, cfg.min_time);
        return;
    }

    // Every repetition of every benchmark, in a random order (as chanbench's
    // --benchmark_enable_random_interleaving and gochan), so that a slow
    // spell of a shared machine spreads over many rows.
    let mut order: Vec<(usize, u32)> = (0..benches.len())
        .flat_map(|b| (0..cfg.repetitions).map(move |r| (b, r)))
        .collect();
    if cfg.interleave {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1);
        nanorand::WyRand::new_seed(seed).shuffle(&mut order);
    }
    start_watchdog(epoch);
    let ctx = Ctx { epoch };
    // Per benchmark and repetition: its JSON entry and time per message.
    let mut results: Vec<Vec<Option<(String, f64)>>> =
        vec![vec![None; cfg.repetitions as usize]; benches.len()];
    let (t0, mut last_print) = (Instant::now(), Instant::now());
    for (done, &(b, rep)) in order.iter().enumerate() {
        if cfg.progress && done > 0 && last_print.elapsed() >= Duration::from_secs(10) {
            last_print = Instant::now();
            let elapsed = t0.elapsed().as_secs_f64();
            let left = elapsed / done as f64 * (order.len() - done) as f64;
            eprintln!("chanpeers: {done}/{} repetitions done ({:.0}%), {} elapsed, about {} left",
                      order.len(), 100.0 * done as f64 / order.len() as f64, clock(elapsed),
                      clock(left));
        }
        let bench = &benches[b];
        let m = measure(&bench.name, &cfg, epoch, pus, bench.msgs, || (bench.run)(&ctx));
        let per_msg = m.ns as f64 / m.msgs as f64;
        results[b][rep as usize] =
            Some((entry(&bench.name, &m, cfg.repetitions, rep, bench.bytes), per_msg));
    }
    // Each benchmark's repetitions in the order of their index, as Google
    // Benchmark writes them.
    let mut rows = Vec::new();
    for (b, reps) in results.into_iter().enumerate() {
        for (json, per_msg) in reps.into_iter().flatten() {
            eprintln!("{:<70} {:10.1} ns {:12.0} msg/s", benches[b].name, per_msg, 1e9 / per_msg);
            rows.push(json);
        }
    }

    // The context, with the keys bench/go writes and chanbench's chanlab.*.
    let libraries = env!("CHANPEERS_LIBRARIES");
    for lib in libraries.split(';').filter(|l| !l.is_empty()) {
        if let Some((k, v)) = lib.split_once('=') {
            context.push((format!("library.{k}"), v.to_string()));
        }
    }
    // tokio's line says how its rows are made (build.sh gave the package).
    if cfg.impls.iter().any(|i| i == "tokio") {
        if let Some((_, v)) = context.iter_mut().find(|(k, _)| k == "library.tokio") {
            *v = tokio_peer::library(v, pus);
        }
        context.push(("tokio.worker_threads".to_string(), pus.to_string()));
    }
    let mut host = [0 as c_char; 256];
    unsafe { libc::gethostname(host.as_mut_ptr(), host.len() - 1) };
    let date = {
        let out = std::process::Command::new("date").arg("-u").arg("+%Y-%m-%dT%H:%M:%SZ").output();
        out.map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string()).unwrap_or_default()
    };
    let exe = std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default();
    let mut ctx_fields = vec![
        ("date".to_string(), json_str(&date)),
        ("host_name".to_string(), json_str(&cstr(host.as_ptr()))),
        ("executable".to_string(), json_str(&exe)),
        ("num_cpus".to_string(), pus.to_string()),
        ("rustc_version".to_string(), json_str(env!("CHANPEERS_RUSTC"))),
        ("library_build_type".to_string(), json_str("release")),
        ("chanlab.impls".to_string(), json_str(&cfg.impls.join(","))),
        ("chanlab.suite".to_string(), json_str(if cfg.full { "full" } else { "quick" })),
        ("chanlab.pus".to_string(), json_str(&pus.to_string())),
        ("chanlab.messages_per_round".to_string(), json_str(&cfg.messages.to_string())),
        ("chanlab.repetitions".to_string(), json_str(&cfg.repetitions.to_string())),
    ];
    for (k, v) in context {
        ctx_fields.push((k, json_str(&v)));
    }
    let ctx_body: Vec<String> =
        ctx_fields.iter().map(|(k, v)| format!("    {}: {v}", json_str(k))).collect();
    let doc = format!("{{\n  \"context\": {{\n{}\n  }},\n  \"benchmarks\": [\n{}\n  ]\n}}\n",
                      ctx_body.join(",\n"), rows.join(",\n"));
    match &cfg.out {
        None => print!("{doc}"),
        Some(path) => {
            if let Err(e) = std::fs::write(path, doc) {
                eprintln!("chanpeers: {path}: {e}");
                std::process::exit(1);
            }
        }
    }
}
