//go:build !unix

package source

import "fmt"

// Map is not available here; use Reader.
func (in *Input) Map() (*Mapping, error) {
	return nil, fmt.Errorf("%s: cannot be mapped on this system", in.Name)
}

// Mapping is a file mapped into memory; never made here.
type Mapping struct{ Data []byte }

// Release does nothing here.
func (m *Mapping) Release(n int) {}

// Close does nothing here.
func (m *Mapping) Close() error { return nil }
