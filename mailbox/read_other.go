//go:build !unix

package mailbox

import (
	"io"
	"os"
)

// open opens a file to read. A regular file smaller than limit comes
// back read whole; anything else (a large file, a pipe) comes back open,
// for a streaming read. id is zero: the file is not known to be one read
// before.
func open(path string, limit int64) (data []byte, f *os.File, id fileID, err error) {
	f, err = os.Open(path)
	if err != nil {
		return nil, nil, id, err
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() || st.Size() >= limit {
		return nil, f, id, nil
	}
	defer f.Close()
	data, err = io.ReadAll(f)
	return data, nil, id, err
}
