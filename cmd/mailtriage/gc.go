package main

import (
	"os"
	"runtime/debug"
)

// heapCap bounds the heap of a command that collects less (see
// collectLess): past it, collections come as often as they must.
const heapCap = 2 << 30

// collectLess tunes the garbage collector for a command that makes much
// short-lived garbage around a small live heap: the heap may grow by
// percent% between collections instead of 100%, which saves most of the
// collections' work, but not past heapCap, the memory limit of the Go GC
// guide's advice for such work. GOGC and GOMEMLIMIT in the environment
// win.
func collectLess(percent int) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(percent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(heapCap)
	}
}
