//go:build !unix

package mailbox

import "os"

// readSmall reads a regular file smaller than limit whole. ok is false,
// with no error, for a file it leaves to a streaming read: too large, or
// not a regular file.
func readSmall(path string, limit int64) (data []byte, ok bool, err error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, false, err
	}
	if !st.Mode().IsRegular() || st.Size() >= limit {
		return nil, false, nil
	}
	data, err = os.ReadFile(path)
	return data, err == nil, err
}
