//go:build unix

package source

import (
	"io/fs"
	"strconv"
	"syscall"
)

// fileID is the device and inode of a file.
func fileID(st fs.FileInfo) string {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	return strconv.FormatUint(uint64(sys.Dev), 10) + ":" + strconv.FormatUint(sys.Ino, 10)
}
