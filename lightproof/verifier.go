package lightproof

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cometbft/cometbft/light"
	"github.com/cometbft/cometbft/light/provider"

	"github.com/phala-go/phala/client"
)

// DefaultTrustPeriod is how long a trust root is trusted when the user
// gives no period: CometBFT's own default for light clients and state
// sync, well inside an unbonding period a proof-of-stake chain would set.
const DefaultTrustPeriod = 168 * time.Hour

// TrustRoot is what the user trusts without proof: the hash of the
// header at Height, for Period after that header's time. Everything a
// proven read accepts follows from it by signatures and hashes.
type TrustRoot struct {
	Height int64
	Hash   []byte // the header's hash (32 bytes)
	Period time.Duration
}

// Check refuses a root the light client could not start from.
func (r TrustRoot) Check() error {
	if r.Height == 0 && len(r.Hash) == 0 {
		return ErrNoTrustRoot.Wrapf("give a trusted height and header hash")
	}
	if r.Height <= 0 {
		return ErrTrustRoot.Wrapf("height %d: want a positive height", r.Height)
	}
	if len(r.Hash) != 32 {
		return ErrTrustRoot.Wrapf("hash of %d bytes: want a 32-byte header hash (64 hex digits)", len(r.Hash))
	}
	if r.Period < 0 {
		return ErrTrustRoot.Wrapf("period %v is negative", r.Period)
	}
	return nil
}

func (r TrustRoot) period() time.Duration {
	if r.Period == 0 {
		return DefaultTrustPeriod
	}
	return r.Period
}

// Options say which nodes to ask and what to trust.
type Options struct {
	Primary   string   // the node answering queries
	Witnesses []string // other nodes the light client cross-checks headers with
	// ChainID is the chain to expect; "" takes the primary's word, which
	// the trust root's hash then pins (a header hash covers its chain id).
	ChainID string
	Trust   TrustRoot
}

// Verifier makes proven reads from one primary node.
type Verifier struct {
	client  *client.Client
	light   *light.Client
	chainID string
	trust   TrustRoot
	// witnesses are the nodes headers are cross-checked with; selfWitness
	// says there were none but the primary, which then checks itself (a
	// single-node devnet has nothing else): the proof still rests on the
	// validators' signatures, but a lying primary is not caught by a
	// second opinion, only by them.
	witnesses   []string
	selfWitness bool
	// started is how long New took: fetching and checking the trust
	// root's header (and cross-checking it with the witnesses).
	started time.Duration
}

// New starts a light client from the trust root: it fetches the header at
// the root's height from the primary and refuses it unless its hash is
// the root's and enough of its validators signed it.
func New(ctx context.Context, o Options) (*Verifier, error) {
	if err := o.Trust.Check(); err != nil {
		return nil, err
	}
	c, err := client.New(o.Primary)
	if err != nil {
		return nil, err
	}
	chainID, err := nodeChainID(ctx, c, o.ChainID)
	if err != nil {
		return nil, err
	}
	v := &Verifier{client: c, chainID: chainID, trust: o.Trust, witnesses: o.Witnesses}
	primary, err := newProvider(o.Primary, chainID)
	if err != nil {
		return nil, err
	}
	witnesses, err := v.witnessProviders(primary)
	if err != nil {
		return nil, err
	}
	opts := light.TrustOptions{Period: o.Trust.period(), Height: o.Trust.Height, Hash: o.Trust.Hash}
	start := time.Now()
	defer func() { v.started = time.Since(start) }()
	v.light, err = light.NewClient(ctx, chainID, opts, primary, witnesses, newMemStore(),
		light.SkippingVerification(light.DefaultTrustLevel), light.MaxRetryAttempts(2))
	if err != nil {
		return nil, trustError(o.Trust, err)
	}
	return v, nil
}

// nodeChainID is the primary's chain, which must be want if given.
func nodeChainID(ctx context.Context, c *client.Client, want string) (string, error) {
	got, err := c.ChainID(ctx)
	if err != nil {
		return "", ErrChain.Wrapf("%v", err)
	}
	if want != "" && got != want {
		return "", ErrTrustRoot.Wrapf("node %s is on chain %q, the trust root is for chain %q", c.URL(), got, want)
	}
	return got, nil
}

// witnessProviders are the configured witnesses, or the primary itself
// when there are none: CometBFT's light client refuses to run without one.
func (v *Verifier) witnessProviders(primary *rpcProvider) ([]provider.Provider, error) {
	if len(v.witnesses) == 0 {
		v.selfWitness = true
		return []provider.Provider{primary}, nil
	}
	out := make([]provider.Provider, len(v.witnesses))
	for i, url := range v.witnesses {
		p, err := newProvider(url, v.chainID)
		if err != nil {
			return nil, fmt.Errorf("witness %s: %w", url, err)
		}
		out[i] = p
	}
	return out, nil
}

// trustError says why the light client would not start from the root.
func trustError(root TrustRoot, err error) error {
	var bad provider.ErrBadLightBlock
	switch {
	case errors.As(err, &bad):
		return ErrTrustRoot.Wrapf("the node's header %d is invalid: %v", root.Height, bad.Reason)
	case errors.Is(err, provider.ErrLightBlockNotFound), errors.Is(err, provider.ErrHeightTooHigh):
		return ErrTrustRoot.Wrapf("the node has no header at the trusted height %d (another chain, or not that far yet?)", root.Height)
	}
	return ErrTrustRoot.Wrapf("height %d hash %X: %v", root.Height, root.Hash, err)
}

func (v *Verifier) witnessNames() []string {
	if v.selfWitness {
		return []string{v.client.URL() + " (the primary, as its own witness)"}
	}
	return v.witnesses
}

// ChainID is the chain proofs are checked for.
func (v *Verifier) ChainID() string { return v.chainID }

// Client is the primary's client, for the reads that are not proven.
func (v *Verifier) Client() *client.Client { return v.client }

// header has the light client verify the header at height.
func (v *Verifier) header(ctx context.Context, height int64) (headerInfo, error) {
	lb, err := v.light.VerifyLightBlockAtHeight(ctx, height, time.Now())
	if err != nil {
		return headerInfo{}, v.headerError(height, err)
	}
	return headerInfo{height: lb.Height, hash: lb.Hash(), appHash: bytes.Clone(lb.AppHash), time: lb.Time}, nil
}

type headerInfo struct {
	height  int64
	hash    []byte
	appHash []byte
	time    time.Time
}

func (v *Verifier) headerError(height int64, err error) error {
	var expired light.ErrOldHeaderExpired
	if errors.As(err, &expired) {
		return ErrTrustRoot.Wrapf("the trust root (height %d) is older than its trust period %v: set a newer one (phala config trust)", v.trust.Height, v.trust.period())
	}
	if errors.Is(err, light.ErrNoWitnesses) {
		// The light client drops a witness that serves an invalid header
		// or does not answer; with none left it cannot cross-check.
		return ErrHeader.Wrapf("header %d: no witness left to cross-check it with: each of %v served an invalid or conflicting header, or did not answer", height, v.witnessNames())
	}
	return ErrHeader.Wrapf("header %d: %v", height, err)
}
