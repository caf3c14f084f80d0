package client

import (
	"errors"
	"fmt"
	"testing"

	"github.com/phala-go/phala/chain/tx"
)

func TestRefusedByMempool(t *testing.T) {
	rpcErr := fmt.Errorf("RPC error -32603 - Internal error: broadcast error on transaction validation: tx 8C46 is invalid: code=5, data=, log='%s', codespace='tx'", tx.ErrNonceTooLow.Wrapf("nonce 1, account at 2"))
	got, ok := refusedByMempool(rpcErr)
	if !ok || !errors.Is(got, tx.ErrNonceTooLow) {
		t.Fatalf("refusal not rebuilt: %v %v", got, ok)
	}
	if _, ok := refusedByMempool(errors.New("connection refused")); ok {
		t.Fatal("a transport error taken for a refusal")
	}
}
