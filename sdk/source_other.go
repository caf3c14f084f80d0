//go:build !wasip1

package sdk

import "embed"

// Source is the SDK's own source, for `phala contract new`, which writes it
// beside a new contract as a local module: the SDK is not published on a
// module proxy, and a contract must build outside this repository. Host
// builds only, so contracts do not carry it.
//
//go:embed *.go
var Source embed.FS
