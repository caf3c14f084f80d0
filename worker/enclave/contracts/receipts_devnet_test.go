package contracts_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/crypto/envelope"
	"github.com/phala-go/phala/crypto/keyring"
	"github.com/phala-go/phala/internal/devnettest/teedevnet"
	"github.com/phala-go/phala/network/devworker"
	"github.com/phala-go/phala/workerwire"
)

// TestReceiptsOnDevnet: a token transfer's receipt is fetched from the
// cluster's workers, opened with the command's reply key and shows status
// ok, the return value and the transfer event; a stranger's key does not
// open it; each worker answers for itself; a revert's receipt carries the
// contract's error text.
func TestReceiptsOnDevnet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a CometBFT node, a gatekeeper and two workers, and builds a contract")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	code := buildToken(t)
	d := teedevnet.Start(t, ctx, devworker.WorkerRoles...)
	cl, workers := d.Client, d.WorkerURLs()
	bob := ed25519.NewKeyFromSeed(keyring.DevSeed("bob"))
	inst := deployToken(t, ctx, cl, bob, code)
	carol := address.Module("carol")
	opts := client.ReceiptOptions{Workers: workers, Cluster: client.DefaultCluster, Poll: 10 * time.Millisecond}

	sent, err := cl.Command(ctx, bob, inst.Contract, "transfer", []byte(transfer(carol, 5)), client.CommandOptions{GasLimit: 100_000_000})
	if err != nil {
		t.Fatal(err)
	}
	if sent.Seq == 0 || sent.ReplyKey == nil {
		t.Fatalf("command sent without a number or reply key: %+v", sent)
	}
	start := time.Now()
	a, err := cl.WaitReceipt(ctx, sent.Seq, sent.ReplyKey, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("receipt of command %d (block %d) from %s %v after inclusion (the first command after an instantiation waits for the code's compilation)", sent.Seq, sent.Height, a.URL, time.Since(start))
	if a.Status != contractsapi.StatusOK || a.Err() != nil || string(a.Output) != "995" || a.Seq != sent.Seq || a.Height != sent.Height || !a.Assigned || a.GasUsed == 0 {
		t.Fatalf("receipt %+v", a)
	}
	if len(a.Events) != 1 || a.Events[0].Topic != "token.transfer" {
		t.Fatalf("events %+v", a.Events)
	}
	// Both workers ran it and serve the same receipt, each signing its own
	// answer.
	var signers [][]byte
	for _, u := range workers {
		var b client.ReceiptAnswer
		for {
			if b, err = cl.FetchReceipt(ctx, u, sent.Seq, sent.ReplyKey); err == nil {
				break
			}
			var we *client.WorkerError
			if !errors.As(err, &we) || !we.NotYet() || ctx.Err() != nil {
				t.Fatalf("%s: %v", u, err)
			}
			time.Sleep(10 * time.Millisecond)
		}
		if b.Status != a.Status || string(b.Output) != string(a.Output) || b.GasUsed != a.GasUsed {
			t.Fatalf("%s: %+v, other %+v", u, b, a)
		}
		signers = append(signers, b.Worker)
	}
	if string(signers[0]) == string(signers[1]) {
		t.Fatal("both answers signed by one worker")
	}
	// A stranger's key does not open it.
	stranger, err := envelope.GenerateKey(envelope.Default)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.FetchReceipt(ctx, workers[0], sent.Seq, stranger); !errors.Is(err, workerwire.ErrOpen) {
		t.Fatalf("a stranger's key: %v", err)
	}
	// A command never sent: 404 with the coded error.
	var we *client.WorkerError
	if _, err := cl.FetchReceipt(ctx, workers[0], sent.Seq+1000, sent.ReplyKey); !errors.As(err, &we) || !we.NotYet() || we.Module != "workerapi" || we.Code != 13 {
		t.Fatalf("unknown command: %v", err)
	}
	// Receipt latency once the code is compiled, and a revert's text.
	sent, err = cl.Command(ctx, bob, inst.Contract, "transfer", []byte(transfer(carol, 5000)), client.CommandOptions{GasLimit: 100_000_000})
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	a, err = cl.WaitReceipt(ctx, sent.Seq, sent.ReplyKey, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("receipt of command %d %v after inclusion", sent.Seq, time.Since(start))
	if a.Status != contractsapi.StatusReverted || a.Err() == nil || !strings.Contains(a.Err().Error(), "insufficient balance") || !strings.Contains(a.Err().Error(), "reverted") {
		t.Fatalf("revert receipt %+v: %v", a, a.Err())
	}
	t.Logf("revert: %v", a.Err())

	t.Run("queries", func(t *testing.T) { testQueries(t, ctx, cl, workers, inst.Contract, bob) })
	t.Run("sessions", func(t *testing.T) { testSessions(t, ctx, cl, workers, inst.Contract, bob) })
}

// testQueries: honest queries (anonymous and signed: the token answers
// the caller's own balance), then refusals with their HTTP status and
// code: expired, replayed, badly signed, unknown contract, too large.
func testQueries(t *testing.T, ctx context.Context, cl *client.Client, workers []string, contract contractsapi.Hash, bob ed25519.PrivateKey) {
	o := client.QueryOptions{Workers: workers}
	a, err := cl.ContractQuery(ctx, contract, "total_supply", []byte(`{}`), o)
	if err != nil || a.Err() != nil || string(a.Output) != "1000" || !a.Assigned || a.AnsweredAt == 0 {
		t.Fatalf("total_supply: %+v %v", a, err)
	}
	o.Key = bob
	a, err = cl.ContractQuery(ctx, contract, "balance", []byte(`{}`), o)
	if err != nil || a.Err() != nil || string(a.Output) != "995" {
		t.Fatalf("bob's balance: %+v %v", a, err)
	}
	// Latency on one worker, one caller.
	one := client.QueryOptions{Workers: workers[:1], Key: bob}
	var lat []time.Duration
	for range 100 {
		start := time.Now()
		if _, err := cl.ContractQuery(ctx, contract, "balance", []byte(`{}`), one); err != nil {
			t.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	t.Logf("signed query, client round trip (in a session after the first): p50 %v p99 %v", lat[50], lat[98])

	chainID, err := cl.ChainID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pubs, err := cl.ContractKeys(ctx, client.DefaultCluster, contract[:])
	if err != nil {
		t.Fatal(err)
	}
	pub := pubs[len(pubs)-1]
	height, err := cl.LatestHeight(ctx)
	if err != nil {
		t.Fatal(err)
	}
	reply, _ := envelope.GenerateKey(envelope.Default)
	// build seals a query signed by bob: edit changes it before signing,
	// after (tamper) after.
	build := func(id contractsapi.Hash, edit, after func(*workerwire.QueryPlain)) []byte {
		q := workerwire.QueryPlain{Contract: id, Method: "total_supply", Args: []byte(`{}`), Nonce: workerwire.NewNonce(), Expiry: height + 50, ReplyKey: reply.PublicKey().Bytes()}
		if edit != nil {
			edit(&q)
		}
		q.Sign(chainID, bob)
		if after != nil {
			after(&q)
		}
		sealed, err := envelope.SealTo(chainID, envelope.Query, envelope.Default, pub.PublicKey, codec.MustMarshal(q), workerwire.QueryAAD(id))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := json.Marshal(workerwire.QueryRequest{Contract: id, Generation: pub.Generation, Sealed: sealed})
		return body
	}
	post := func(body []byte) (int, map[string]any) {
		resp, err := http.Post(workers[0]+workerwire.PathQuery, "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	honest := build(contract, nil, nil)
	if code, out := post(honest); code != 200 {
		t.Fatalf("honest: %d %v", code, out)
	}
	// The worker's side alone: sealed bodies made first, then posted.
	bodies := make([][]byte, 100)
	for i := range bodies {
		bodies[i] = build(contract, func(q *workerwire.QueryPlain) { q.Method = "balance" }, nil)
	}
	lat = lat[:0]
	for _, b := range bodies {
		start := time.Now()
		if code, out := post(b); code != 200 {
			t.Fatalf("%d %v", code, out)
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	t.Logf("signed query, HTTP round trip to the worker: p50 %v p99 %v", lat[50], lat[98])
	other := contractsapi.Hash{1, 2, 3}
	for _, tc := range []struct {
		name   string
		body   []byte
		status int
		code   float64
	}{
		{"replayed", honest, 409, 34},
		{"expired", build(contract, func(q *workerwire.QueryPlain) { q.Expiry = 1 }, nil), 410, 33},
		{"bad signature", build(contract, nil, func(q *workerwire.QueryPlain) { q.Signature[0] ^= 1 }), 403, 35},
		{"signed by another", build(contract, nil, func(q *workerwire.QueryPlain) { q.Method = "balance" }), 403, 35},
		{"unknown contract", build(other, nil, nil), 404, 30},
		{"too large", build(contract, func(q *workerwire.QueryPlain) { q.Args = bytes.Repeat([]byte("a"), workerwire.MaxQueryBody) }, nil), 413, 2},
		{"not JSON", []byte("{"), 400, 1},
	} {
		if code, out := post(tc.body); code != tc.status || out["code"] != tc.code {
			t.Errorf("%s: %d %v, want %d code %v", tc.name, code, out, tc.status, tc.code)
		}
	}
}
