// Package newcontract writes the skeleton of a contract that builds on its
// own, outside this repository: a Go module with a starter contract, and
// the SDK beside it as a local module (the SDK is not on any module proxy),
// wired in with a replace directive. The contract imports the SDK by its
// usual path, so it reads like the examples in contracts/.
package newcontract

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/phala-go/phala/sdk"
)

// SDKDir is where the SDK's copy goes inside the new contract's folder.
const SDKDir = "phala-sdk"

const sdkModule = "github.com/phala-go/phala/sdk"

// ErrExists: the target folder is there already; nothing is overwritten.
var ErrExists = errors.New("folder exists")

var validName = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,63}$`)

// Write creates dir (which must not exist) holding contract name: the
// starter contract.
func Write(dir, name, goVersion string) error {
	return WriteMain(dir, name, goVersion, []byte(starter(name)))
}

// WriteMain creates dir (which must not exist) holding contract name whose
// main.go is mainGo: an existing contract (phala demo's examples) made a
// module that builds on its own.
func WriteMain(dir, name, goVersion string, mainGo []byte) error {
	if !validName.MatchString(name) {
		return fmt.Errorf("contract name %q: use lower-case letters, digits, '-' or '_', starting with a letter", name)
	}
	if _, err := os.Stat(dir); err == nil {
		return fmt.Errorf("%s: %w", dir, ErrExists)
	}
	files := map[string]string{
		"go.mod":                        contractMod(name, goVersion),
		"main.go":                       string(mainGo),
		filepath.Join(SDKDir, "go.mod"): fmt.Sprintf("module %s\n\ngo %s\n", sdkModule, goVersion),
	}
	if err := sdkFiles(files); err != nil {
		return err
	}
	for rel, text := range files {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// sdkFiles adds the SDK's sources, without its tests and without the file
// that embeds them.
func sdkFiles(files map[string]string) error {
	return fs.WalkDir(sdk.Source, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, "_test.go") || p == "source_other.go" {
			return err
		}
		b, err := fs.ReadFile(sdk.Source, p)
		if err != nil {
			return err
		}
		files[filepath.Join(SDKDir, path.Base(p))] = string(b)
		return nil
	})
}

func contractMod(name, goVersion string) string {
	return fmt.Sprintf(`module %s

go %s

require %s v0.0.0

replace %s => ./%s
`, name, goVersion, sdkModule, sdkModule, SDKDir)
}

func starter(name string) string {
	return fmt.Sprintf(`// Command %s is a confidential contract: each caller keeps a private
// counter that only they can read.
package main

import "github.com/phala-go/phala/sdk"

var counts = sdk.NewMap[uint64]("count")

func init() {
	// A command changes state; it runs in every worker of the cluster, in
	// chain order.
	sdk.Command("bump", func(sdk.Empty) (uint64, error) {
		n, _, err := counts.Get(sdk.CallerAddress().Key())
		if err != nil {
			return 0, err
		}
		return n + 1, counts.Set(sdk.CallerAddress().Key(), n+1)
	})
	// A query reads state; it runs in one worker and changes nothing.
	sdk.Query("mine", func(sdk.Empty) (uint64, error) {
		n, _, err := counts.Get(sdk.CallerAddress().Key())
		return n, err
	})
}

func main() {}
`, name)
}
