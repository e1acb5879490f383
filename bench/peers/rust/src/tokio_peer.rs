//! tokio 1.24's mpsc channel and its runtime's tasks on chanlab's scenarios:
//! the rows "impl:tokio", beside Go's goroutines and chanlab's fibers in the
//! same run.
//!
//! Everything runs as tasks of one multi-thread runtime with one worker per
//! PU (chanlab's fiber runtime has one worker per PU, run.sh sets Go's
//! GOMAXPROCS to the PUs), started on first use; `switch` runs on a second
//! runtime with one worker (chanlab's one-worker runtime, Go's GOMAXPROCS 1).
//! Neither enables the I/O or time drivers: idle workers park. Tasks cannot
//! be pinned, so every row is place:unpinned (as Go's).
//!
//! The channel is tokio::sync::mpsc::channel(cap): bounded, capacity at
//! least 1 (0 panics: there is no rendezvous channel), many senders, ONE
//! receiver. So:
//!   - capacity 0 rows (unbuffered SPSC/MPSC/SPMC/MPMC) are absent;
//!   - ping-pong and the patterns' links, unbuffered in Go and chanlab, use
//!     capacity 1 (as chanbench does for a queue without a rendezvous; the
//!     library line in the JSON context says so);
//!   - several consumers (SPMC, MPMC, the worker pool) share the one
//!     Receiver behind a tokio::sync::Mutex held across recv().await, the
//!     usual tokio idiom; those rows carry the label rx:mutex, since they
//!     measure the mutex as well.
//!
//! Rounds as gochan's: the shapes are Go's (bench/go/main.go, patterns.go),
//! with the same names, parameters, values per round and checks; each
//! pattern task watches a done signal in every blocking operation (a
//! tokio::sync::watch whose sender is dropped at the end of the round, as Go
//! closes done), raced against the operation by a small two-way select
//! (tokio::select! needs the macros feature, which chanpeers does not
//! build). The round's body is itself a task; its time is wall time.
//!
//! Costs: a task moves between workers, so (as chanbench's fiber rows) CPU
//! and voluntary context switches are the process's over the round minus
//! the benchmark thread's (which only waits in block_on): every worker's,
//! idle time included; allocations are what the workers and the benchmark
//! thread allocated over the round (each worker registers its counters when
//! it starts), task spawns and channel blocks included.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use tokio::runtime::Runtime;
use tokio::sync::mpsc::{channel, Receiver, Sender};
use tokio::sync::watch;

use crate::{split, Bench, Config, Cost, Hist, Message, Round, ALLOC_BYTES, ALLOC_CALLS};

// ---- runtimes and their workers' allocation counters --------------------------

/// The allocation counters of every live runtime thread (addresses of its
/// thread-locals; removed when the thread stops).
static WORKERS: Mutex<Vec<(usize, usize)>> = Mutex::new(Vec::new());
static MAIN_RT: Mutex<Option<&'static Runtime>> = Mutex::new(None);
static ONE_RT: Mutex<Option<&'static Runtime>> = Mutex::new(None);

fn counters() -> (usize, usize) {
    (ALLOC_CALLS.with(|c| c as *const AtomicU64 as usize),
     ALLOC_BYTES.with(|b| b as *const AtomicU64 as usize))
}

/// The runtime with `workers` worker threads kept in `slot`, built on first
/// use and never dropped (its workers live as long as the process).
fn runtime(slot: &Mutex<Option<&'static Runtime>>, workers: usize) -> &'static Runtime {
    let mut g = slot.lock().unwrap();
    if let Some(rt) = *g {
        return rt;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name("chanpeers-tokio")
        .on_thread_start(|| WORKERS.lock().unwrap().push(counters()))
        .on_thread_stop(|| {
            let me = counters();
            WORKERS.lock().unwrap().retain(|c| *c != me);
        })
        .build()
        .unwrap_or_else(|e| crate::fail("tokio", &format!("cannot start the runtime: {e}")));
    let rt: &'static Runtime = Box::leak(Box::new(rt));
    *g = Some(rt);
    rt
}

/// The process's CPU clock and voluntary switches, the benchmark thread's
/// own costs, and what the runtime threads allocated so far.
struct Snap {
    proc_cpu: i64,
    proc_vcsw: i64,
    main: Cost,
    calls: u64,
    bytes: u64,
}

fn snap() -> Snap {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let (mut calls, mut bytes) = (0, 0);
    for &(c, b) in WORKERS.lock().unwrap().iter() {
        // Live threads' thread-locals (on_thread_stop removes them first).
        calls += unsafe { &*(c as *const AtomicU64) }.load(Ordering::Relaxed);
        bytes += unsafe { &*(b as *const AtomicU64) }.load(Ordering::Relaxed);
    }
    Snap {
        proc_cpu: crate::clock_ns(libc::CLOCK_PROCESS_CPUTIME_ID),
        proc_vcsw: ru.ru_nvcsw as i64,
        main: Cost::now(),
        calls,
        bytes,
    }
}

/// What a round body returns: its wall time and, for ping-pong, the
/// histogram of its round trips.
type Body = Result<(u64, Option<Hist>), String>;

/// Runs one round: `body` as a task of rt, the benchmark thread waiting.
fn run_round<F>(rt: &'static Runtime, body: F) -> Result<Round, String>
where
    F: Future<Output = Body> + Send + 'static,
{
    let s0 = snap();
    let r = rt.block_on(async move { tokio::spawn(body).await });
    let s1 = snap();
    let (elapsed_ns, hist) = r.map_err(|e| format!("the round's task failed: {e}"))??;
    let mut cost = Cost::default();
    cost.cpu_ns = (s1.proc_cpu - s0.proc_cpu) - (s1.main.cpu_ns - s0.main.cpu_ns);
    cost.vcsw = (s1.proc_vcsw - s0.proc_vcsw) - (s1.main.vcsw - s0.main.vcsw);
    cost.alloc_calls = (s1.calls - s0.calls) + (s1.main.alloc_calls - s0.main.alloc_calls);
    cost.alloc_bytes = (s1.bytes - s0.bytes) + (s1.main.alloc_bytes - s0.main.alloc_bytes);
    Ok(Round { elapsed_ns, cost, hist })
}

fn since(t: Instant) -> u64 {
    t.elapsed().as_nanos() as u64
}

// ---- a two-way select ------------------------------------------------------------

enum Either<A, B> {
    Left(A),
    Right(B),
}

struct Race<'a, A: Future, B: Future> {
    a: Pin<&'a mut A>,
    b: Pin<&'a mut B>,
}

impl<A: Future, B: Future> Future for Race<'_, A, B> {
    type Output = Either<A::Output, B::Output>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Poll::Ready(v) = self.a.as_mut().poll(cx) {
            return Poll::Ready(Either::Left(v));
        }
        if let Poll::Ready(v) = self.b.as_mut().poll(cx) {
            return Poll::Ready(Either::Right(v));
        }
        Poll::Pending
    }
}

/// Whichever of a and b finishes first (a is polled first); the other is
/// dropped. tokio's send and recv lose nothing when dropped unfinished.
async fn race<A: Future, B: Future>(a: A, b: B) -> Either<A::Output, B::Output> {
    tokio::pin!(a);
    tokio::pin!(b);
    Race { a: a.as_mut(), b: b.as_mut() }.await
}

/// The done signal: changed() fails once the sender is dropped.
type Done = watch::Receiver<()>;

/// op, unless done comes first (None).
async fn or_done<F: Future>(done: &mut Done, op: F) -> Option<F::Output> {
    match race(op, done.changed()).await {
        Either::Left(v) => Some(v),
        Either::Right(_) => None,
    }
}

// ---- throughput and ping-pong ------------------------------------------------------

/// p producers send 0..count (as T) into one channel of capacity cap, c
/// consumers receive their counts (c > 1: sharing the receiver behind a
/// tokio::sync::Mutex); timed from the start barrier to the last join, and
/// the sums checked.
async fn throughput<T: Message>(cap: usize, p: u64, c: u64, msgs: u64) -> Body {
    let (tx, rx) = channel::<T>(cap);
    let gate = Arc::new(tokio::sync::Barrier::new((p + c + 1) as usize));
    let mut producers = Vec::new();
    for k in 0..p {
        let (tx, gate, count) = (tx.clone(), gate.clone(), split(msgs, p, k));
        producers.push(tokio::spawn(async move {
            gate.wait().await;
            let mut sum = 0u64;
            for i in 0..count {
                let m = T::of(i);
                sum = sum.wrapping_add(m.value());
                if tx.send(m).await.is_err() {
                    return Err(format!("producer {k}: send failed at message {i}"));
                }
            }
            Ok(sum)
        }));
    }
    drop(tx);
    let mut consumers = Vec::new();
    if c == 1 {
        let (gate, mut rx) = (gate.clone(), rx);
        consumers.push(tokio::spawn(async move {
            gate.wait().await;
            let mut sum = 0u64;
            for i in 0..msgs {
                match rx.recv().await {
                    Some(v) => sum = sum.wrapping_add(v.value()),
                    None => return Err(format!("consumer 0: receive failed at message {i}")),
                }
            }
            Ok(sum)
        }));
    } else {
        let rx = Arc::new(tokio::sync::Mutex::new(rx));
        for k in 0..c {
            let (gate, rx, count) = (gate.clone(), rx.clone(), split(msgs, c, k));
            consumers.push(tokio::spawn(async move {
                gate.wait().await;
                let mut sum = 0u64;
                for i in 0..count {
                    match rx.lock().await.recv().await {
                        Some(v) => sum = sum.wrapping_add(v.value()),
                        None => return Err(format!("consumer {k}: receive failed at message {i}")),
                    }
                }
                Ok(sum)
            }));
        }
    }
    gate.wait().await;
    let t = Instant::now();
    let (mut sent, mut got) = (0u64, 0u64);
    for h in producers {
        sent = sent.wrapping_add(h.await.map_err(|e| e.to_string())??);
    }
    for h in consumers {
        got = got.wrapping_add(h.await.map_err(|e| e.to_string())??);
    }
    let elapsed = since(t);
    if sent != got {
        return Err(format!("sent {msgs} values summing to {sent}, received {got}"));
    }
    Ok((elapsed, None))
}

/// Round trips over two channels of capacity 1 (tokio has no rendezvous):
/// the body sends ping i and waits for pong i, an echo task answers.
async fn pingpong(trips: u64, mut hist: Hist) -> Body {
    let (ping_tx, mut ping_rx) = channel::<u64>(1);
    let (pong_tx, mut pong_rx) = channel::<u64>(1);
    let echo = tokio::spawn(async move {
        for _ in 0..trips {
            let v = ping_rx.recv().await.ok_or("receive ping failed")?;
            pong_tx.send(v).await.map_err(|_| "send pong failed")?;
        }
        Ok::<(), &str>(())
    });
    let t = Instant::now();
    for i in 0..trips {
        let t0 = Instant::now();
        ping_tx.send(i).await.map_err(|_| "send ping failed".to_string())?;
        match pong_rx.recv().await {
            Some(v) if v == i => {}
            Some(v) => return Err(format!("pong {v} for ping {i}")),
            None => return Err("receive pong failed".to_string()),
        }
        hist.add(since(t0));
    }
    let elapsed = since(t);
    echo.await.map_err(|e| e.to_string())?.map_err(str::to_string)?;
    Ok((elapsed, Some(hist)))
}

// ---- the patterns (Go's shapes, bench/go/patterns.go) ---------------------------------

/// Sends 0..n on out, then drops it (closes).
async fn generator(mut done: Done, n: u64, out: Sender<i64>) {
    for i in 0..n {
        match or_done(&mut done, out.send(i as i64)).await {
            Some(Ok(())) => {}
            _ => return,
        }
    }
}

/// Sends what arrives on rx and keep accepts to out, until rx closes or done.
async fn pass_if(done: &mut Done, rx: &mut Receiver<i64>, out: &Sender<i64>,
                 keep: impl Fn(i64) -> bool) {
    loop {
        let v = match or_done(done, rx.recv()).await {
            Some(Some(v)) => v,
            _ => return,
        };
        if !keep(v) {
            continue;
        }
        match or_done(done, out.send(v)).await {
            Some(Ok(())) => {}
            _ => return,
        }
    }
}

/// pass_if for every value, closing out at the end (a pipeline stage, the
/// or-done wrapper).
async fn forward(mut done: Done, mut rx: Receiver<i64>, out: Sender<i64>) {
    pass_if(&mut done, &mut rx, &out, |_| true).await
}

/// The count of what arrives until rx closes.
async fn drain(rx: &mut Receiver<i64>) -> u64 {
    let mut n = 0;
    while rx.recv().await.is_some() {
        n += 1;
    }
    n
}

fn check(got: u64, want: u64) -> Result<(), String> {
    if got != want {
        return Err(format!("received {got} values, not {want}: a value was lost or invented"));
    }
    Ok(())
}

/// Times a stream shape: build starts its tasks and gives the receiver its
/// n values come out of; done is dropped after the time is taken.
async fn stream(n: u64, build: impl FnOnce(Done) -> Receiver<i64>) -> Body {
    let t = Instant::now();
    let (done_tx, done) = watch::channel(());
    let mut out = build(done);
    let got = drain(&mut out).await;
    let elapsed = since(t);
    drop(done_tx);
    check(got, n)?;
    Ok((elapsed, None))
}

async fn pipeline(n: u64, depth: u64) -> Body {
    stream(n, move |done| {
        let (tx, mut rx) = channel(1);
        tokio::spawn(generator(done.clone(), n, tx));
        for _ in 0..depth {
            let (tx, next) = channel(1);
            tokio::spawn(forward(done.clone(), rx, tx));
            rx = next;
        }
        rx
    })
    .await
}

/// workers tasks take from one input (capacity 128, its receiver behind a
/// tokio::sync::Mutex) and send to one output (128); the output closes
/// when the last worker drops its sender.
async fn pool(n: u64, workers: u64) -> Body {
    stream(n, move |done| {
        let (in_tx, in_rx) = channel(128);
        let (out_tx, out_rx) = channel(128);
        tokio::spawn(generator(done.clone(), n, in_tx));
        let in_rx = Arc::new(tokio::sync::Mutex::new(in_rx));
        for _ in 0..workers {
            let (mut done, in_rx, out) = (done.clone(), in_rx.clone(), out_tx.clone());
            tokio::spawn(async move {
                loop {
                    let v = {
                        let mut rx = match or_done(&mut done, in_rx.lock()).await {
                            Some(g) => g,
                            None => return,
                        };
                        match or_done(&mut done, rx.recv()).await {
                            Some(Some(v)) => v,
                            _ => return,
                        }
                    };
                    match or_done(&mut done, out.send(v)).await {
                        Some(Ok(())) => {}
                        _ => return,
                    }
                }
            });
        }
        out_rx
    })
    .await
}

/// inputs generators, each on its own channel, a task per input passing to
/// one output.
async fn fan_in(n: u64, inputs: u64) -> Body {
    stream(n, move |done| {
        let (out_tx, out_rx) = channel(1);
        for i in 0..inputs {
            let (tx, rx) = channel(1);
            tokio::spawn(generator(done.clone(), split(n, inputs, i), tx));
            tokio::spawn(forward(done.clone(), rx, out_tx.clone()));
        }
        out_rx
    })
    .await
}

async fn or_done_shape(n: u64) -> Body {
    stream(n, move |done| {
        let (src_tx, src_rx) = channel(1);
        let (out_tx, out_rx) = channel(1);
        tokio::spawn(generator(done.clone(), n, src_tx));
        tokio::spawn(forward(done, src_rx, out_tx));
        out_rx
    })
    .await
}

/// "Concurrency in Go"'s tee: each value to both outputs, in whichever order
/// they take it (a select over both sends, then the other one).
async fn tee(n: u64) -> Body {
    let t = Instant::now();
    let (done_tx, mut done) = watch::channel(());
    let (src_tx, mut src) = channel::<i64>(1);
    let (o1, mut out1) = channel::<i64>(1);
    let (o2, mut out2) = channel::<i64>(1);
    tokio::spawn(generator(done.clone(), n, src_tx));
    tokio::spawn(async move {
        while let Some(v) = src.recv().await {
            let rest = match or_done(&mut done, race(o1.send(v), o2.send(v))).await {
                Some(Either::Left(Ok(()))) => &o2,
                Some(Either::Right(Ok(()))) => &o1,
                _ => return,
            };
            match or_done(&mut done, rest.send(v)).await {
                Some(Ok(())) => {}
                _ => return,
            }
        }
    });
    let second = tokio::spawn(async move { drain(&mut out2).await });
    let got1 = drain(&mut out1).await;
    let got2 = second.await.map_err(|e| e.to_string())?;
    let elapsed = since(t);
    drop(done_tx);
    check(got1, n)?;
    check(got2, n)?;
    Ok((elapsed, None))
}

/// Pike's daisy chain of `links` tasks, each adding 1: the time for one
/// value to pass all of them, task starts included.
async fn daisy(links: u64) -> Body {
    let t = Instant::now();
    let (leftmost, mut first) = channel::<i64>(1);
    let mut left = leftmost;
    for _ in 0..links {
        let (right, mut from_right) = channel::<i64>(1);
        tokio::spawn(async move {
            if let Some(v) = from_right.recv().await {
                let _ = left.send(v + 1).await;
            }
        });
        left = right;
    }
    tokio::spawn(async move {
        let _ = left.send(1).await;
    });
    let v = first.recv().await.ok_or("the daisy chain closed")?;
    let elapsed = since(t);
    if v != links as i64 + 1 {
        return Err(format!("the chain gave {v}, not {}", links + 1));
    }
    Ok((elapsed, None))
}

/// The Go documentation's sieve: a filter task per prime; the time until
/// the n-th prime arrives (stopping the tasks is not timed).
async fn sieve(primes: u64) -> Body {
    let t = Instant::now();
    let (done_tx, done) = watch::channel(());
    let mut tasks = Vec::new();
    let (tx, mut ch) = channel::<i64>(1);
    let mut d = done.clone();
    tasks.push(tokio::spawn(async move {
        let mut i = 2i64;
        while let Some(Ok(())) = or_done(&mut d, tx.send(i)).await {
            i += 1;
        }
    }));
    let mut prime = 0;
    for i in 0..primes {
        prime = ch.recv().await.ok_or("the sieve closed")?;
        if i + 1 == primes {
            break;
        }
        let (out, next) = channel::<i64>(1);
        let (mut input, mut d, p) = (std::mem::replace(&mut ch, next), done.clone(), prime);
        tasks.push(tokio::spawn(async move {
            pass_if(&mut d, &mut input, &out, |v| v % p != 0).await
        }));
    }
    let elapsed = since(t);
    drop(done_tx);
    drop(ch);
    for h in tasks {
        h.await.map_err(|e| e.to_string())?;
    }
    let want = nth_prime(primes);
    if prime != want {
        return Err(format!("prime {primes} is {want}, the sieve gave {prime}"));
    }
    Ok((elapsed, None))
}

fn nth_prime(n: u64) -> i64 {
    let (mut found, mut x) = (0, 1i64);
    while found < n {
        x += 1;
        let mut d = 2;
        let mut prime = true;
        while d * d <= x && prime {
            prime = x % d != 0;
            d += 1;
        }
        if prime {
            found += 1;
        }
    }
    x
}

/// n tasks one after the other, each returning at once, each joined.
async fn spawn(n: u64) -> Body {
    let t = Instant::now();
    for _ in 0..n {
        tokio::spawn(async {}).await.map_err(|e| e.to_string())?;
    }
    Ok((since(t), None))
}

/// Two tasks on a one-worker runtime each yield (tokio::task::yield_now) n
/// times: n round trips of two switches.
async fn switch(n: u64) -> Body {
    let t = Instant::now();
    let a = tokio::spawn(async move {
        for _ in 0..n {
            tokio::task::yield_now().await;
        }
    });
    let b = tokio::spawn(async move {
        for _ in 0..n {
            tokio::task::yield_now().await;
        }
    });
    a.await.map_err(|e| e.to_string())?;
    b.await.map_err(|e| e.to_string())?;
    Ok((since(t), None))
}

// ---- the suite ------------------------------------------------------------------------

const NO_RENDEZVOUS: &str =
    "cap 0: tokio::sync::mpsc has no rendezvous channel (capacity 0 panics)";

/// What tokio's rows are, for the JSON context (library.tokio).
pub(crate) fn library(package: &str, workers: u64) -> String {
    format!(
        "{package}: tokio::sync::mpsc::channel (bounded, capacity >= 1, one receiver) \
         between tasks of a multi-thread runtime with {workers} workers (switch: 1); capacity 1 \
         where Go's channel is unbuffered (ping-pong, the patterns' links); rx:mutex rows share \
         the one receiver behind a tokio::sync::Mutex; every row place:unpinned"
    )
}

/// Registers tokio's benchmarks (gochan's configurations, plus the payload
/// sizes and capacity 1 rows chanpeers measures for the other crates), and
/// says in `absent` which scenarios have none and why.
pub(crate) fn register(v: &mut Vec<Bench>, cfg: &Config, pus: u64,
                absent: &mut Vec<(String, String)>) {
    let workers = pus as usize;
    let msgs = cfg.messages;
    let full = cfg.full;
    let mut add = |scenario: &str, label: &str, params: String, msgs: u64, bytes: Option<u64>,
                   one: bool, body: Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Body> + Send>>
                                      + Send + Sync>| {
        let name = format!("{scenario}/impl:tokio{label}/place:unpinned{params}/manual_time");
        v.push(Bench {
            name,
            msgs,
            bytes,
            run: Box::new(move |_ctx| {
                let rt = if one { runtime(&ONE_RT, 1) } else { runtime(&MAIN_RT, workers) };
                run_round(rt, body())
            }),
        });
    };
    macro_rules! body {
        ($e:expr) => {
            Arc::new(move || Box::pin($e) as Pin<Box<dyn Future<Output = Body> + Send>>)
        };
    }

    let trips = if full { 5000 } else { 2000 };
    add("pingpong", "", String::new(), trips, None, false,
        body!(pingpong(trips, Hist::new())));

    let max_threads = 4 * pus;
    for cap in [0usize, 1, 128, 1024] {
        let mut shapes: Vec<(&str, u64, u64, u64)> = vec![("spsc", 1, 1, 1)];
        let mut n = 2;
        while n <= max_threads {
            shapes.push(("mpsc", n, 1, n));
            shapes.push(("spmc", 1, n, n));
            if 2 * n <= max_threads {
                shapes.push(("mpmc", n, n, n));
            }
            n *= 2;
        }
        for (shape, p, c, n) in shapes {
            if !full && !crate::in_quick(shape, cap, n) {
                continue;
            }
            if cap == 0 {
                absent.push((format!("absent.{shape}.tokio"), NO_RENDEZVOUS.to_string()));
                continue;
            }
            let label = if c > 1 { "/rx:mutex" } else { "" };
            add(shape, label, format!("/cap:{cap}/p:{p}/c:{c}"), msgs, Some(8), false,
                body!(throughput::<u64>(cap, p, c, msgs)));
        }
    }

    macro_rules! payload {
        ($n:expr) => {
            add("payload", "", format!("/bytes:{}/cap:128", $n), msgs, Some($n), false,
                body!(throughput::<[u8; $n]>(128, 1, 1, msgs)))
        };
    }
    if full {
        payload!(8);
        payload!(64);
        payload!(256);
        payload!(1024);
    }
    payload!(0);
    payload!(4096);
    absent.push(("absent.select_recv.tokio".to_string(),
                 "not measured: tokio's select is the tokio::select! macro (feature macros), \
                  which chanpeers does not build".to_string()));

    // The patterns and the task's own costs, as gochan's patternSuite.
    let values = |all: &[u64], quick: &[u64]| -> Vec<u64> {
        all.iter().copied().filter(|x| full || quick.contains(x)).collect()
    };
    for d in values(&[1, 4, 16], &[1, 4, 16]) {
        let n = msgs / 4;
        add("pattern_pipeline", "", format!("/depth:{d}"), n, None, false, body!(pipeline(n, d)));
    }
    let mut all_workers = Vec::new();
    let mut w = 1;
    while w <= 4 * pus && all_workers.len() < 16 {
        all_workers.push(w);
        w *= 2;
    }
    let quick_pool =
        if all_workers.len() > 1 { all_workers[all_workers.len() - 2] } else { all_workers[0] };
    for w in values(&all_workers, &[quick_pool]) {
        add("pattern_pool", "/rx:mutex", format!("/workers:{w}"), msgs, None, false,
            body!(pool(msgs, w)));
    }
    for k in values(&[2, 4, 8], &[4]) {
        add("pattern_fanin", "", format!("/inputs:{k}"), msgs, None, false, body!(fan_in(msgs, k)));
    }
    add("pattern_ordone", "", String::new(), msgs, None, false, body!(or_done_shape(msgs)));
    add("pattern_tee", "", String::new(), msgs, None, false, body!(tee(msgs)));
    for l in values(&[1000, 10000, 100000], &[1000, 100000]) {
        add("pattern_daisy", "", format!("/links:{l}"), l, None, false, body!(daisy(l)));
    }
    for p in values(&[100, 300, 1000], &[300]) {
        add("pattern_sieve", "", format!("/primes:{p}"), 1, None, false, body!(sieve(p)));
    }
    add("spawn", "", String::new(), 2000, None, false, body!(spawn(2000)));
    add("switch", "", String::new(), 10000, None, true, body!(switch(10000)));
    for (scen, why) in [
        ("pattern_bridge", "not written for tokio (gochan has none either)"),
        ("pattern_semaphore", "not written for tokio (gochan has none either)"),
        ("pattern_errgroup", "not written for tokio (gochan has none either)"),
        ("pattern_first", "not written for tokio (gochan has none either)"),
    ] {
        absent.push((format!("absent.{scen}.tokio"), why.to_string()));
    }
}
