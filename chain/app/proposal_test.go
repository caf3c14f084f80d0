package app_test

import (
	"bytes"
	"context"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/phala-go/phala/chain/app/apptest"
	"github.com/phala-go/phala/token"
)

// unchargeable are transactions a byzantine proposer or a flooder could put
// in a block that no one could be charged for, by name.
func unchargeable(t *testing.T) map[string][]byte {
	good := txOpts{from: apptest.Alice, to: dave.Addr, amount: token.PHA(5)}
	other := good
	other.chainID = "other"
	return map[string][]byte{
		"garbage":        []byte("not a transaction"),
		"empty":          {},
		"unsigned":       unsigned(t, transfer(t, good)),
		"wrongly signed": resigned(t, transfer(t, good), apptest.Bob.Key),
		"wrong chain":    transfer(t, other),
		"oversized":      append(transfer(t, good), make([]byte, 70_000)...),
	}
}

// chargeable are transactions that may fail in the block but pay their
// fee there: a good transfer, one its method refuses, one at a nonce gap.
func chargeable(t *testing.T) [][]byte {
	return [][]byte{
		transfer(t, txOpts{from: apptest.Alice, to: dave.Addr, amount: token.PHA(5), nonce: 0}),
		transfer(t, txOpts{from: apptest.Bob, to: dave.Addr, amount: token.PHA(500_000_000)}),
		transfer(t, txOpts{from: apptest.Carol, to: dave.Addr, amount: token.PHA(1), nonce: 9}),
	}
}

func prepare(t *testing.T, h *apptest.Chain, maxBytes int64, txs ...[]byte) [][]byte {
	t.Helper()
	resp, err := h.App.PrepareProposal(context.Background(), &abci.PrepareProposalRequest{MaxTxBytes: maxBytes, Txs: txs, Height: h.Height + 1})
	if err != nil {
		t.Fatal(err)
	}
	return resp.Txs
}

func process(t *testing.T, h *apptest.Chain, txs ...[]byte) abci.ProcessProposalStatus {
	t.Helper()
	resp, err := h.App.ProcessProposal(context.Background(), &abci.ProcessProposalRequest{Txs: txs, Height: h.Height + 1})
	if err != nil {
		t.Fatal(err)
	}
	return resp.Status
}

func TestPrepareProposalLeavesOutUnchargeable(t *testing.T) {
	h := apptest.New(t)
	good := chargeable(t)
	var bad [][]byte
	for _, raw := range unchargeable(t) {
		h.App.PreCheckTx(context.Background(), raw) // a cached verdict changes nothing
		bad = append(bad, raw)
	}
	// The chargeable ones before, between and after the unchargeable.
	in := append([][]byte{good[0]}, bad[:3]...)
	in = append(append(in, good[1]), bad[3:]...)
	in = append(in, good[2])
	if got := prepare(t, h, 1<<20, in...); !equalTxs(got, good) {
		t.Fatalf("proposed %d transactions, want the %d chargeable ones in order", len(got), len(good))
	}
	if status := process(t, h, good...); status != abci.PROCESS_PROPOSAL_STATUS_ACCEPT {
		t.Fatalf("its own proposal: %v", status)
	}
}

func TestPrepareProposalRespectsMaxBytes(t *testing.T) {
	h := apptest.New(t)
	txs := chargeable(t)
	garbage := []byte("not a transaction")
	// Room for the first two as CometBFT counts them, one byte short of
	// the third; the garbage between them takes no room.
	limit := cmttypes.ComputeProtoSizeForTxs(cmttypes.ToTxs(txs[:2])) + cmttypes.ComputeProtoSizeForTxs(cmttypes.ToTxs(txs[2:])) - 1
	got := prepare(t, h, limit, txs[0], garbage, txs[1], txs[2])
	if !equalTxs(got, txs[:2]) {
		t.Fatalf("proposed %d transactions, want the first 2", len(got))
	}
	if err := cmttypes.ToTxs(got).Validate(limit); err != nil {
		t.Fatal(err)
	}
	if got := prepare(t, h, limit+1, txs...); !equalTxs(got, txs) {
		t.Fatalf("with room for all: proposed %d", len(got))
	}
}

func TestProcessProposalRejectsUnchargeable(t *testing.T) {
	good := chargeable(t)
	for name, raw := range unchargeable(t) {
		t.Run(name, func(t *testing.T) {
			h := apptest.New(t)
			block := append(append([][]byte{}, good...), raw)
			if status := process(t, h, block...); status != abci.PROCESS_PROPOSAL_STATUS_REJECT {
				t.Fatalf("a block carrying %s: %v, want REJECT", name, status)
			}
			// The verdict is the same when the bytes came through this
			// node's mempool first and their verdict is cached.
			h.App.PreCheckTx(context.Background(), raw)
			h.Check(raw)
			if status := process(t, h, block...); status != abci.PROCESS_PROPOSAL_STATUS_REJECT {
				t.Fatalf("after CheckTx, a block carrying %s: %v, want REJECT", name, status)
			}
		})
	}
}

func TestProcessProposalAcceptsChargeable(t *testing.T) {
	h := apptest.New(t)
	if status := process(t, h); status != abci.PROCESS_PROPOSAL_STATUS_ACCEPT {
		t.Fatalf("an empty block: %v", status)
	}
	// Transactions that fail on state still pay their fee: accepted.
	txs := chargeable(t)
	if status := process(t, h, txs...); status != abci.PROCESS_PROPOSAL_STATUS_ACCEPT {
		t.Fatalf("a block of chargeable transactions: %v", status)
	}
	// Accepting changes no state: the block then runs as usual.
	results := h.Block(txs...).TxResults
	if results[0].Code != 0 || results[1].Code == 0 || results[2].Code == 0 {
		t.Fatalf("results %d %d %d, want success, then two failures", results[0].Code, results[1].Code, results[2].Code)
	}
}

func equalTxs(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}
