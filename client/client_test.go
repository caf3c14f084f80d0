package client

import (
	"errors"
	"fmt"
	"testing"

	"github.com/phala-go/phala/chain/tx"
)

func TestRefusedByMempool(t *testing.T) {
	data := fmt.Sprintf("broadcast error on transaction validation: tx 8C46 is invalid: code=5, data=, log='%s', codespace='tx'", tx.ErrNonceTooLow.Wrapf("nonce 1, account at 2"))
	got, ok := refusedByMempool(data)
	if !ok || !errors.Is(got, tx.ErrNonceTooLow) {
		t.Fatalf("refusal not rebuilt: %v %v", got, ok)
	}
	if _, ok := refusedByMempool("connection refused"); ok {
		t.Fatal("a transport error taken for a refusal")
	}
}
