package keystore

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// fileMode is the mode of every file this package writes.
const fileMode os.FileMode = 0o600

// writeTemp writes data to a new temporary file (mode 0600) in dir, syncs it
// and closes it, and returns its name. The caller renames, links or removes it.
func writeTemp(dir, base string, data []byte) (name string, err error) {
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return "", fmt.Errorf("create temporary file: %w", err)
	}
	name = f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(name)
		}
	}()
	// CreateTemp already uses 0600; Chmod makes that independent of it.
	if err := f.Chmod(fileMode); err != nil && runtime.GOOS != "windows" {
		return "", fmt.Errorf("chmod temporary file: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		return "", fmt.Errorf("write temporary file: %w", err)
	}
	if err := f.Sync(); err != nil {
		return "", fmt.Errorf("sync temporary file: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("close temporary file: %w", err)
	}
	return name, nil
}

// writeFileAtomic replaces path with data: a reader sees either the old
// contents or the new, never a mix, and the new contents are durable when it
// returns.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := writeTemp(dir, filepath.Base(path), data)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("rename temporary file: %w", err)
	}
	return syncDir(dir)
}

// writeFileExclusive creates path with data, failing with an error that
// matches fs.ErrExist if path already exists. The file appears complete or not
// at all: it is written under a temporary name and hard-linked into place, so
// a crash never leaves a truncated key behind.
func writeFileExclusive(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := writeTemp(dir, filepath.Base(path), data)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	return syncDir(dir)
}

// checkPrivate returns an error unless fi, the file at path, is a regular file
// that only its owner can read or write.
func checkPrivate(path string, fi os.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", path)
	}
	if runtime.GOOS == "windows" {
		return nil // permission bits do not describe Windows ACLs
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("%s is accessible by group or others (mode %04o); restrict it with: chmod 600 %s", path, perm, path)
	}
	return nil
}

// errIsExist reports whether err says that a file already exists.
func errIsExist(err error) bool { return errors.Is(err, os.ErrExist) }
