package client

import (
	"context"
	"crypto/ed25519"

	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/compute/computeapi"
	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/pools/poolsapi"
	"github.com/phala-go/phala/chain/registry/registryapi"
)

// SetParamsMethods are the "<module>.set_params" methods: each takes a
// module.ParamChange, from the chain's authority only (governance, or a
// development chain's unsafe dev admin).
var SetParamsMethods = map[string]string{
	bankapi.Name:      bankapi.MethodSetParams,
	registryapi.Name:  registryapi.MethodSetParams,
	contractsapi.Name: contractsapi.MethodSetParams,
	computeapi.Name:   computeapi.MethodSetParams,
	poolsapi.Name:     poolsapi.MethodSetParams,
}

// SetParams sends method (one of SetParamsMethods) with change, signed by
// key, and waits for its block. On a production chain only a passed
// proposal carries it.
func (c *Client) SetParams(ctx context.Context, key ed25519.PrivateKey, method string, change module.ParamChange) (Included, error) {
	return c.Send(ctx, key, method, change)
}

// describeParamChange shows each change as path = value.
func describeParamChange(c module.ParamChange) Fields {
	out := make(Fields, 0, len(c.Changes))
	for _, ch := range c.Changes {
		out = append(out, textField(ch.Path, string(ch.Value)))
	}
	return out
}

func init() {
	for _, method := range SetParamsMethods {
		bodyDescribers[method] = describeBody(describeParamChange)
	}
}
