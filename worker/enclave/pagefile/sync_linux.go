package pagefile

import (
	"os"

	"golang.org/x/sys/unix"
)

// syncDir flushes the whole file system holding dir (syncfs): one call
// for every page written since the last, where fsyncing each would cost
// one disk flush per page.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return unix.Syncfs(int(f.Fd()))
}
