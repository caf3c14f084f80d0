package lightproof

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	cmtproto "github.com/cometbft/cometbft/api/cometbft/types/v1"
	"github.com/cometbft/cometbft/light/provider"
	"github.com/cometbft/cometbft/types"

	"github.com/phala-go/phala/cometrpc"
)

// rpcProvider serves the light client light blocks over our own JSON-RPC
// client (cometrpc): strict, size-bounded decoding of untrusted answers,
// rather than CometBFT's RPC client. What it serves is checked by the
// light client, not here.
type rpcProvider struct {
	url     string
	chainID string
	rpc     *cometrpc.Client
}

var _ provider.Provider = (*rpcProvider)(nil)

func newProvider(url, chainID string) (*rpcProvider, error) {
	c, err := cometrpc.New(url)
	if err != nil {
		return nil, err
	}
	return &rpcProvider{url: url, chainID: chainID, rpc: c}, nil
}

func (p *rpcProvider) ChainID() string { return p.chainID }
func (p *rpcProvider) String() string  { return p.url }

// validatorsPage is as many validators as CometBFT serves in one page.
const validatorsPage = 100

// maxValidatorPages bounds how long a node can keep us paging.
const maxValidatorPages = 100

// LightBlock is the header at height (0: the newest), its commit and its
// validator set.
func (p *rpcProvider) LightBlock(ctx context.Context, height int64) (*types.LightBlock, error) {
	commit, err := p.rpc.Commit(ctx, height)
	if err != nil {
		return nil, providerError(err)
	}
	vals, err := p.validators(ctx, commit.SignedHeader.Header.Height)
	if err != nil {
		return nil, err
	}
	sh, err := types.SignedHeaderFromProto(&cmtproto.SignedHeader{
		Header: commit.SignedHeader.Header.Proto(), Commit: commit.SignedHeader.Commit.Proto(),
	})
	if err != nil {
		return nil, provider.ErrBadLightBlock{Reason: err}
	}
	vs, err := types.ValidatorSetFromProto(vals.Proto())
	if err != nil {
		return nil, provider.ErrBadLightBlock{Reason: err}
	}
	lb := &types.LightBlock{SignedHeader: sh, ValidatorSet: vs}
	if height != 0 && lb.Height != height {
		return nil, provider.ErrBadLightBlock{Reason: fmt.Errorf("asked for height %d, got %d", height, lb.Height)}
	}
	if err := lb.ValidateBasic(p.chainID); err != nil {
		return nil, provider.ErrBadLightBlock{Reason: err}
	}
	return lb, nil
}

// validators pages through height's validator set.
func (p *rpcProvider) validators(ctx context.Context, height int64) (*cometrpc.ValidatorSet, error) {
	var all []cometrpc.Validator
	for page := 1; page <= maxValidatorPages; page++ {
		v, err := p.rpc.Validators(ctx, height, page, validatorsPage)
		if err != nil {
			return nil, providerError(err)
		}
		all = append(all, v.Validators...)
		if len(all) >= v.Total || len(v.Validators) == 0 {
			break
		}
	}
	set, err := cometrpc.NewValidatorSet(all)
	if err != nil {
		return nil, provider.ErrBadLightBlock{Reason: err}
	}
	return set, nil
}

// CometBFT's words for a height it does not have, as its own provider
// matches them.
var (
	missingHeight = regexp.MustCompile(`height \d+ is not available`)
	tooHigh       = regexp.MustCompile(`height \d+ must be less than or equal to`)
)

// providerError gives the light client the provider errors it acts on.
func providerError(err error) error {
	var rpcErr *cometrpc.RPCError
	switch {
	case errors.As(err, &rpcErr) && tooHigh.MatchString(rpcErr.Data):
		return provider.ErrHeightTooHigh
	case errors.As(err, &rpcErr) && (missingHeight.MatchString(rpcErr.Data) || rpcErr.NotFound()):
		return provider.ErrLightBlockNotFound
	case errors.Is(err, cometrpc.ErrMalformed), errors.Is(err, cometrpc.ErrTooLarge):
		return provider.ErrBadLightBlock{Reason: err}
	}
	return fmt.Errorf("%w: %w", provider.ErrNoResponse, err)
}

// ReportEvidence is not sent anywhere: a conflicting header ends the
// read with the light client's error, which the user sees.
func (p *rpcProvider) ReportEvidence(context.Context, types.Evidence) error { return nil }
