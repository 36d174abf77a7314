//go:build amd64 || arm64

package prefetch

import "unsafe"

// Enabled says Line asks the processor for memory here.
const Enabled = true

// Line asks for the cache line that holds p. It never faults: an address
// that is not mapped is ignored.
//
//go:noescape
func Line(p unsafe.Pointer)
