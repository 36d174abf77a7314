//go:build !unix

package source

import "io/fs"

// fileID is unknown here; Identity falls back to the absolute path.
func fileID(fs.FileInfo) string { return "" }
