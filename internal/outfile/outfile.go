// Package outfile writes a report to the file a user named, so that a
// reader never sees half of it: the data goes to a temporary file in the
// same folder, which is renamed into place (rename(2) is atomic within a
// file system). A path that is no regular file, such as /dev/stdout or a
// named pipe, is written to as it is and never replaced; a symbolic link
// stays, and the file it points to is replaced.
package outfile

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
)

// resolve returns where a report for path is written: path itself, or
// the file a symbolic link points to, there yet or not, so that the link
// stays. direct says path is no regular file (a device such as
// /dev/stdout or /dev/null, a named pipe): it is written to as it is,
// never replaced. Links that loop are an error, as they are to a shell's
// "> path": any path chosen would replace one of them.
func resolve(path string) (real string, direct bool, err error) {
	st, err := os.Stat(path)
	if err != nil {
		if real, ok := dangling(path); ok {
			return real, false, nil
		}
		return "", false, err
	}
	if !st.Mode().IsRegular() {
		return path, true, nil
	}
	if real, err := filepath.EvalSymlinks(path); err == nil {
		return real, false, nil
	}
	return path, false, nil
}

// dangling returns where a symbolic link to nothing points, which is
// where a shell's "> path" creates the file, so that the link stays;
// anything else is path itself. It is false for links that still lead to
// a link after as many as the kernel follows (ELOOP).
func dangling(path string) (string, bool) {
	for range 40 {
		target, err := os.Readlink(path)
		if err != nil {
			return path, true
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(path), target)
		}
		path = target
	}
	return "", false
}

// ErrIsDir is returned by CheckWritable for a folder.
var ErrIsDir = errors.New("is a directory; name a file in it")

// CheckWritable tells, before any work is done, whether Write could put a
// file at path: path is no folder and a file can be created next to it.
func CheckWritable(path string) error {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("%s: %w", path, ErrIsDir)
	}
	real, direct, err := resolve(path)
	if err != nil {
		return fmt.Errorf("%s: cannot write there: %w", path, unwrapPath(err))
	}
	if direct {
		return nil
	}
	f, err := Temp(real) // as Write will make it
	if err != nil {
		return fmt.Errorf("%s: cannot write there: %w", real, unwrapPath(err))
	}
	f.Close()
	return os.Remove(f.Name())
}

// Write puts data at path whole or not at all (see the package comment).
// A new file gets the mode the umask gives new files; one written over an
// existing file keeps its permissions, since a report may name people.
func Write(path string, data []byte) error {
	name := path
	path, direct, err := resolve(path)
	if err != nil {
		return fmt.Errorf("writing %s: %w", name, unwrapPath(err))
	}
	if direct {
		return writeDirect(name, path, data)
	}
	tmp, err := Temp(path)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, unwrapPath(err))
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := Commit(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// Commit renames tmp, a finished file Temp(path) made, onto path. A file
// it replaces keeps its permissions (a report or list may name people,
// and its owner may have narrowed them); path is a regular file or none,
// as resolve left it.
func Commit(tmp, path string) error {
	if st, err := os.Stat(path); err == nil {
		if err := os.Chmod(tmp, st.Mode().Perm()); err != nil {
			return err
		}
	}
	return os.Rename(tmp, path)
}

// Temp creates a temporary file next to path, to be renamed onto it once
// written, for a writer that streams: os.CreateTemp(dir, "."+base+".*")
// with the mode a new file gets, 0666 less the umask, as a shell's
// "> file" gives it. os.CreateTemp's 0600, widened to a fixed 0644,
// would ignore a umask of 077, and a report or list names people.
func Temp(path string) (*os.File, error) {
	dir, base := filepath.Dir(path), filepath.Base(path)
	for range 10000 {
		name := filepath.Join(dir, "."+base+"."+strconv.FormatUint(rand.Uint64(), 36))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, err
	}
	return nil, &os.PathError{Op: "createtemp", Path: filepath.Join(dir, "."+base+".*"), Err: fs.ErrExist}
}

// writeDirect writes data to a path that is no regular file.
func writeDirect(name, path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("writing %s: %w", name, unwrapPath(err))
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", name, unwrapPath(err))
	}
	return nil
}

// unwrapPath drops the temporary file's name from an error, leaving what
// went wrong ("permission denied", "no such file or directory").
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
