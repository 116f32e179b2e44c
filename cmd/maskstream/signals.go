package main

import (
	"os"
	"os/signal"
	"syscall"
	"time"
)

// repeatWindow is how soon after the first stop signal the same signal
// counts as the first one again rather than as the second that forces the
// exit. GNU timeout (without --foreground), and supervisors that signal a
// process and then its process group, deliver one stop twice within
// microseconds: taken as two, it skipped the drain (run exited 1 with
// records left to read again). A person asking for the forced exit sends
// the second signal after seeing the first one's log line.
const repeatWindow = 500 * time.Millisecond

// signalNow is the clock stopCount reads; tests replace it.
var signalNow = time.Now

// stopCount tells the second stop signal, which forces the exit, from
// the first and its repeats.
type stopCount struct {
	first os.Signal
	at    time.Time
}

// second records s, received at now, and reports whether it is the
// second stop signal: any signal after the first, except the first one
// again within repeatWindow.
func (c *stopCount) second(s os.Signal, now time.Time) bool {
	if c.first == nil {
		c.first, c.at = s, now
		return false
	}
	return s != c.first || now.Sub(c.at) >= repeatWindow
}

// killBy ends the process by s's default action, as an uncaught signal
// does (the exit status says which signal), for a command that caught its
// stop signals only to tell a repeat from a second one.
func killBy(s os.Signal) {
	signal.Reset(s)
	if n, ok := s.(syscall.Signal); ok {
		_ = syscall.Kill(os.Getpid(), n)
		time.Sleep(time.Second) // the kill is asynchronous; do not return into the drain
	}
	forceExit(1)
}
