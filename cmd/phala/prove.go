package main

// --prove on queries: the answer is checked against a header CometBFT's
// light client verified from the trust root (package lightproof).

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/lightproof"
)

// connectProven starts a light client from the effective trust root for
// a query's --node. It fails with one line saying how to set a root when
// there is none.
func (p *proveFlags) connectProven(cmd *cobra.Command) (*lightproof.Verifier, trustSetting, context.Context, context.CancelFunc, error) {
	node, _ := cmd.Flags().GetString("node")
	timeout, _ := cmd.Flags().GetDuration("timeout")
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	path := configPathSetting(givenFlags(cmd), os.Getenv).Value
	file, _, err := loadClientConfig(path)
	if err != nil {
		return nil, trustSetting{}, nil, nil, err
	}
	ts, err := resolveTrust(p.given(), p.witnesses, os.Getenv, file)
	if err != nil {
		return nil, ts, nil, nil, err
	}
	if ts.RootSource == "" {
		return nil, ts, nil, nil, errNoTrustRoot
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	v, err := lightproof.New(ctx, lightproof.Options{Primary: node, Witnesses: ts.Witnesses, ChainID: expectedChain.chainID, Trust: ts.Root})
	if err != nil {
		cancel()
		return nil, ts, nil, nil, fmt.Errorf("--prove: %w", err)
	}
	return v, ts, ctx, cancel, nil
}

// provenJSON is what a query prints with --prove: its usual answer as
// value (null when proven absent, for entries without a zero form) and
// what vouches for it.
type provenJSON struct {
	Value    any          `json:"value"`
	Verified verifiedJSON `json:"verified"`
}

type verifiedJSON struct {
	ChainID      string   `json:"chain_id"`
	Key          string   `json:"key"`
	Found        bool     `json:"found"`
	Height       int64    `json:"height"` // the state after this block
	HeaderHeight int64    `json:"header_height"`
	HeaderHash   string   `json:"header_hash"`
	AppHash      string   `json:"app_hash"`
	TrustHeight  int64    `json:"trust_height"`
	TrustHash    string   `json:"trust_hash"`
	TrustSource  string   `json:"trust_source"`
	TrustOrigin  string   `json:"trust_origin,omitempty"`
	Witnesses    []string `json:"witnesses"`
	SelfWitness  bool     `json:"self_witness"`
	TrustMillis  float64  `json:"trust_root_ms"` // the light client starting from the trust root
	QueryMillis  float64  `json:"query_ms"`      // the node answering with its proof
	HeaderMillis float64  `json:"header_ms"`     // the light client verifying the header
	ProofMillis  float64  `json:"proof_ms"`      // checking the proof
}

func verifiedOut(p lightproof.Proven, ts trustSetting) verifiedJSON {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	w := p.Witnesses
	if w == nil {
		w = []string{}
	}
	return verifiedJSON{
		ChainID: p.ChainID, Key: strings.ToUpper(hex.EncodeToString(p.Key)), Found: p.Found,
		Height: p.Height, HeaderHeight: p.HeaderHeight,
		HeaderHash: strings.ToUpper(hex.EncodeToString(p.HeaderHash)), AppHash: strings.ToUpper(hex.EncodeToString(p.AppHash)),
		TrustHeight: p.Trust.Height, TrustHash: strings.ToUpper(hex.EncodeToString(p.Trust.Hash)),
		TrustSource: ts.RootSource, TrustOrigin: ts.RootOrigin, Witnesses: w, SelfWitness: p.SelfWitness,
		TrustMillis: ms(p.Timing.TrustRoot), QueryMillis: ms(p.Timing.Query), HeaderMillis: ms(p.Timing.Header), ProofMillis: ms(p.Timing.Proof),
	}
}

func (v verifiedJSON) text() string {
	what := "value"
	if !v.Found {
		what = "absence"
	}
	lines := []string{fmt.Sprintf("verified: %s at height %d, app hash %s in header %d (%s) signed by the trusted validator set (trust root height %d, %s)",
		what, v.Height, v.AppHash, v.HeaderHeight, v.HeaderHash, v.TrustHeight, v.TrustSource)}
	if v.TrustOrigin != "" {
		lines = append(lines, "trust root: "+v.TrustOrigin)
	}
	if v.SelfWitness {
		lines = append(lines, "witness: none configured, so the queried node was its own witness: the header rests on the validators' signatures alone, "+
			"not on a second node's view (give --witness URL or set witnesses in the client config)")
	} else {
		lines = append(lines, "witnesses: "+strings.Join(v.Witnesses, ", "))
	}
	return strings.Join(lines, "\n")
}

// emitProven prints a proven answer: the value as the query prints it
// without --prove, then what verified it.
func emitProven(value any, text func() string, p lightproof.Proven, ts trustSetting) error {
	v := verifiedOut(p, ts)
	return emit(provenJSON{Value: value, Verified: v}, func() string { return text() + "\n" + v.text() })
}

// provenQuery answers one --prove query from a verifier: the value, its
// text and what was proven.
type provenQuery func(ctx context.Context, v *lightproof.Verifier, args []string) (any, func() string, lightproof.Proven, error)

// withProve adds --prove and its flags to a query command defined
// elsewhere: with --prove, run answers instead of the command's own,
// unproven query.
func withProve(cmd *cobra.Command, run provenQuery) *cobra.Command {
	var pf proveFlags
	pf.register(cmd)
	unproven := cmd.RunE
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if !pf.prove {
			return unproven(cmd, args)
		}
		if err := checkArgs(cmd, args); err != nil {
			return err
		}
		v, ts, ctx, cancel, err := pf.connectProven(cmd)
		if err != nil {
			return err
		}
		defer cancel()
		value, text, p, err := run(ctx, v, args)
		if err != nil {
			return fmt.Errorf("--prove: not verified: %w", err)
		}
		return emitProven(value, text, p, ts)
	}
	return cmd
}

// checkArgs validates arguments before any node is asked.
func checkArgs(cmd *cobra.Command, args []string) error {
	if cmd.Name() == "worker" {
		_, err := identityKeyArg(args[0])
		return err
	}
	return nil
}

func identityKeyArg(s string) ([]byte, error) {
	id, err := hex.DecodeString(s)
	if err != nil || len(id) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("invalid identity key %q: want 64 hex digits", s)
	}
	return id, nil
}

// proveWorker proves a registered node, or that none is registered.
func proveWorker(ctx context.Context, v *lightproof.Verifier, args []string) (any, func() string, lightproof.Proven, error) {
	id, err := identityKeyArg(args[0])
	if err != nil {
		return nil, nil, lightproof.Proven{}, err
	}
	n, p, err := v.Node(ctx, id)
	if err != nil {
		return nil, nil, p, err
	}
	if !p.Found {
		return nil, func() string { return fmt.Sprintf("no node with identity key %s is registered", args[0]) }, p, nil
	}
	out := nodeOut(n)
	return out, out.text, p, nil
}

// provePolicy proves the attestation policy.
func provePolicy(ctx context.Context, v *lightproof.Verifier, _ []string) (any, func() string, lightproof.Proven, error) {
	pol, p, err := v.Policy(ctx)
	if err != nil {
		return nil, nil, p, err
	}
	return pol, func() string { return rowsText("", fieldRows(client.PolicyFields(pol))) }, p, nil
}

// proveSupply proves the total supply, the reward pool and the treasury at
// one height.
func proveSupply(ctx context.Context, v *lightproof.Verifier, _ []string) (any, func() string, lightproof.Proven, error) {
	s, p, err := v.Supply(ctx)
	if err != nil {
		return nil, nil, p, err
	}
	return supplyOut(s), func() string { return supplyText(s) }, p, nil
}
