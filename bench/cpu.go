package bench

import (
	"syscall"
	"time"
)

// processCPU is the CPU time (user and system) this process has used. On a
// shared machine the committed rate swings with other load; CPU time per
// committed transaction swings much less, so runs report both.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
