package tdx

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ReportSubdir is where the configfs-tsm report interface lives, relative to
// the root of the filesystem (Linux 6.7 and later, configfs mounted).
const ReportSubdir = "sys/kernel/config/tsm/report"

// ReportDir is the configfs-tsm report directory. On the real configfs,
// making an entry directory makes the kernel populate it with its attribute
// files (inblob, outblob, provider, generation, ...); writing inblob bumps
// generation, and reading outblob returns a quote over the last inblob.
// Production uses OSReportDir; tests inject a fake that behaves the same way.
type ReportDir interface {
	// Mkdir creates the report entry named entry.
	Mkdir(entry string) error
	// ReadFile reads attribute attr of entry.
	ReadFile(entry, attr string) ([]byte, error)
	// WriteFile writes data to attribute attr of entry, in one write
	// (configfs binary attributes take effect when the file is closed).
	WriteFile(entry, attr string, data []byte) error
	// Remove removes the report entry.
	Remove(entry string) error
}

// OSReportDir is the configfs-tsm report directory at Path on the real
// filesystem, normally /sys/kernel/config/tsm/report.
type OSReportDir struct {
	Path string
}

var _ ReportDir = OSReportDir{}

// Mkdir creates Path/entry, failing clearly when Path does not exist.
func (d OSReportDir) Mkdir(entry string) error {
	err := os.Mkdir(filepath.Join(d.Path, entry), 0o700)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("not inside a TDX guest with configfs-tsm: %s missing (needs Linux 6.7 or later with configfs mounted): %w", d.Path, err)
	}
	if err != nil {
		return fmt.Errorf("configfs-tsm: create report entry: %w", err)
	}
	return nil
}

// ReadFile reads Path/entry/attr.
func (d OSReportDir) ReadFile(entry, attr string) ([]byte, error) {
	path := filepath.Join(d.Path, entry, attr)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("configfs-tsm: %s missing: %s is not a configfs-tsm report directory: %w", path, d.Path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("configfs-tsm: %w", err)
	}
	return b, nil
}

// WriteFile writes data to the existing attribute Path/entry/attr, without
// creating or truncating it.
func (d OSReportDir) WriteFile(entry, attr string, data []byte) error {
	path := filepath.Join(d.Path, entry, attr)
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("configfs-tsm: %s missing: %s is not a configfs-tsm report directory: %w", path, d.Path, err)
	}
	if err != nil {
		return fmt.Errorf("configfs-tsm: %w", err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr // configfs applies binary attributes on close
	}
	if err != nil {
		return fmt.Errorf("configfs-tsm: write %s: %w", path, err)
	}
	return nil
}

// Remove removes the entry directory (rmdir: configfs removes its
// attribute files with it).
func (d OSReportDir) Remove(entry string) error {
	if err := os.Remove(filepath.Join(d.Path, entry)); err != nil {
		return fmt.Errorf("configfs-tsm: remove report entry: %w", err)
	}
	return nil
}
