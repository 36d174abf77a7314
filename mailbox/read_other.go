//go:build !unix

package mailbox

import (
	"io"
	"os"
)

// open opens a file to read. A regular file smaller than limit comes
// back read whole; anything else (a large file, a pipe) comes back open,
// for a streaming read.
func open(path string, limit int64) (data []byte, f *os.File, err error) {
	f, err = os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() || st.Size() >= limit {
		return nil, f, nil
	}
	defer f.Close()
	data, err = io.ReadAll(f)
	return data, nil, err
}
