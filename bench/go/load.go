// load.go - background CPU hogs for the loaded-machine scenario
// (--background-load N), the same as chanbench's (bench/load.c): N child
// processes, each spinning on one of the last N PUs this process may use.
// A process, not a goroutine: a spinning goroutine would hold one of the
// runtime's Ps, loading Go differently from chanlab; a pinned process
// competes with both through the OS scheduler alone.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"syscall"
	"unsafe"
)

// hogEnv names the PU a child started by startLoad spins on.
const hogEnv = "CHANLAB_GOCHAN_HOG_PU"

type cpuMask [16]uint64 // 1024 PUs, as glibc's cpu_set_t

func affinity() ([]int, error) {
	var m cpuMask
	if _, _, e := syscall.RawSyscall(syscall.SYS_SCHED_GETAFFINITY, 0, unsafe.Sizeof(m), uintptr(unsafe.Pointer(&m))); e != 0 {
		return nil, e
	}
	var pus []int
	for i := 0; i < len(m)*64; i++ {
		if m[i/64]&(1<<(uint(i)%64)) != 0 {
			pus = append(pus, i)
		}
	}
	return pus, nil
}

// hogIfAsked spins forever, pinned, when this process is a hog child.
func hogIfAsked() {
	v, ok := os.LookupEnv(hogEnv)
	if !ok {
		return
	}
	pu, err := strconv.Atoi(v)
	if err != nil || pu < 0 || pu >= len(cpuMask{})*64 {
		os.Exit(2)
	}
	runtime.GOMAXPROCS(1)
	runtime.LockOSThread()
	var m cpuMask
	m[pu/64] |= 1 << (uint(pu) % 64)
	syscall.RawSyscall(syscall.SYS_SCHED_SETAFFINITY, 0, unsafe.Sizeof(m), uintptr(unsafe.Pointer(&m)))
	for x := 0; ; x++ {
	}
}

// startLoad starts n hogs on the last n PUs; it returns them, with a note
// for the JSON context.
func startLoad(n int) ([]*exec.Cmd, string, error) {
	pus, err := affinity()
	if err != nil {
		return nil, "", fmt.Errorf("sched_getaffinity: %v", err)
	}
	if n < 1 || n > len(pus) {
		return nil, "", fmt.Errorf("%d hogs asked for, but this process may use %d PUs (1 to %d)", n, len(pus), len(pus))
	}
	self, err := os.Executable()
	if err != nil {
		return nil, "", err
	}
	note := fmt.Sprintf("%d spinning process", n)
	if n > 1 {
		note += "es"
	}
	note += ", pinned to PU"
	var hogs []*exec.Cmd
	for i := 0; i < n; i++ {
		pu := pus[len(pus)-1-i]
		c := exec.Command(self)
		c.Env = append(os.Environ(), fmt.Sprintf("%s=%d", hogEnv, pu))
		c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := c.Start(); err != nil {
			stopLoad(hogs)
			return nil, "", err
		}
		hogs = append(hogs, c)
		if i > 0 {
			note += ","
		}
		note += fmt.Sprintf(" %d", pu)
	}
	return hogs, note, nil
}

func stopLoad(hogs []*exec.Cmd) {
	for _, c := range hogs {
		c.Process.Kill()
		c.Wait()
	}
}
