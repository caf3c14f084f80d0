// Package e2e holds end-to-end tests of the phala binary: they build
// ./cmd/phala, run devnets and testnets as real processes on loopback, kill
// them with SIGKILL, and drive them through the CLI the way an operator and a
// user would. The package has no code of its own; everything is in _test.go
// files. Run with `go test ./e2e/`; `-short` skips it.
package e2e
