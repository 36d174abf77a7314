//go:build unix

package mailbox

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

// open opens a file to read. A regular file smaller than limit comes
// back read whole, with four system calls: open, fstat, read, close
// (os.Open makes five more on Linux: it offers the file to the network
// poller, which refuses regular files, and sets its mode back, and for a
// folder of small bounces that was half of the reading). Anything else (a
// large file, a pipe) comes back open, for a streaming read: it is not
// opened twice, which would lose what a pipe's writer had written. id is
// the file's device and inode.
func open(path string, limit int64) (data []byte, f *os.File, id fileID, err error) {
	fd, err := retry(func() (int, error) { return syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0) })
	if err != nil {
		return nil, nil, id, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	var st syscall.Stat_t
	if _, err := retry(func() (int, error) { return 0, syscall.Fstat(fd, &st) }); err != nil {
		syscall.Close(fd)
		return nil, nil, id, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	id = fileID{dev: uint64(st.Dev), ino: uint64(st.Ino)}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG || st.Size >= limit {
		return nil, os.NewFile(uintptr(fd), path), id, nil
	}
	defer syscall.Close(fd)
	data = make([]byte, st.Size)
	n := 0
	for n < len(data) {
		m, err := retry(func() (int, error) { return syscall.Read(fd, data[n:]) })
		if err != nil {
			return nil, nil, id, &fs.PathError{Op: "read", Path: path, Err: err}
		}
		if m == 0 {
			break // the file shrank since fstat
		}
		n += m
	}
	return data[:n], nil, id, nil
}

// retry calls f again when a signal interrupted it.
func retry(f func() (int, error)) (int, error) {
	for {
		n, err := f()
		if !errors.Is(err, syscall.EINTR) {
			return n, err
		}
	}
}
