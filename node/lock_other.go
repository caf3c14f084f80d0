//go:build !unix

package node

import "os"

// tryLock: without flock, a home is not guarded against a second start.
func tryLock(*os.File) (held bool, err error) { return false, nil }
