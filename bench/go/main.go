// Command gochan measures Go's own runtime channels on the scenarios chanlab
// runs on its C implementations (ping-pong, SPSC/MPSC/SPMC/MPMC at each
// capacity, select over 4), and writes the results in Google Benchmark's
// JSON schema with the same benchmark names ("impl:go"), so both land in the
// same tables and plots. GOMAXPROCS is left at the number of PUs.
//
// Usage: gochan [-out FILE] [-min_time SECONDS] [-full] [-messages N]
//
// Go goroutines cannot be pinned, so every result is placement "unpinned".
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"sync"
	"syscall"
	"time"
)

type result map[string]interface{}

type cost struct {
	cpu  time.Duration
	vcsw int64
}

func processCost() cost {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return cost{time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), ru.Nvcsw}
}

// measure runs round(n) (which moves n messages and returns its wall time)
// until at least minTime has been measured, and returns the result row.
func measure(name string, messages int, minTime float64, round func(n int) time.Duration) result {
	var total time.Duration
	var msgs int64
	c0 := processCost()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	for total.Seconds() < minTime || msgs == 0 {
		total += round(messages)
		msgs += int64(messages)
	}
	runtime.ReadMemStats(&ms1)
	c1 := processCost()
	perMsg := float64(total.Nanoseconds()) / float64(msgs)
	return result{
		"name":               name,
		"run_name":           name,
		"run_type":           "iteration",
		"repetitions":        1,
		"repetition_index":   0,
		"threads":            1,
		"iterations":         msgs,
		"real_time":          perMsg,
		"cpu_time":           float64((c1.cpu - c0.cpu).Nanoseconds()) / float64(msgs),
		"time_unit":          "ns",
		"items_per_second":   float64(msgs) / total.Seconds(),
		"cpu_ns_per_msg":     float64((c1.cpu - c0.cpu).Nanoseconds()) / float64(msgs),
		"vcsw_per_msg":       float64(c1.vcsw-c0.vcsw) / float64(msgs),
		"alloc_bytes_per_op": float64(ms1.TotalAlloc-ms0.TotalAlloc) / float64(msgs),
		"allocs_per_op":      float64(ms1.Mallocs-ms0.Mallocs) / float64(msgs),
	}
}

func pingpong(messages int, minTime float64) result {
	// Sized up front so that recording latencies allocates nothing while
	// Go's allocation counters are being read.
	lat := make([]time.Duration, 0, 1<<22)
	r := measure("pingpong/impl:go/place:unpinned/manual_time", messages, minTime,
		func(n int) time.Duration {
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
				<-pong
				lat = append(lat, time.Since(t))
			}
			return time.Since(start)
		})
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	q := func(f float64) float64 { return float64(lat[int(f*float64(len(lat)-1))].Nanoseconds()) }
	r["p50_ns"], r["p99_ns"], r["p999_ns"] = q(0.5), q(0.99), q(0.999)
	return r
}

// split gives worker k of n its share of total.
func split(total, n, k int) int {
	s := total / n
	if k < total%n {
		s++
	}
	return s
}

func throughput(shape string, capacity, producers, consumers, messages int, minTime float64) result {
	name := fmt.Sprintf("%s/impl:go/place:unpinned/cap:%d/p:%d/c:%d/manual_time", shape, capacity, producers, consumers)
	return measure(name, messages, minTime, func(n int) time.Duration {
		ch := make(chan uint64, capacity)
		var ready, done sync.WaitGroup
		start := make(chan struct{})
		ready.Add(producers + consumers)
		done.Add(producers + consumers)
		for k := 0; k < producers; k++ {
			go func(count int) {
				defer done.Done()
				ready.Done()
				<-start
				for i := 0; i < count; i++ {
					ch <- uint64(i)
				}
			}(split(n, producers, k))
		}
		for k := 0; k < consumers; k++ {
			go func(count int) {
				defer done.Done()
				ready.Done()
				<-start
				for i := 0; i < count; i++ {
					<-ch
				}
			}(split(n, consumers, k))
		}
		ready.Wait()
		t := time.Now()
		close(start)
		done.Wait()
		return time.Since(t)
	})
}

// selectRecv: one producer sends round-robin on 4 channels, one consumer
// receives with a select over all 4 (chanlab's select_recv, k = 4).
func selectRecv(capacity, messages int, minTime float64) result {
	name := fmt.Sprintf("select_recv/impl:go/place:unpinned/k:4/cap:%d/p:1/c:1/manual_time", capacity)
	return measure(name, messages, minTime, func(n int) time.Duration {
		var chs [4]chan uint64
		for i := range chs {
			chs[i] = make(chan uint64, capacity)
		}
		done := make(chan struct{})
		t := time.Now()
		go func() {
			for i := 0; i < n; i++ {
				chs[i%4] <- uint64(i)
			}
		}()
		go func() {
			for i := 0; i < n; i++ {
				select {
				case <-chs[0]:
				case <-chs[1]:
				case <-chs[2]:
				case <-chs[3]:
				}
			}
			close(done)
		}()
		<-done
		return time.Since(t)
	})
}

func main() {
	out := flag.String("out", "", "write the JSON here (default: stdout)")
	minTime := flag.Float64("min_time", 0.1, "seconds measured per benchmark")
	full := flag.Bool("full", false, "the full suite (longer runs)")
	messages := flag.Int("messages", 20000, "messages per round")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "gochan: unexpected argument %q\n", flag.Arg(0))
		os.Exit(2)
	}
	if *minTime <= 0 || *messages <= 0 {
		fmt.Fprintln(os.Stderr, "gochan: -min_time and -messages must be positive")
		os.Exit(2)
	}
	if *full && *minTime < 0.5 {
		*minTime = 0.5
	}
	maxThreads := 4 * runtime.GOMAXPROCS(0)
	var rows []result
	add := func(r result) {
		fmt.Fprintf(os.Stderr, "%-70s %10.1f ns %12.0f msg/s\n", r["name"], r["real_time"], r["items_per_second"])
		rows = append(rows, r)
	}
	add(pingpong(2000, *minTime))
	for _, capacity := range []int{0, 1, 128, 1024} {
		add(throughput("spsc", capacity, 1, 1, *messages, *minTime))
		for n := 2; n <= maxThreads; n *= 2 {
			add(throughput("mpsc", capacity, n, 1, *messages, *minTime))
			add(throughput("spmc", capacity, 1, n, *messages, *minTime))
			if 2*n <= maxThreads {
				add(throughput("mpmc", capacity, n, n, *messages, *minTime))
			}
		}
	}
	for _, capacity := range []int{0, 128} {
		add(selectRecv(capacity, *messages, *minTime))
	}
	host, _ := os.Hostname()
	doc := map[string]interface{}{
		"context": map[string]interface{}{
			"date":               time.Now().Format(time.RFC3339),
			"host_name":          host,
			"executable":         os.Args[0],
			"num_cpus":           runtime.NumCPU(),
			"go_version":         runtime.Version(),
			"GOMAXPROCS":         runtime.GOMAXPROCS(0),
			"chanlab.impls":      "go",
			"chanlab.suite":      map[bool]string{true: "full", false: "quick"}[*full],
			"library_build_type": "release",
		},
		"benchmarks": rows,
	}
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
