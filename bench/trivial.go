package bench

import (
	"context"

	abci "github.com/cometbft/cometbft/abci/types"
)

// trivialAppHash is the constant app hash of TrivialApp.
var trivialAppHash = []byte("phala-bench-trivial-app")

// TrivialApp is the baseline: it accepts every transaction in CheckTx,
// reports success for every transaction of a block and keeps no state, so
// a run on it measures CometBFT alone.
type TrivialApp struct{ abci.BaseApplication }

var _ abci.Application = TrivialApp{}

// CheckTx accepts the transaction. It asks for the gas a benchmark transfer
// asks for, so that the consensus block gas limit packs the same number of
// transactions into a block as for phala.
func (TrivialApp) CheckTx(context.Context, *abci.CheckTxRequest) (*abci.CheckTxResponse, error) {
	return &abci.CheckTxResponse{Code: abci.CodeTypeOK, GasWanted: gasLimit}, nil
}

// FinalizeBlock succeeds every transaction and keeps the app hash.
func (TrivialApp) FinalizeBlock(_ context.Context, req *abci.FinalizeBlockRequest) (*abci.FinalizeBlockResponse, error) {
	results := make([]*abci.ExecTxResult, len(req.Txs))
	for i := range results {
		results[i] = &abci.ExecTxResult{Code: abci.CodeTypeOK}
	}
	return &abci.FinalizeBlockResponse{TxResults: results, AppHash: trivialAppHash}, nil
}
