package contracts

import (
	"strings"

	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/crypto/envelope"
	"github.com/phala-go/phala/vm"
	"github.com/phala-go/phala/worker/enclave/module"
)

// Query access: the runtime opens a query sealed to a contract's key and
// runs its query method (vm.Query: phala_query, writes discarded) on the
// contract's current state. These methods are safe for concurrent use with
// each other, not with a fold: the runtime holds its read lock around
// them and its write lock around blocks, so the state does not move under
// a query and a query never sees a block half applied.

// OpenQuery opens an envelope sealed (purpose envelope.Query, additional
// data aad) to the contract's key of generation gen. false: the contract
// does not run here, or the generation is not held, or it does not open.
func (m *Module) OpenQuery(ctx *module.Context, id contractsapi.Hash, gen uint32, sealed, aad []byte) ([]byte, contractsapi.Status) {
	return m.OpenSealed(ctx, id, gen, envelope.Query, sealed, aad)
}

// OpenSealed is OpenQuery for an envelope of purpose p (a query session's
// request is sealed as envelope.SessionOpen).
func (m *Module) OpenSealed(ctx *module.Context, id contractsapi.Hash, gen uint32, p envelope.Purpose, sealed, aad []byte) ([]byte, contractsapi.Status) {
	lc := m.live[id]
	if lc == nil || !lc.c.running() {
		return nil, contractsapi.StatusNoContract
	}
	ct, ok := contractKey(ctx, lc.c.Cluster, gen, id)
	if !ok {
		return nil, contractsapi.StatusNoKey
	}
	priv, err := ct.EncryptionKey(ctx.ChainID)
	if err != nil {
		return nil, contractsapi.StatusNoKey
	}
	plain, err := envelope.Open(ctx.ChainID, p, priv, sealed, aad)
	if err != nil {
		return nil, contractsapi.StatusUndecryptable
	}
	return plain, contractsapi.StatusOK
}

// RunQuery runs method with args (JSON) as a query of the contract, with
// caller (an address, or nil: anonymous) and gas limit gas, at ctx's
// height and time. The contract's storage is read, never written. It may
// query the other running contracts of its cluster (query_contract), each
// at most once in a chain of calls, as vm.Config.MaxCallDepth allows; the
// gas they use is the query's.
func (m *Module) RunQuery(ctx *module.Context, id contractsapi.Hash, caller []byte, method string, args []byte, gas uint64) (contractsapi.Status, vm.Result) {
	lc := m.live[id]
	if lc == nil || !lc.c.running() {
		return contractsapi.StatusNoContract, vm.Result{}
	}
	if strings.IndexByte(method, 0) >= 0 {
		return contractsapi.StatusMalformed, vm.Result{}
	}
	peers := &queryPeers{m: m, ctx: ctx, cluster: lc.c.Cluster, stack: []contractsapi.Hash{id}}
	res, err := m.call(ctx, lc, vm.Call{Mode: vm.Query, Caller: caller, Height: ctx.Height, Time: ctx.Time.UnixNano(),
		Input: message(method, args), GasLimit: gas, Balance: lc.c.Balance, Peers: peers})
	return statusOf(err), res
}
