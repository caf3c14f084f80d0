package contracts_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/envelope"
	"github.com/phala-go/phala/crypto/keyring"
	"github.com/phala-go/phala/workerwire"
)

// testSessions: the client opens a query session on the second query to
// a worker and answers from it after; then, over raw HTTP, a session's
// refusals with their HTTP status and code: a replayed sequence number, a
// session used for another contract or as another caller, an unknown
// session, a tampered query, a replayed or badly signed request, and a
// session past its expiry height.
func testSessions(t *testing.T, ctx context.Context, cl *client.Client, workers []string, contract contractsapi.Hash, bob ed25519.PrivateKey) {
	carol := ed25519.NewKeyFromSeed(keyring.DevSeed("carol"))
	o := client.QueryOptions{Workers: workers[1:], Key: carol}
	var lat []time.Duration
	for i := range 101 {
		start := time.Now()
		a, err := cl.ContractQuery(ctx, contract, "balance", []byte(`{}`), o)
		if err != nil || a.Err() != nil || string(a.Output) != "0" || !a.Assigned {
			t.Fatalf("query %d: %+v %v", i, a, err)
		}
		if a.Session != (i > 0) {
			t.Fatalf("query %d answered in a session: %v (the first is one-shot, the rest in a session)", i, a.Session)
		}
		lat = append(lat, time.Since(start))
	}
	lat = lat[2:] // the one-shot query and the one that opened the session
	slices.Sort(lat)
	t.Logf("signed query in a session, client round trip: p50 %v p99 %v", lat[len(lat)/2], lat[len(lat)*99/100])

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
	post := func(path string, body any) (int, map[string]any, []byte) {
		raw, _ := json.Marshal(body)
		resp, err := http.Post(workers[0]+path, "application/json", bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(resp.Body)
		var out map[string]any
		_ = json.Unmarshal(buf.Bytes(), &out)
		return resp.StatusCode, out, buf.Bytes()
	}
	// request seals a session request signed by bob; edit changes it
	// before signing, after after.
	request := func(expiry int64, edit, after func(*workerwire.SessionOpen)) workerwire.SessionRequest {
		reply, _ := envelope.GenerateKey(envelope.Default)
		so := workerwire.SessionOpen{Contract: contract, Nonce: workerwire.NewNonce(), Expiry: expiry, ReplyKey: reply.PublicKey().Bytes()}
		if edit != nil {
			edit(&so)
		}
		so.Sign(chainID, bob)
		if after != nil {
			after(&so)
		}
		sealed, err := envelope.SealTo(chainID, envelope.SessionOpen, envelope.Default, pub.PublicKey, codec.MustMarshal(so), workerwire.SessionAAD(contract))
		if err != nil {
			t.Fatal(err)
		}
		return workerwire.SessionRequest{Contract: contract, Generation: pub.Generation, Sealed: sealed}
	}
	// open opens a session of bob's ending at expiry.
	open := func(expiry int64) (workerwire.SessionGrant, envelope.SessionCipher, envelope.SessionCipher) {
		reply, _ := envelope.GenerateKey(envelope.Default)
		so := workerwire.SessionOpen{Contract: contract, Nonce: workerwire.NewNonce(), Expiry: expiry, ReplyKey: reply.PublicKey().Bytes()}
		so.Sign(chainID, bob)
		sealed, _ := envelope.SealTo(chainID, envelope.SessionOpen, envelope.Default, pub.PublicKey, codec.MustMarshal(so), workerwire.SessionAAD(contract))
		code, out, raw := post(workerwire.PathSession, workerwire.SessionRequest{Contract: contract, Generation: pub.Generation, Sealed: sealed})
		if code != 200 {
			t.Fatalf("open a session: %d %v", code, out)
		}
		var signed workerwire.SignedSessionGrant
		if err := json.Unmarshal(raw, &signed); err != nil {
			t.Fatal(err)
		}
		g, err := signed.Open(chainID, so.Nonce, reply)
		if err != nil {
			t.Fatal(err)
		}
		q, r, err := g.Ciphers(chainID, contract)
		if err != nil {
			t.Fatal(err)
		}
		return g, q, r
	}
	g, qc, rc := open(height + 100)
	// ask seals one session query of seq with the given caller key.
	ask := func(g workerwire.SessionGrant, qc envelope.SessionCipher, id contractsapi.Hash, seq uint64, caller []byte) workerwire.SessionQueryRequest {
		plain := codec.MustMarshal(workerwire.SessionQuery{Method: "balance", Args: []byte(`{}`), Caller: caller})
		sealed, err := qc.Seal(seq, plain, workerwire.SessionQueryAAD(id, g.ID))
		if err != nil {
			t.Fatal(err)
		}
		return workerwire.SessionQueryRequest{Session: g.ID, Contract: id, Seq: seq, Sealed: sealed}
	}
	bobKey := bob.Public().(ed25519.PublicKey)
	first := ask(g, qc, contract, 1, bobKey)
	code, out, raw := post(workerwire.PathSessionQuery, first)
	if code != 200 {
		t.Fatalf("honest session query: %d %v", code, out)
	}
	var signed workerwire.SignedSessionReply
	if err := json.Unmarshal(raw, &signed); err != nil {
		t.Fatal(err)
	}
	if r, err := signed.Open(chainID, contract, g.ID, 1, rc); err != nil || r.Status != contractsapi.StatusOK || string(r.Output) != "995" {
		t.Fatalf("bob's balance in a session: %+v %v", r, err)
	}
	// Sequence numbers may arrive out of order, each once.
	if code, out, _ := post(workerwire.PathSessionQuery, ask(g, qc, contract, 5, bobKey)); code != 200 {
		t.Fatalf("seq 5: %d %v", code, out)
	}
	if code, out, _ := post(workerwire.PathSessionQuery, ask(g, qc, contract, 3, bobKey)); code != 200 {
		t.Fatalf("seq 3 after 5: %d %v", code, out)
	}
	tampered := ask(g, qc, contract, 7, bobKey)
	tampered.Sealed[0] ^= 1
	unknown := ask(workerwire.SessionGrant{ID: bytes.Repeat([]byte{9}, workerwire.SessionIDSize)}, qc, contract, 1, bobKey)
	signedByOther := request(height+100, nil, func(so *workerwire.SessionOpen) { so.Expiry++ })
	replayedOpen := request(height+100, nil, nil)
	if code, out, _ := post(workerwire.PathSession, replayedOpen); code != 200 {
		t.Fatalf("open: %d %v", code, out)
	}
	for _, tc := range []struct {
		name   string
		path   string
		body   any
		status int
		code   float64
	}{
		{"replayed query", workerwire.PathSessionQuery, first, 409, 34},
		{"another contract", workerwire.PathSessionQuery, ask(g, qc, contractsapi.Hash{1, 2, 3}, 8, bobKey), 403, 51},
		{"another caller", workerwire.PathSessionQuery, ask(g, qc, contract, 9, carol.Public().(ed25519.PublicKey)), 403, 52},
		{"anonymous in a signed session", workerwire.PathSessionQuery, ask(g, qc, contract, 10, nil), 403, 52},
		{"unknown session", workerwire.PathSessionQuery, unknown, 404, 50},
		{"tampered query", workerwire.PathSessionQuery, tampered, 400, 31},
		{"replayed request", workerwire.PathSession, replayedOpen, 409, 34},
		{"request signed over other bytes", workerwire.PathSession, signedByOther, 403, 35},
		{"request already expired", workerwire.PathSession, request(1, nil, nil), 410, 33},
		{"request too far ahead", workerwire.PathSession, request(height+10_000, nil, nil), 400, 32},
	} {
		if code, out, _ := post(tc.path, tc.body); code != tc.status || out["code"] != tc.code {
			t.Errorf("%s: %d %v, want %d code %v", tc.name, code, out, tc.status, tc.code)
		}
	}
	// A session past its expiry height is refused, and forgotten.
	g, qc, _ = open(height + 2)
	deadline := time.Now().Add(time.Minute)
	for seq := uint64(1); ; seq++ {
		code, out, _ := post(workerwire.PathSessionQuery, ask(g, qc, contract, seq, bobKey))
		if code == 410 && out["code"] == float64(33) {
			break
		}
		if code != 200 || time.Now().After(deadline) {
			t.Fatalf("a session expiring at height %d, query %d: %d %v", height+2, seq, code, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code, out, _ := post(workerwire.PathSessionQuery, ask(g, qc, contract, 1000, bobKey)); code != 404 || out["code"] != float64(50) {
		t.Fatalf("an expired session after its refusal: %d %v, want 404 code 50", code, out)
	}
}
