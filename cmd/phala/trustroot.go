package main

// Trust roots and witnesses for proven queries (--prove), with the same
// precedence as the other client settings: flag, environment, config
// file; there is no default, since a trust root is the user's choice.

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/phala-go/phala/lightproof"
)

// Environment variables of proven queries.
const (
	envTrustHeight = "PHALA_TRUST_HEIGHT"
	envTrustHash   = "PHALA_TRUST_HASH"
	envWitnesses   = "PHALA_WITNESSES" // comma-separated node URLs
)

// root checks the file's form of a trust root and converts it.
func (t trustConfig) root() (lightproof.TrustRoot, error) {
	r, err := parseTrustRoot(strconv.FormatInt(t.Height, 10), t.Hash)
	if err != nil {
		return r, err
	}
	if t.Period != "" {
		if r.Period, err = time.ParseDuration(t.Period); err != nil || r.Period <= 0 {
			return r, fmt.Errorf("period %q: want a positive duration such as 336h", t.Period)
		}
	}
	return r, nil
}

// parseTrustRoot reads a height and a header hash (hex, 0x allowed).
func parseTrustRoot(height, hash string) (lightproof.TrustRoot, error) {
	h, err := strconv.ParseInt(height, 10, 64)
	if err != nil || h <= 0 {
		return lightproof.TrustRoot{}, fmt.Errorf("trust height %q: want a positive block height", height)
	}
	b, err := hex.DecodeString(strings.TrimPrefix(strings.TrimPrefix(hash, "0x"), "0X"))
	if err != nil || len(b) != 32 {
		return lightproof.TrustRoot{}, fmt.Errorf("trust hash %q: want the header's hash, 64 hex digits", hash)
	}
	return lightproof.TrustRoot{Height: h, Hash: b}, nil
}

// trustSetting is the effective trust root and witnesses, and where each
// came from.
type trustSetting struct {
	Root            lightproof.TrustRoot
	RootSource      string
	RootOrigin      string // the file's source note: how the root was chosen
	Witnesses       []string
	WitnessesSource string
}

// errNoTrustRoot is the one line a --prove without a root prints.
var errNoTrustRoot = errors.New("--prove needs a trust root: run `phala config trust --height H --hash HEADER_HASH` " +
	"(or `phala config trust --from-node` to trust the configured node once), or give --trust-height and --trust-hash")

// resolveTrust applies the precedence. flags holds the values given on
// the command line; a height and a hash must come from the same level.
func resolveTrust(flags map[string]string, witnessFlags []string, getenv func(string) string, file clientConfig) (trustSetting, error) {
	var s trustSetting
	levels := []struct{ height, hash, source string }{
		{flags["trust-height"], flags["trust-hash"], "flags --trust-height/--trust-hash"},
		{getenv(envTrustHeight), getenv(envTrustHash), "env " + envTrustHeight + "/" + envTrustHash},
	}
	for _, l := range levels {
		if l.height == "" && l.hash == "" {
			continue
		}
		if l.height == "" || l.hash == "" {
			return s, fmt.Errorf("%s: give both a height and a hash", l.source)
		}
		r, err := parseTrustRoot(l.height, l.hash)
		if err != nil {
			return s, fmt.Errorf("%s: %w", l.source, err)
		}
		s.Root, s.RootSource = r, l.source
		break
	}
	if s.RootSource == "" && file.Trust != nil {
		r, err := file.Trust.root()
		if err != nil {
			return s, err
		}
		s.Root, s.RootSource, s.RootOrigin = r, sourceFile, file.Trust.Source
	}
	s.Witnesses, s.WitnessesSource = resolveWitnesses(witnessFlags, getenv, file)
	for _, w := range s.Witnesses {
		if err := checkNodeURL(w); err != nil {
			return s, fmt.Errorf("witness (%s): %w", s.WitnessesSource, err)
		}
	}
	return s, nil
}

func resolveWitnesses(flagged []string, getenv func(string) string, file clientConfig) ([]string, string) {
	if len(flagged) > 0 {
		return flagged, "flag --witness"
	}
	if env := getenv(envWitnesses); env != "" {
		var out []string
		for _, w := range strings.Split(env, ",") {
			if w = strings.TrimSpace(w); w != "" {
				out = append(out, w)
			}
		}
		return out, "env " + envWitnesses
	}
	if len(file.Witnesses) > 0 {
		return file.Witnesses, sourceFile
	}
	return nil, sourceDefault
}

// proveFlags are the flags of a query that can prove its answer.
type proveFlags struct {
	prove       bool
	trustHeight string
	trustHash   string
	witnesses   []string
}

func (p *proveFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.BoolVar(&p.prove, "prove", false, "verify the answer: a Merkle proof against the app hash of a header the light client verified from the trust root (phala config trust)")
	f.StringVar(&p.trustHeight, "trust-height", "", "with --prove: the trusted header's height (default: $"+envTrustHeight+", else the client config's trust root)")
	f.StringVar(&p.trustHash, "trust-hash", "", "with --prove: the trusted header's hash, hex (default: $"+envTrustHash+", else the client config's)")
	f.StringSliceVar(&p.witnesses, "witness", nil, "with --prove: a node to cross-check headers with (repeatable; default: $"+envWitnesses+", else the client config's witnesses, else the queried node itself)")
}

func (p *proveFlags) given() map[string]string {
	m := map[string]string{}
	if p.trustHeight != "" {
		m["trust-height"] = p.trustHeight
	}
	if p.trustHash != "" {
		m["trust-hash"] = p.trustHash
	}
	return m
}

func witnessesText(w []string) string {
	if len(w) == 0 {
		return "none (proven queries use the queried node as its own witness)"
	}
	return strings.Join(w, ", ")
}
