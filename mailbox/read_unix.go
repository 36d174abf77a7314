//go:build unix

package mailbox

import (
	"errors"
	"io/fs"
	"syscall"
)

// readSmall reads a regular file smaller than limit whole, with four
// system calls: open, fstat, read, close. os.Open makes five more on
// Linux (it offers the file to the network poller, which refuses regular
// files, and sets its mode back), which for a folder of small bounces is
// half of the reading. ok is false, with no error, for a file it leaves
// to a streaming read: too large, or not a regular file.
func readSmall(path string, limit int64) (data []byte, ok bool, err error) {
	fd, err := retry(func() (int, error) { return syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0) })
	if err != nil {
		return nil, false, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if _, err := retry(func() (int, error) { return 0, syscall.Fstat(fd, &st) }); err != nil {
		return nil, false, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG || st.Size >= limit {
		return nil, false, nil
	}
	data = make([]byte, st.Size)
	n := 0
	for n < len(data) {
		m, err := retry(func() (int, error) { return syscall.Read(fd, data[n:]) })
		if err != nil {
			return nil, false, &fs.PathError{Op: "read", Path: path, Err: err}
		}
		if m == 0 {
			break // the file shrank since fstat
		}
		n += m
	}
	return data[:n], true, nil
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
