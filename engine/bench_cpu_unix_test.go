//go:build unix

package engine

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time this process has used (all threads, so the
// garbage collector's background work counts). The ratio benchmark times
// with it: on a shared machine, wall time also counts the time the process
// waited for a core, which differs from one slice to the next.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return time.Duration(time.Now().UnixNano())
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
