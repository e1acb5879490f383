package main

// Go's versions of chanlab's pattern benchmarks (bench/scenarios/
// pattern_bench.c) with the same names, parameters and value counts, so the
// pattern plot shows Go beside chanlab's threads and fibers in the same run;
// and the goroutine's own costs (bench/scenarios/runtime.c).
//
// The shapes are the ones chanlab's components have: every goroutine of a
// pattern watches a done channel in each blocking operation, as chanlab's
// components watch their context (the pipelines-and-cancellation idiom of
// the Go blog); links are unbuffered but for the worker pool's (128).
// A round moves n values from the generators through the pattern to the
// measuring goroutine, goroutine starts included, and reports its wall time;
// the time per value is the rounds' time over their values. The daisy chain
// is Rob Pike's, the sieve the Go documentation's (doc/play/sieve.go).

import (
	"fmt"
	"runtime"
	"sync"
	"time"
)

// generator sends 0, 1, ..., n-1 on out and closes it.
func generator(done <-chan struct{}, n int, out chan<- int64) {
	defer close(out)
	for i := 0; i < n; i++ {
		select {
		case out <- int64(i):
		case <-done:
			return
		}
	}
}

// pass sends what arrives on in to out until in closes or done does.
func pass(done <-chan struct{}, in <-chan int64, out chan<- int64) {
	passIf(done, in, out, nil)
}

// passIf is pass for the values keep accepts (nil: every value).
func passIf(done <-chan struct{}, in <-chan int64, out chan<- int64, keep func(int64) bool) {
	for {
		select {
		case v, ok := <-in:
			if !ok {
				return
			}
			if keep != nil && !keep(v) {
				continue
			}
			select {
			case out <- v:
			case <-done:
				return
			}
		case <-done:
			return
		}
	}
}

// forward is pass closing out at the end: a pipeline stage with no work,
// and chanlab's or-done.
func forward(done <-chan struct{}, in <-chan int64, out chan<- int64) {
	defer close(out)
	pass(done, in, out)
}

// passAll runs pass from each input to out on a goroutine of its own and
// closes out when all have ended: a worker pool (the same input for every
// worker) and chanlab's fan-in (a goroutine per input).
func passAll(done <-chan struct{}, ins []<-chan int64, out chan<- int64) {
	var wg sync.WaitGroup
	wg.Add(len(ins))
	for _, in := range ins {
		go func(in <-chan int64) {
			defer wg.Done()
			pass(done, in, out)
		}(in)
	}
	go func() { wg.Wait(); close(out) }()
}

// drain counts the values of ch until it closes.
func drain(ch <-chan int64) int {
	n := 0
	for range ch {
		n++
	}
	return n
}

// checkCount ends the run when a round lost or invented values.
func checkCount(name string, got, want int) {
	if got != want {
		lost(name, uint64(got), uint64(want))
	}
}

type shape func(name string, n, param int) time.Duration

// stream times one round of a stream shape: build starts the shape's
// goroutines and returns the channel its n values come out of.
func stream(name string, n int, build func(done <-chan struct{}) <-chan int64) time.Duration {
	t := time.Now()
	done := make(chan struct{})
	defer close(done)
	checkCount(name, drain(build(done)), n)
	return time.Since(t)
}

func pipeline(name string, n, depth int) time.Duration {
	return stream(name, n, func(done <-chan struct{}) <-chan int64 {
		src := make(chan int64)
		go generator(done, n, src)
		var in <-chan int64 = src
		for d := 0; d < depth; d++ {
			out := make(chan int64)
			go forward(done, in, out)
			in = out
		}
		return in
	})
}

func pool(name string, n, workers int) time.Duration {
	return stream(name, n, func(done <-chan struct{}) <-chan int64 {
		in, out := make(chan int64, 128), make(chan int64, 128)
		go generator(done, n, in)
		ins := make([]<-chan int64, workers)
		for w := range ins {
			ins[w] = in
		}
		passAll(done, ins, out)
		return out
	})
}

func fanIn(name string, n, inputs int) time.Duration {
	return stream(name, n, func(done <-chan struct{}) <-chan int64 {
		out := make(chan int64)
		ins := make([]<-chan int64, inputs)
		for i := range ins {
			c := make(chan int64)
			go generator(done, split(n, inputs, i), c)
			ins[i] = c
		}
		passAll(done, ins, out)
		return out
	})
}

func orDone(name string, n, _ int) time.Duration {
	return stream(name, n, func(done <-chan struct{}) <-chan int64 {
		src, out := make(chan int64), make(chan int64)
		go generator(done, n, src)
		go forward(done, src, out)
		return out
	})
}

// tee is "Concurrency in Go"'s: each value goes to both outputs, in
// whichever order they are ready (a sent side's channel set to nil).
func tee(name string, n, _ int) time.Duration {
	t := time.Now()
	done := make(chan struct{})
	defer close(done)
	src, out1, out2 := make(chan int64), make(chan int64), make(chan int64)
	go generator(done, n, src)
	go func() {
		defer close(out1)
		defer close(out2)
		for v := range src {
			o1, o2 := out1, out2
			for i := 0; i < 2; i++ {
				select {
				case o1 <- v:
					o1 = nil
				case o2 <- v:
					o2 = nil
				case <-done:
					return
				}
			}
		}
	}()
	got2 := make(chan int)
	go func() { got2 <- drain(out2) }()
	checkCount(name, drain(out1), n)
	checkCount(name, <-got2, n)
	return time.Since(t)
}

// daisy is Rob Pike's daisy chain of n links (goroutines), time for one
// value to pass all of them, goroutine starts included.
func daisy(name string, links, _ int) time.Duration {
	t := time.Now()
	leftmost := make(chan int64)
	right, left := leftmost, leftmost
	for i := 0; i < links; i++ {
		right = make(chan int64)
		go func(left, right chan int64) { left <- 1 + <-right }(left, right)
		left = right
	}
	go func(c chan int64) { c <- 1 }(right)
	if v := <-leftmost; v != int64(links)+1 {
		lost(name, uint64(v), uint64(links)+1)
	}
	return time.Since(t)
}

// sieve finds the first n primes with a filter goroutine per prime; the
// time is until the n-th arrives (stopping the goroutines is not timed).
func sieve(name string, _, primes int) time.Duration {
	t := time.Now()
	done := make(chan struct{})
	var wg sync.WaitGroup
	ch := make(chan int64)
	wg.Add(1)
	go func(ch chan<- int64) { // 2, 3, 4, ...
		defer wg.Done()
		for i := int64(2); ; i++ {
			select {
			case ch <- i:
			case <-done:
				return
			}
		}
	}(ch)
	var prime int64
	for i := 0; i < primes; i++ {
		prime = <-ch
		if i+1 == primes {
			break
		}
		in, out := ch, make(chan int64)
		wg.Add(1)
		go func(p int64) { // drops the multiples of p
			defer wg.Done()
			passIf(done, in, out, func(v int64) bool { return v%p != 0 })
		}(prime)
		ch = out
	}
	elapsed := time.Since(t)
	close(done)
	wg.Wait()
	if want := nthPrime(primes); prime != want {
		lost(name, uint64(prime), uint64(want))
	}
	return elapsed
}

func nthPrime(n int) int64 {
	found, x := 0, int64(1)
	for found < n {
		x++
		prime := true
		for d := int64(2); d*d <= x && prime; d++ {
			prime = x%d != 0
		}
		if prime {
			found++
		}
	}
	return x
}

// spawn starts n goroutines one after the other, each returning at once,
// and waits for each: time per spawn, exit and join.
func spawn(_ string, n, _ int) time.Duration {
	t := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go wg.Done()
		wg.Wait()
	}
	return time.Since(t)
}

// yieldPing: two goroutines on one P (GOMAXPROCS 1, set around the
// repetition) each call runtime.Gosched n times: n round trips of two
// switches.
func yieldPing(_ string, n, _ int) time.Duration {
	var wg sync.WaitGroup
	wg.Add(2)
	t := time.Now()
	for g := 0; g < 2; g++ {
		go func() {
			defer wg.Done()
			for i := 0; i < n; i++ {
				runtime.Gosched()
			}
		}()
	}
	wg.Wait()
	return time.Since(t)
}

// patternSuite lists the pattern and goroutine benchmarks of the quick or
// the full suite: the configurations chanlab measures on fibers
// (bench/scenarios/pattern_bench.c, runtime.c), with the same values per
// round (a quarter of --messages for pipelines).
func patternSuite(full bool, messages int, minTime float64) []bench {
	var out []bench
	add := func(scenario, param string, values, quick []int, perRound func(v int) int, s shape) {
		for _, v := range values {
			if !full && !contains(quick, v) {
				continue
			}
			name := fmt.Sprintf("%s/impl:go/place:unpinned", scenario)
			if param != "" {
				name += fmt.Sprintf("/%s:%d", param, v)
			}
			name += "/manual_time"
			v, n := v, perRound(v)
			out = append(out, bench{scenario, name, func() result {
				return measure(name, n, minTime, func(n int) time.Duration { return s(name, n, v) })
			}})
		}
	}
	values := func(int) int { return messages }
	add("pattern_pipeline", "depth", []int{1, 4, 16}, []int{1, 4, 16},
		func(int) int { return messages / 4 }, pipeline)
	var workers []int
	for w := 1; w <= 4*runtime.GOMAXPROCS(0) && len(workers) < 16; w *= 2 {
		workers = append(workers, w)
	}
	quickPool := workers[0]
	if len(workers) > 1 {
		quickPool = workers[len(workers)-2] // about 2x the PUs
	}
	add("pattern_pool", "workers", workers, []int{quickPool}, values, pool)
	add("pattern_fanin", "inputs", []int{2, 4, 8}, []int{4}, values, fanIn)
	add("pattern_ordone", "", []int{0}, []int{0}, values, orDone)
	add("pattern_tee", "", []int{0}, []int{0}, values, tee)
	add("pattern_daisy", "links", []int{1000, 10000, 100000}, []int{1000, 100000},
		func(v int) int { return v }, daisy)
	add("pattern_sieve", "primes", []int{100, 300, 1000}, []int{300},
		func(int) int { return 1 }, sieve)
	add("spawn", "", []int{0}, []int{0}, func(int) int { return 2000 }, spawn)
	add("switch", "", []int{0}, []int{0}, func(int) int { return 10000 },
		func(name string, n, v int) time.Duration {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
			return yieldPing(name, n, v)
		})
	return out
}

func contains(xs []int, v int) bool {
	for _, x := range xs {
		if x == v {
			return true
		}
	}
	return false
}
