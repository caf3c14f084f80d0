// Package contracts carries the example contracts' sources (token,
// secretstore, voting, inference: each a main package in the folder of
// its name), so a program can build them anywhere, outside this
// repository: `phala demo` writes each into a module of its own beside the
// SDK (sdk/newcontract) and builds it as `phala contract build` does.
package contracts

import (
	"embed"
	"fmt"
	"slices"
)

// The examples, by name (their folder and their module's name).
const (
	Token       = "token"
	SecretStore = "secretstore"
	Voting      = "voting"
	Inference   = "inference"
)

// Examples are the example contracts' names, in the order the demo runs them.
var Examples = []string{Token, SecretStore, Voting, Inference}

// sources holds each example's contract (its tests stay out: they import
// test support from this repository).
//
//go:embed token/main.go secretstore/main.go voting/main.go inference/main.go
var sources embed.FS

// Source is the main.go of example name.
func Source(name string) ([]byte, error) {
	if !slices.Contains(Examples, name) {
		return nil, fmt.Errorf("no example contract %q (have %v)", name, Examples)
	}
	return sources.ReadFile(name + "/main.go")
}
