package lightproof

import (
	"bytes"
	"context"
	"time"

	"github.com/phala-go/phala/attest"
	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/proof"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/cometrpc"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/token"
)

// Proven is a state entry and what vouches for it.
type Proven struct {
	ChainID string
	Key     []byte
	Found   bool
	Value   []byte // the stored bytes; nil when proven absent
	// Height is the block after which the state holds the entry; the
	// header of Height+1 carries that state's app hash.
	Height       int64
	HeaderHeight int64
	HeaderHash   []byte
	AppHash      []byte
	HeaderTime   time.Time
	Trust        TrustRoot
	Witnesses    []string // the nodes headers were cross-checked with
	SelfWitness  bool     // none configured: the primary was its own witness
	Timing       Timing
}

// Timing splits a proven read's time: the node answering the query with
// its proof, the light client verifying the header (its requests
// included), and checking the proof.
type Timing struct {
	TrustRoot time.Duration // starting the light client from the trust root (once per Verifier)
	Query     time.Duration
	Header    time.Duration
	Proof     time.Duration
}

// State proves the raw entry under key (or its absence) in the state
// after the newest block but one, whose next header already exists. On a
// chain that has only its first block it waits for the second (until
// ctx ends).
func (v *Verifier) State(ctx context.Context, key []byte) (Proven, error) {
	latest, err := v.waitHeight(ctx, 2)
	if err != nil {
		return Proven{}, err
	}
	return v.StateAt(ctx, key, latest-1)
}

// waitHeight polls the primary until its newest height is at least min.
func (v *Verifier) waitHeight(ctx context.Context, min int64) (int64, error) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		latest, err := v.client.LatestHeight(ctx)
		if err != nil {
			return 0, ErrChain.Wrapf("%v", err)
		}
		if latest >= min {
			return latest, nil
		}
		select {
		case <-ctx.Done():
			return 0, ErrChain.Wrapf("the chain is at height %d: a proof needs the header after the state, and block %d did not come in time", latest, min)
		case <-tick.C:
		}
	}
}

// StateAt proves the raw entry under key (or its absence) in the state
// after height, which must be committed and have a header after it.
func (v *Verifier) StateAt(ctx context.Context, key []byte, height int64) (Proven, error) {
	p := Proven{ChainID: v.chainID, Key: bytes.Clone(key), Height: height, Trust: v.trust, Witnesses: v.witnesses, SelfWitness: v.selfWitness}
	p.Timing.TrustRoot = v.started
	start := time.Now()
	ans, err := v.client.StateAt(ctx, key, height, true)
	p.Timing.Query = time.Since(start)
	if err != nil {
		return Proven{}, err
	}
	if err := checkAnswer(ans, key, height); err != nil {
		return Proven{}, err
	}
	start = time.Now()
	h, err := v.header(ctx, height+1)
	p.Timing.Header = time.Since(start)
	if err != nil {
		return Proven{}, err
	}
	start = time.Now()
	err = proof.Verify(v.chainID, h.appHash, height, key, ans.Value, proofOps(ans.Proof))
	p.Timing.Proof = time.Since(start)
	if err != nil {
		return Proven{}, err
	}
	p.Found, p.Value = ans.Found, ans.Value
	p.HeaderHeight, p.HeaderHash, p.AppHash, p.HeaderTime = h.height, h.hash, h.appHash, h.time
	return p, nil
}

// checkAnswer refuses an answer to another question before any proof
// work: the proof would fail too, with a less useful message.
func checkAnswer(ans client.StateAnswer, key []byte, height int64) error {
	switch {
	case ans.Height != height:
		return ErrAnswer.Wrapf("asked for the state after height %d, the node answered for height %d", height, ans.Height)
	case !bytes.Equal(ans.Key, key):
		return ErrAnswer.Wrapf("asked for key %X, the node answered for key %X", key, ans.Key)
	case len(ans.Proof) == 0:
		return ErrAnswer.Wrapf("the node sent no proof")
	}
	return nil
}

func proofOps(ops []cometrpc.ProofOp) []proof.Op {
	out := make([]proof.Op, len(ops))
	for i, o := range ops {
		out[i] = proof.Op{Type: o.Type, Key: o.Key, Data: o.Data}
	}
	return out
}

// Account proves an account; one never funded is proven absent and reads
// as the zero account.
func (v *Verifier) Account(ctx context.Context, a address.Address) (bankapi.Account, Proven, error) {
	return decodeProven[bankapi.Account](ctx, v, bankapi.AccountKeyOf(a), "account")
}

// Node proves a registered node by identity key (Found false: none).
func (v *Verifier) Node(ctx context.Context, identityKey []byte) (registryapi.Node, Proven, error) {
	return decodeProven[registryapi.Node](ctx, v, registryapi.NodeKeyOf(identityKey), "node")
}

// Policy proves the attestation policy.
func (v *Verifier) Policy(ctx context.Context) (attest.Policy, Proven, error) {
	return decodeProven[attest.Policy](ctx, v, registryapi.PolicyStateKey(), "policy")
}

// Supply proves the total supply and the reward pool's, treasury's and
// burned account's balances, all at one height (that of the returned Proven).
func (v *Verifier) Supply(ctx context.Context) (bankapi.SupplyInfo, Proven, error) {
	var out bankapi.SupplyInfo
	total, p, err := decodeProven[token.Amount](ctx, v, bankapi.SupplyKey.Key(), "supply")
	if err != nil {
		return out, p, err
	}
	out.Total = total
	for _, acc := range []struct {
		a   address.Address
		dst *token.Amount
	}{{bankapi.RewardPool, &out.RewardPool}, {bankapi.Treasury, &out.Treasury}, {bankapi.Burned, &out.Burned}} {
		pa, err := v.StateAt(ctx, bankapi.AccountKeyOf(acc.a), p.Height)
		if err != nil {
			return out, p, err
		}
		var a bankapi.Account
		if pa.Found {
			if err := codec.Unmarshal(pa.Value, &a); err != nil {
				return out, p, ErrAnswer.Wrapf("the proven account %s does not decode: %v", acc.a, err)
			}
		}
		*acc.dst = a.Balance
	}
	return out, p, nil
}

// decodeProven proves key and decodes its value as a T (zero if absent).
// A proven value that does not decode is the chain's own bytes: this
// client does not know the chain's format (an older version).
func decodeProven[T any](ctx context.Context, v *Verifier, key []byte, what string) (T, Proven, error) {
	var out T
	p, err := v.State(ctx, key)
	if err != nil {
		return out, Proven{}, err
	}
	if p.Found {
		if err := codec.Unmarshal(p.Value, &out); err != nil {
			return out, Proven{}, ErrAnswer.Wrapf("the proven %s does not decode (is this client older than the chain?): %v", what, err)
		}
	}
	return out, p, nil
}
