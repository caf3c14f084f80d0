//go:build linux

package e2e

import "syscall"

// setDeathSignal has Linux kill the child if the test binary dies without
// running its cleanups (for example on a -timeout panic).
func setDeathSignal(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
