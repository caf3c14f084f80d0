package app_test

import (
	"errors"
	"testing"

	"github.com/phala-go/phala/chain/app/apptest"
	"github.com/phala-go/phala/chain/bank/bankapi"
	"github.com/phala-go/phala/chain/tx"
	"github.com/phala-go/phala/token"
)

// fundDave gives dave amount from Alice in a block of its own.
func fundDave(t *testing.T, h *apptest.Chain, amount token.Amount) {
	t.Helper()
	h.MustSucceed(h.Tx(apptest.Alice, bankapi.MethodTransfer, bankapi.Transfer{To: dave.Addr, Amount: amount}))
}

// The replay of issue 12: a transfer that fails in its method pays its fee
// and uses its nonce, so the same bytes can never succeed later, even once
// the sender can afford them. (The harness checks the supply every block.)
func TestFailedTransactionPaysFeeAndCannotBeReplayed(t *testing.T) {
	h := apptest.New(t)
	fundDave(t, h, token.PHA(10))
	treasury := h.Account(bankapi.Treasury).Balance
	raw := transfer(t, txOpts{from: dave, to: apptest.Bob.Addr, amount: token.PHA(100)})

	r := h.Block(raw).TxResults[0]
	if !errors.Is(apptest.TxErr(r), bankapi.ErrInsufficientFunds) {
		t.Fatalf("in the block: %s/%d %q, want insufficient funds", r.Codespace, r.Code, r.Log)
	}
	if r.GasUsed == 0 {
		t.Fatal("a failed transaction reports no gas used")
	}
	acc := h.Account(dave.Addr)
	if acc.Nonce != 1 || acc.Balance != token.PHA(9) {
		t.Fatalf("dave after the failure: nonce %d, %s; want nonce 1, 9 PHA", acc.Nonce, acc.Balance.PHAString())
	}
	if got, _ := h.Account(bankapi.Treasury).Balance.Sub(treasury); got != token.PHA(1) {
		t.Fatalf("treasury gained %s, want the 1 PHA fee", got.PHAString())
	}

	fundDave(t, h, token.PHA(200))
	funded := h.Account(dave.Addr)
	h.MustRefuse(raw, tx.ErrNonceTooLow)
	if got := h.Account(dave.Addr); got != funded {
		t.Fatalf("the replay changed dave: %+v → %+v", funded, got)
	}
	if got := h.Account(apptest.Bob.Addr).Nonce; got != 0 {
		t.Fatal("bob's account changed")
	}
}

// A transaction its method refuses in CheckTx never enters the mempool, so
// its charge must not stay in the mempool's overlay: the sender's next
// transaction, signed at the same nonce, is admitted, and the overlay's
// nonces match what the mempool holds when the block runs them.
func TestMempoolKeepsNoChargeForRefusedTransaction(t *testing.T) {
	h := apptest.New(t)
	fundDave(t, h, token.PHA(10))
	first := transfer(t, txOpts{from: dave, to: apptest.Bob.Addr, amount: token.PHA(2), nonce: 0})
	tooMuch := transfer(t, txOpts{from: dave, to: apptest.Bob.Addr, amount: token.PHA(100), nonce: 1})
	second := transfer(t, txOpts{from: dave, to: apptest.Bob.Addr, amount: token.PHA(3), nonce: 1})
	gap := transfer(t, txOpts{from: dave, to: apptest.Bob.Addr, amount: token.PHA(1), nonce: 2})

	if err := apptest.CheckErr(h.Check(first)); err != nil {
		t.Fatalf("first: %v", err)
	}
	if err := apptest.CheckErr(h.Check(tooMuch)); !errors.Is(err, bankapi.ErrInsufficientFunds) {
		t.Fatalf("too much: %v, want insufficient funds", err)
	}
	if err := apptest.CheckErr(h.Check(second)); err != nil {
		t.Fatalf("nonce 1 after the refusal at nonce 1: %v", err)
	}
	// Had the refusal kept its charge, nonce 2 would be the next one here.
	if err := apptest.CheckErr(h.Check(gap)); err != nil {
		t.Fatalf("nonce 2 after nonce 1: %v", err)
	}
	for i, r := range h.Block(first, second, gap).TxResults {
		if r.Code != 0 {
			t.Fatalf("tx %d: %s", i, r.Log)
		}
	}
	if acc := h.Account(dave.Addr); acc.Nonce != 3 || acc.Balance != token.PHA(1) {
		t.Fatalf("dave: nonce %d, %s; want 3, 1 PHA", acc.Nonce, acc.Balance.PHAString())
	}
}

// A transaction a block charged although it fails is rechecked like any
// other: the mempool's overlay after the commit starts from the charged
// nonce, so the sender's next transaction is admitted.
func TestMempoolFollowsAChargedFailure(t *testing.T) {
	h := apptest.New(t)
	fundDave(t, h, token.PHA(10))
	h.Block(transfer(t, txOpts{from: dave, to: apptest.Bob.Addr, amount: token.PHA(100)}))
	next := transfer(t, txOpts{from: dave, to: apptest.Bob.Addr, amount: token.PHA(2), nonce: 1})
	if err := apptest.CheckErr(h.Check(next)); err != nil {
		t.Fatalf("the nonce after a charged failure: %v", err)
	}
	h.MustSucceed(next)
}
