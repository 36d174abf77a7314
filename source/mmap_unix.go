//go:build unix

package source

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// Map maps a plain (uncompressed) file into memory, read-only, so it can
// be parsed in place: no copy from the page cache, which on a fast parser
// costs as much as the parsing. It fails for standard input and pipes, compressed
// and empty files; use Reader then. The closer unmaps.
//
// If the file is truncated while mapped, touching the lost pages faults;
// callers that map files others may truncate must turn faults into errors
// (debug.SetPanicOnFault) in the goroutines that read the data.
func (in *Input) Map() (*Mapping, error) {
	if in.stream != nil || in.Compression != Plain || in.Size <= 0 {
		return nil, fmt.Errorf("%s: cannot be mapped", in.Name)
	}
	f, err := os.Open(in.Name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	if size <= 0 || int64(int(size)) != size {
		return nil, fmt.Errorf("%s: cannot be mapped", in.Name)
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("%s: mmap: %w", in.Name, err)
	}
	// The parser reads front to back: let the kernel read ahead.
	_ = unix.Madvise(data, unix.MADV_SEQUENTIAL)
	return &Mapping{Data: data, pageSize: os.Getpagesize()}, nil
}

// Mapping is a file mapped into memory.
type Mapping struct {
	Data     []byte
	pageSize int
	released int
}

// Release tells the system that the first n bytes are done with, so the
// pages stop counting against this process: its memory then follows what
// is being parsed, not the size of the file. The page cache keeps them.
func (m *Mapping) Release(n int) {
	end := n / m.pageSize * m.pageSize
	if end <= m.released {
		return
	}
	_ = unix.Madvise(m.Data[m.released:end], unix.MADV_DONTNEED)
	m.released = end
}

// Close unmaps the file.
func (m *Mapping) Close() error {
	return unix.Munmap(m.Data)
}
