//go:build !amd64 && !arm64

package prefetch

import "unsafe"

// Enabled says Line asks the processor for memory: not here. A caller
// that reads memory to learn what to ask for can skip that.
const Enabled = false

// Line asks for the cache line that holds p; on this architecture it
// does nothing.
func Line(p unsafe.Pointer) {}
