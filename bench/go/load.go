package main

// Background load (--background-load N): spinning hogs that occupy PUs
// while the benchmarks run, the loaded-machine scenario, made as chanbench
// makes it (bench/load.c): N child processes with one spinning thread each,
// pinned to the last N PUs this process may run on, the last one first.
//
// Why a child process and not a goroutine locked to its thread
// (runtime.LockOSThread): a spinning goroutine holds one of GOMAXPROCS Ps,
// so Go's own scheduler would lose a P and time-slice its goroutines with
// the hog, where chanbench's threads and fibers share the PU through the
// kernel. A child process competes with Go's threads through the kernel
// exactly as chanbench's hog competes with its threads, and its CPU is not
// counted by the process's CPU clock (cpu_ns_per_msg) but shows as another
// process's in the noise figures, as in chanbench.

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"unsafe"
)

// hogEnv names the PU a child started by startLoad spins on.
const hogEnv = "CHANLAB_GOCHAN_HOG_PU"

// cpuMask is the kernel's cpu_set_t: CPU_SETSIZE (1024) bits.
type cpuMask [1024 / 64]uint64

// allowedPUs is the PUs this process may run on, in increasing order.
func allowedPUs() []int {
	var m cpuMask
	_, _, errno := syscall.RawSyscall(syscall.SYS_SCHED_GETAFFINITY, 0, unsafe.Sizeof(m), uintptr(unsafe.Pointer(&m)))
	if errno != 0 {
		return nil
	}
	var pus []int
	for cpu := 0; cpu < len(m)*64; cpu++ {
		if m[cpu/64]&(1<<(cpu%64)) != 0 {
			pus = append(pus, cpu)
		}
	}
	return pus
}

// maxHogs is the most hogs: one per PU this process may run on.
func maxHogs() int {
	if n := len(allowedPUs()); n > 0 {
		return n
	}
	return 1
}

var hogSpins uint64 // the hog's counter: a store per turn keeps the loop real work

// runHogIfAsked is the child's side: when started as a hog, pin the thread
// that runs this goroutine to the PU, say "ok" (or why not) on stdout, and
// spin until killed. Otherwise it returns at once.
func runHogIfAsked() {
	spec, ok := os.LookupEnv(hogEnv)
	if !ok {
		return
	}
	runtime.LockOSThread()
	cpu, err := strconv.Atoi(spec)
	if err != nil || cpu < 0 || cpu >= 1024 {
		fmt.Printf("bad %s=%q\n", hogEnv, spec)
		os.Exit(1)
	}
	var m cpuMask
	m[cpu/64] = 1 << (cpu % 64)
	// pid 0: the calling thread, the one this goroutine is locked to.
	if _, _, errno := syscall.RawSyscall(syscall.SYS_SCHED_SETAFFINITY, 0, unsafe.Sizeof(m), uintptr(unsafe.Pointer(&m))); errno != 0 {
		fmt.Printf("%v\n", errno)
		os.Exit(1)
	}
	fmt.Println("ok")
	os.Stdout.Close()
	for {
		hogSpins++
	}
}

// load is the running hogs.
type load struct{ hogs []*exec.Cmd }

// startLoad starts n hogs (this program again, as a hog) and waits until
// each is pinned and spinning; it returns them and the PUs they run on.
func startLoad(n int) (*load, []int, error) {
	l := &load{}
	pus := allowedPUs()
	if n < 0 || n > len(pus) {
		return nil, nil, fmt.Errorf("--background-load %d: wants 0 to %d (the PUs this process may run on)", n, len(pus))
	}
	self, err := os.Executable()
	if err != nil {
		return nil, nil, fmt.Errorf("background load: cannot find this program: %v", err)
	}
	var used []int
	for i := 0; i < n; i++ {
		cpu := pus[len(pus)-1-i]
		cmd := exec.Command(self)
		// One P: the hog's process runs one spinning goroutine.
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", hogEnv, cpu), "GOMAXPROCS=1")
		cmd.Stderr = os.Stderr
		// Dies with gochan if it is not stopped.
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		out, err := cmd.StdoutPipe()
		if err == nil {
			err = cmd.Start()
		}
		if err != nil {
			l.stop()
			return nil, nil, fmt.Errorf("background load: cannot start a hog: %v", err)
		}
		l.hogs = append(l.hogs, cmd)
		line, _ := bufio.NewReader(out).ReadString('\n')
		if line = strings.TrimSpace(line); line != "ok" {
			l.stop()
			if line == "" {
				line = "it exited at once"
			}
			return nil, nil, fmt.Errorf("background load: cannot pin a hog to PU %d: %s", cpu, line)
		}
		used = append(used, cpu)
	}
	return l, used, nil
}

// stop kills and reaps every hog.
func (l *load) stop() {
	for _, cmd := range l.hogs {
		cmd.Process.Kill()
		cmd.Wait()
	}
	l.hogs = nil
}
