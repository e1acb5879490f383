// Command gochan measures Go's own runtime channels on the scenarios chanlab
// runs on its C implementations (ping-pong, SPSC/MPSC/SPMC/MPMC, select over
// 4), Go's versions of chanlab's pattern benchmarks (pipeline, worker pool,
// fan-in, or-done, tee, daisy chain, prime sieve: patterns.go) and the cost
// of a goroutine itself (spawn, switch), and writes the results in Google
// Benchmark's JSON schema with the same benchmark names ("impl:go"), so
// both land in the same tables and plots.
// Like chanbench it runs every benchmark several times (repetitions, in a
// random interleaved order), writes each repetition as its own entry
// (repetition_index), and measures the same configurations in the quick and
// the full suite. GOMAXPROCS is left at the number of PUs; goroutines cannot
// be pinned, so every result is placement "unpinned".
//
// Usage: gochan [flags]   (gochan --help lists them; --x=v and --x v work, as
// with chanbench, and so do Go's -x=v and -x v)
//
// Consumers check the sum of what they received: a lost or duplicated value
// ends the run with a message and exit status 1.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand"
	"os"
	"path"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

type result map[string]interface{}

// ---- cost and noise meters -------------------------------------------------

// processCPU is the process's CPU time from CLOCK_PROCESS_CPUTIME_ID, which
// counts nanoseconds (getrusage moves in scheduler ticks).
func processCPU() time.Duration {
	const clockProcessCPUTimeID = 2
	var ts syscall.Timespec
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockProcessCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0)
	return time.Duration(ts.Nano())
}

func voluntarySwitches() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Nvcsw
}

// machine is /proc/stat's first line: CPU time used by every process and
// stolen by the hypervisor, in clock ticks (100 per second on Linux).
type machine struct{ busy, steal int64 }

func readMachine() (machine, bool) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return machine{}, false
	}
	var user, nice, sys, idle, iowait, irq, softirq, steal int64
	n, _ := fmt.Sscanf(string(data), "cpu %d %d %d %d %d %d %d %d", &user, &nice, &sys, &idle, &iowait, &irq, &softirq, &steal)
	if n < 7 {
		return machine{}, false
	}
	return machine{user + nice + sys + irq + softirq, steal}, true
}

// ---- one repetition ---------------------------------------------------------

// measure runs round(n) (which moves n messages and returns its wall time)
// until at least minTime has been measured, and returns the repetition's
// entry with the same counters chanbench writes.
func measure(name string, messages int, minTime float64, round func(n int) time.Duration) result {
	const tick = 10 * time.Millisecond
	var total time.Duration
	var msgs int64
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	m0, ok0 := readMachine()
	wall0, cpu0, vcsw0 := time.Now(), processCPU(), voluntarySwitches()
	for total.Seconds() < minTime || msgs == 0 {
		total += round(messages)
		msgs += int64(messages)
	}
	wall, cpu, vcsw := time.Since(wall0), processCPU()-cpu0, voluntarySwitches()-vcsw0
	m1, ok1 := readMachine()
	runtime.ReadMemStats(&ms1)
	perMsg := float64(total.Nanoseconds()) / float64(msgs)
	r := result{
		"name":               name,
		"run_name":           name,
		"run_type":           "iteration",
		"threads":            1,
		"iterations":         msgs,
		"real_time":          perMsg,
		"cpu_time":           float64(cpu.Nanoseconds()) / float64(msgs),
		"time_unit":          "ns",
		"items_per_second":   float64(msgs) / total.Seconds(),
		"cpu_ns_per_msg":     float64(cpu.Nanoseconds()) / float64(msgs),
		"vcsw_per_msg":       float64(vcsw) / float64(msgs),
		"alloc_bytes_per_op": float64(ms1.TotalAlloc-ms0.TotalAlloc) / float64(msgs),
		"allocs_per_op":      float64(ms1.Mallocs-ms0.Mallocs) / float64(msgs),
	}
	// Under 50 ms (5 ticks) the tick counts say nothing.
	if capacity := float64(wall) * float64(runtime.NumCPU()); ok0 && ok1 && wall >= 50*time.Millisecond {
		other := float64(time.Duration(m1.busy-m0.busy)*tick - cpu)
		if other < 0 {
			other = 0
		}
		// Clock ticks make short repetitions coarse: a share, at most all.
		r["noise_other_pct"] = math.Min(100, 100*other/capacity)
		r["noise_steal_pct"] = math.Min(100, 100*float64(time.Duration(m1.steal-m0.steal)*tick)/capacity)
	}
	return r
}

// lost ends the run: a channel lost or duplicated a value.
func lost(name string, got, want uint64) {
	fmt.Fprintf(os.Stderr, "gochan: %s: the consumers' values sum to %d, not %d: a value was lost or duplicated\n", name, got, want)
	os.Exit(1)
}

// sumBelow is 0 + 1 + ... + n-1.
func sumBelow(n int) uint64 { return uint64(n) * uint64(n-1) / 2 }

// split gives worker k of n its share of total.
func split(total, n, k int) int {
	s := total / n
	if k < total%n {
		s++
	}
	return s
}

// ---- the scenarios ---------------------------------------------------------

func pingpong(name string, messages int, minTime float64) result {
	// Sized up front so that recording latencies allocates nothing while
	// Go's allocation counters are being read.
	lat := make([]time.Duration, 0, 1<<22)
	r := measure(name, messages, minTime, func(n int) time.Duration {
		ping, pong := make(chan uint64), make(chan uint64)
		go func() {
			for i := 0; i < n; i++ {
				pong <- <-ping
			}
		}()
		start := time.Now()
		for i := 0; i < n; i++ {
			t := time.Now()
			ping <- uint64(i)
			if v := <-pong; v != uint64(i) {
				lost(name, v, uint64(i))
			}
			if len(lat) < cap(lat) {
				lat = append(lat, time.Since(t))
			}
		}
		return time.Since(start)
	})
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	q := func(f float64) float64 { return float64(lat[int(f*float64(len(lat)-1))].Nanoseconds()) }
	r["p50_ns"], r["p99_ns"], r["p999_ns"] = q(0.5), q(0.99), q(0.999)
	return r
}

func throughput(name string, capacity, producers, consumers, messages int, minTime float64) result {
	return measure(name, messages, minTime, func(n int) time.Duration {
		ch := make(chan uint64, capacity)
		var ready, done sync.WaitGroup
		var mu sync.Mutex
		var sum, want uint64
		start := make(chan struct{})
		ready.Add(producers + consumers)
		done.Add(producers + consumers)
		for k := 0; k < producers; k++ {
			count := split(n, producers, k)
			want += sumBelow(count)
			go func() {
				defer done.Done()
				ready.Done()
				<-start
				for i := 0; i < count; i++ {
					ch <- uint64(i)
				}
			}()
		}
		for k := 0; k < consumers; k++ {
			go func(count int) {
				defer done.Done()
				ready.Done()
				<-start
				var s uint64
				for i := 0; i < count; i++ {
					s += <-ch
				}
				mu.Lock()
				sum += s
				mu.Unlock()
			}(split(n, consumers, k))
		}
		ready.Wait()
		t := time.Now()
		close(start)
		done.Wait()
		elapsed := time.Since(t)
		if sum != want {
			lost(name, sum, want)
		}
		return elapsed
	})
}

// selectRecv: one producer sends round-robin on 4 channels, one consumer
// receives with a select over all 4 (chanlab's select_recv, k = 4).
func selectRecv(name string, capacity, messages int, minTime float64) result {
	return measure(name, messages, minTime, func(n int) time.Duration {
		var chs [4]chan uint64
		for i := range chs {
			chs[i] = make(chan uint64, capacity)
		}
		done := make(chan uint64)
		t := time.Now()
		go func() {
			for i := 0; i < n; i++ {
				chs[i%4] <- uint64(i)
			}
		}()
		go func() {
			var s uint64
			for i := 0; i < n; i++ {
				select {
				case v := <-chs[0]:
					s += v
				case v := <-chs[1]:
					s += v
				case v := <-chs[2]:
					s += v
				case v := <-chs[3]:
					s += v
				}
			}
			done <- s
		}()
		s := <-done
		elapsed := time.Since(t)
		if s != sumBelow(n) {
			lost(name, s, sumBelow(n))
		}
		return elapsed
	})
}

// bench is one benchmark: its scenario, name and body.
type bench struct {
	scenario, name string
	run            func() result
}

// suite lists the benchmarks of the quick or the full suite: the same
// configurations chanbench measures (bench/scenarios/throughput.c: the quick
// suite has SPSC at capacities 0, 128 and 1024, the sweeps at 128 up to 4
// threads a side, and unbuffered MPMC 2x2).
func suite(full bool, messages int, minTime float64) []bench {
	var out []bench
	add := func(scenario, name string, run func(name string) result) {
		out = append(out, bench{scenario, name, func() result { return run(name) }})
	}
	add("pingpong", "pingpong/impl:go/place:unpinned/manual_time", func(name string) result {
		rounds := 2000
		if full {
			rounds = 5000
		}
		return pingpong(name, rounds, minTime)
	})
	maxThreads := 4 * runtime.GOMAXPROCS(0)
	inQuick := func(capacity, n int, spsc bool) bool {
		if spsc {
			return capacity != 1
		}
		return (capacity == 128 && n <= 4) || (capacity == 0 && n == 2)
	}
	shape := func(scenario string, capacity, p, c int) {
		name := fmt.Sprintf("%s/impl:go/place:unpinned/cap:%d/p:%d/c:%d/manual_time", scenario, capacity, p, c)
		add(scenario, name, func(name string) result { return throughput(name, capacity, p, c, messages, minTime) })
	}
	for _, capacity := range []int{0, 1, 128, 1024} {
		if full || inQuick(capacity, 1, true) {
			shape("spsc", capacity, 1, 1)
		}
		for n := 2; n <= maxThreads; n *= 2 {
			if full || (inQuick(capacity, n, false) && capacity != 0) {
				shape("mpsc", capacity, n, 1)
				shape("spmc", capacity, 1, n)
			}
			if 2*n <= maxThreads && (full || inQuick(capacity, n, false)) {
				shape("mpmc", capacity, n, n)
			}
		}
	}
	for _, capacity := range []int{0, 128} {
		capacity := capacity
		name := fmt.Sprintf("select_recv/impl:go/place:unpinned/k:4/cap:%d/p:1/c:1/manual_time", capacity)
		add("select_recv", name, func(name string) result { return selectRecv(name, capacity, messages, minTime) })
	}
	for _, p := range patternSuite(full, messages, minTime) {
		out = append(out, p)
	}
	return out
}

// inList says whether name matches an item (a name or a glob) of a comma list.
func inList(list, name string) bool {
	for _, item := range strings.Split(list, ",") {
		if ok, _ := path.Match(item, name); ok {
			return true
		}
	}
	return false
}

func clock(d time.Duration) string {
	s := int(d.Seconds() + 0.5)
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

func main() {
	runHogIfAsked() // a child started by --background-load spins here
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), `usage: gochan [flags]

Go's runtime channels, patterns and goroutines on chanlab's scenarios, in
Google Benchmark's JSON schema. The quick suite takes about 15 s on 2 PUs, the
full one about 2 min.
Flags (--x=v and --x v, as with chanbench; Go's -x=v and -x v work too):
`)
		flag.PrintDefaults()
	}
	out := flag.String("out", "", "write the JSON here (default: stdout)")
	minTime := flag.Float64("min-time", 0, "seconds per repetition (default 0.08 quick, 0.2 full)")
	full := flag.Bool("full", false, "the full suite (every configuration)")
	messages := flag.Int("messages", 0, "messages per round (default 20000 quick, 50000 full)")
	repetitions := flag.Int("repetitions", 0, "repetitions of each benchmark (default 6 quick, 10 full)")
	noInterleave := flag.Bool("no-interleave", false, "run each benchmark's repetitions back to back (default: a random interleaved order)")
	filter := flag.String("filter", "", "only benchmarks whose name matches this regular expression")
	scenarios := flag.String("scenario", "", "only these scenarios (comma-separated names or globs)")
	noProgress := flag.Bool("no-progress", false, "no progress lines on stderr")
	backgroundLoad := flag.String("background-load", "0", "N spinning hog processes, each pinned to one of the last N PUs, for the whole run (the loaded-machine scenario, as chanbench's)")
	flag.Parse()
	fail := func(format string, args ...interface{}) {
		fmt.Fprintf(os.Stderr, "gochan: "+format+"\n", args...)
		os.Exit(2)
	}
	if flag.NArg() > 0 {
		fail("unexpected argument %q (gochan --help lists the flags)", flag.Arg(0))
	}
	if *minTime == 0 {
		*minTime = map[bool]float64{false: 0.08, true: 0.2}[*full]
	}
	if *messages == 0 {
		*messages = map[bool]int{false: 20000, true: 50000}[*full]
	}
	if *repetitions == 0 {
		*repetitions = map[bool]int{false: 6, true: 10}[*full]
	}
	if *minTime <= 0 || *minTime > 60 || *messages <= 0 || *repetitions <= 0 || *repetitions > 1000 {
		fail("--min-time (0..60 s), --messages and --repetitions (1..1000) must be positive")
	}
	var re *regexp.Regexp
	if isSet("filter") {
		if *filter == "" {
			fail("empty --filter")
		}
		var err error
		if re, err = regexp.Compile(*filter); err != nil {
			fail("bad --filter: %v", err)
		}
	}
	if isSet("scenario") && strings.Trim(*scenarios, ",") == "" {
		fail("empty --scenario list")
	}
	// One hog per PU at most: a hog is pinned to a PU of its own.
	hogs, err := strconv.Atoi(*backgroundLoad)
	if err != nil || hogs < 0 || hogs > maxHogs() {
		fail("bad --background-load '%s' (a whole number, 0..%d)", *backgroundLoad, maxHogs())
	}

	var benches []bench
	for _, b := range suite(*full, *messages, *minTime) {
		if (*scenarios == "" || inList(*scenarios, b.scenario)) && (re == nil || re.MatchString(b.name)) {
			benches = append(benches, b)
		}
	}
	if len(benches) == 0 {
		fail("no benchmark matches the filters (--scenario %q, --filter %q)", *scenarios, *filter)
	}
	type rep struct{ bench, index int }
	var order []rep
	for i := range benches {
		for k := 0; k < *repetitions; k++ {
			order = append(order, rep{i, k})
		}
	}
	if !*noInterleave {
		rand.Seed(time.Now().UnixNano())
		rand.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	}
	// Each benchmark's repetitions in order of their index, as Google
	// Benchmark writes them.
	byBench := make([][]result, len(benches))
	for i := range byBench {
		byBench[i] = make([]result, *repetitions)
	}
	// The background load: started just before the first repetition and
	// stopped after the last.
	var hogPUs []int
	var background *load
	if hogs > 0 {
		if background, hogPUs, err = startLoad(hogs); err != nil {
			fmt.Fprintln(os.Stderr, "gochan:", err)
			os.Exit(1)
		}
		fmt.Fprintf(os.Stderr, "gochan: background load: %d hog(s) on PU(s) %s\n", hogs, joinInts(hogPUs))
	}
	t0, lastPrint := time.Now(), time.Now()
	for done, o := range order {
		if !*noProgress && done > 0 && time.Since(lastPrint) >= 10*time.Second {
			lastPrint = time.Now()
			elapsed := time.Since(t0)
			left := time.Duration(float64(elapsed) / float64(done) * float64(len(order)-done))
			fmt.Fprintf(os.Stderr, "gochan: %d/%d repetitions done (%.0f%%), %s elapsed, about %s left\n",
				done, len(order), 100*float64(done)/float64(len(order)), clock(elapsed), clock(left))
		}
		r := benches[o.bench].run()
		r["repetitions"], r["repetition_index"] = *repetitions, o.index
		byBench[o.bench][o.index] = r
	}
	if background != nil {
		background.stop()
	}
	var rows []result
	for _, reps := range byBench {
		for _, r := range reps {
			fmt.Fprintf(os.Stderr, "%-70s %10.1f ns %12.0f msg/s\n", r["name"], r["real_time"], r["items_per_second"])
			rows = append(rows, r)
		}
	}
	host, _ := os.Hostname()
	context := map[string]interface{}{
		"date":                time.Now().Format(time.RFC3339),
		"host_name":           host,
		"executable":          os.Args[0],
		"num_cpus":            runtime.NumCPU(),
		"go_version":          runtime.Version(),
		"GOMAXPROCS":          runtime.GOMAXPROCS(0),
		"chanlab.impls":       "go",
		"chanlab.suite":       map[bool]string{true: "full", false: "quick"}[*full],
		"chanlab.repetitions": fmt.Sprint(*repetitions),
		"library_build_type":  "release",
		"background_load":     fmt.Sprint(hogs),
	}
	if hogs > 0 {
		context["background_load.pus"] = joinInts(hogPUs)
	}
	doc := map[string]interface{}{"context": context, "benchmarks": rows}
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		fmt.Fprintln(os.Stderr, "gochan:", err)
		os.Exit(1)
	}
	if *out == "" {
		os.Stdout.Write(append(data, '\n'))
		return
	}
	if err := os.WriteFile(*out, append(data, '\n'), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gochan:", err)
		os.Exit(1)
	}
}

// joinInts is "1,2,3".
func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

// isSet says whether the flag was given on the command line.
func isSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}
