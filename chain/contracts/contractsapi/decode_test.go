package contractsapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/crypto/envelope"
	"github.com/phala-go/phala/token"
)

func testEnvelope(t testing.TB, s envelope.Suite) []byte {
	k, err := envelope.GenerateKey(s)
	if err != nil {
		t.Fatal(err)
	}
	env, err := envelope.Seal("test", envelope.Command, k.PublicKey(), []byte("args"), nil)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func testPublicKey(t testing.TB) []byte {
	k, err := envelope.GenerateKey(envelope.Default)
	if err != nil {
		t.Fatal(err)
	}
	return k.PublicKey().Bytes()
}

func TestDecoders(t *testing.T) {
	env, x25519Env := testEnvelope(t, envelope.Default), testEnvelope(t, envelope.SuiteX25519)
	h := Hash{1}
	tests := []struct {
		name   string
		decode func([]byte) error
		body   any
		want   error // nil: accepted
	}{
		{"upload", errOf(DecodeUpload), Upload{CodeHash: h, Size: 3, Chunk: []byte{1, 2, 3}}, nil},
		{"upload middle chunk", errOf(DecodeUpload), Upload{CodeHash: h, Size: 10, Offset: 4, Chunk: []byte{1, 2}}, nil},
		{"upload empty chunk", errOf(DecodeUpload), Upload{CodeHash: h, Size: 3}, ErrInvalid},
		{"upload chunk beyond the size", errOf(DecodeUpload), Upload{CodeHash: h, Size: 3, Offset: 2, Chunk: []byte{1, 2}}, ErrInvalid},
		{"upload offset beyond the size", errOf(DecodeUpload), Upload{CodeHash: h, Size: 3, Offset: 1 << 63, Chunk: []byte{1}}, ErrInvalid},
		{"upload chunk too large", errOf(DecodeUpload), Upload{CodeHash: h, Size: 1 << 20, Chunk: make([]byte, MaxChunk+1)}, ErrInvalid},
		{"upload short hash", errOf(DecodeUpload), []any{[]byte{1}, 3, 0, []byte{1, 2, 3}}, ErrInvalid},
		{"upload extra field", errOf(DecodeUpload), []any{h[:], 3, 0, []byte{1, 2, 3}, 0}, ErrInvalid},
		{"instantiate", errOf(DecodeInstantiate), Instantiate{CodeHash: h, Cluster: "default", Salt: []byte("s"), InitArgs: env}, nil},
		{"instantiate bad cluster", errOf(DecodeInstantiate), Instantiate{CodeHash: h, Cluster: "a b", InitArgs: env}, ErrInvalid},
		{"instantiate long salt", errOf(DecodeInstantiate), Instantiate{CodeHash: h, Cluster: "c", Salt: make([]byte, MaxSalt+1), InitArgs: env}, ErrInvalid},
		{"instantiate init args no envelope", errOf(DecodeInstantiate), Instantiate{CodeHash: h, Cluster: "c", InitArgs: []byte("{}")}, ErrEnvelope},
		{"instantiate init args of another suite", errOf(DecodeInstantiate), Instantiate{CodeHash: h, Cluster: "c", InitArgs: x25519Env}, ErrEnvelope},
		{"command", errOf(DecodeCommand), Command{Contract: h, Generation: 1, Sealed: env, GasLimit: 1, Value: token.PHA(1)}, nil},
		{"command generation 0", errOf(DecodeCommand), Command{Contract: h, Sealed: env, GasLimit: 1}, ErrInvalid},
		{"command no gas", errOf(DecodeCommand), Command{Contract: h, Generation: 1, Sealed: env}, ErrGasLimit},
		{"command unsealed", errOf(DecodeCommand), Command{Contract: h, Generation: 1, Sealed: []byte("transfer"), GasLimit: 1}, ErrEnvelope},
		{"command plaintext", errOf(DecodeCommandPlain), CommandPlain{Method: "transfer", Args: []byte("{}"), ReplyKey: testPublicKey(t)}, nil},
		{"command plaintext no method", errOf(DecodeCommandPlain), CommandPlain{ReplyKey: testPublicKey(t)}, ErrInvalid},
		{"command plaintext bad reply key", errOf(DecodeCommandPlain), CommandPlain{Method: "m", ReplyKey: []byte{1}}, ErrInvalid},
		{"init plaintext", errOf(DecodeInit), Init{Args: []byte("{}")}, nil},
		{"code chunk", errOf(DecodeCodeChunk), CodeChunk{CodeHash: h, Size: 2, Chunk: []byte{1, 2}}, nil},
		{"code chunk beyond", errOf(DecodeCodeChunk), CodeChunk{CodeHash: h, Size: 2, Offset: 1, Chunk: []byte{1, 2}}, ErrInvalid},
		{"code", errOf(DecodeCode), Code{Hash: h, Size: 1, Height: 3}, nil},
		{"empty code", errOf(DecodeCode), Code{Hash: h}, ErrInvalid},
		{"instantiated", errOf(DecodeInstantiated), Instantiated{Contract: h, CodeHash: h, Cluster: "c", InitArgs: env}, nil},
		{"command message", errOf(DecodeCommandMessage), CommandMessage{Seq: 1, Contract: h, Generation: 1, Sealed: env, GasLimit: 1}, nil},
		{"command message seq 0", errOf(DecodeCommandMessage), CommandMessage{Contract: h, Generation: 1, Sealed: env, GasLimit: 1}, ErrInvalid},
		{"list query", errOf(DecodeListQuery), ListQuery{After: h, Limit: 3}, nil},
		{"upload query", errOf(DecodeUploadQuery), UploadQuery{CodeHash: h}, nil},
	}
	for _, tc := range tests {
		err := tc.decode(codec.MustMarshal(tc.body))
		if (tc.want == nil) != (err == nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := DecodeListQuery(nil); err != nil {
		t.Errorf("no list query data (the first page): %v", err)
	}
}

func TestCheckEnvelopeSize(t *testing.T) {
	env := testEnvelope(t, envelope.Default)
	if err := CheckEnvelope(env, uint64(len(env))); err != nil {
		t.Fatal(err)
	}
	if err := CheckEnvelope(env, uint64(len(env)-1)); !errors.Is(err, ErrEnvelope) {
		t.Fatalf("an envelope over the bound: %v", err)
	}
}

// TestContractID: the id binds every input, and the chain id.
func TestContractID(t *testing.T) {
	alice, bob := address.Module("a"), address.Module("b")
	base := ContractID("c", alice, Hash{1}, "default", []byte("s"))
	for name, other := range map[string]Hash{
		"chain":    ContractID("d", alice, Hash{1}, "default", []byte("s")),
		"deployer": ContractID("c", bob, Hash{1}, "default", []byte("s")),
		"code":     ContractID("c", alice, Hash{2}, "default", []byte("s")),
		"cluster":  ContractID("c", alice, Hash{1}, "other", []byte("s")),
		"salt":     ContractID("c", alice, Hash{1}, "default", nil),
		"shifted":  ContractID("c", alice, Hash{1}, "defaults", nil),
	} {
		if other == base {
			t.Errorf("changing the %s keeps the id", name)
		}
	}
	if ContractID("c", alice, Hash{1}, "default", []byte("s")) != base {
		t.Error("the id is not a function of its inputs")
	}
	if ContractAccount(base) == ContractAccount(Hash{}) || ContractAccount(base) == Escrow {
		t.Error("contract accounts collide")
	}
}

func TestHashText(t *testing.T) {
	h := Hash(sha256.Sum256([]byte("x")))
	b, err := json.Marshal(h)
	if err != nil || string(b) != `"`+h.String()+`"` {
		t.Fatalf("JSON %s (%v)", b, err)
	}
	var back Hash
	if err := json.Unmarshal(b, &back); err != nil || back != h {
		t.Fatalf("round trip %v (%v)", back, err)
	}
	if _, err := ParseHash("0x" + h.String()); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "zz", strings.Repeat("a", 62), strings.Repeat("a", 66)} {
		if _, err := ParseHash(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	// CBOR: a byte string of 32 bytes, not an array of numbers or text.
	if enc := codec.MustMarshal(h); len(enc) != 34 || enc[0] != 0x58 || !bytes.Equal(enc[2:], h[:]) {
		t.Fatalf("CBOR %x", enc)
	}
}

func TestParams(t *testing.T) {
	p := DefaultParams()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(*Params){
		"no code size":     func(p *Params) { p.MaxCodeSize = 0 },
		"no gas limit":     func(p *Params) { p.MaxGasLimit = 0 },
		"no sealed size":   func(p *Params) { p.MaxSealedSize = 0 },
		"reserve overflow": func(p *Params) { p.GasPrice, _ = token.PHA(1).MulUint64(1 << 62); p.MaxGasLimit = 1 << 62 },
	} {
		q := DefaultParams()
		edit(&q)
		if err := q.Validate(); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	if r, _ := p.Reserve(1_000_000); r != token.FromUint64(1_000_000_000) {
		t.Errorf("a million gas reserves %s", r.PHAString())
	}
}

func errOf[T any](f func([]byte) (T, error)) func([]byte) error {
	return func(b []byte) error { _, err := f(b); return err }
}

// fuzzDecoder checks a decoder never panics and accepts only canonical
// encodings: what it accepts re-encodes to the same bytes.
func fuzzDecoder[T any](f *testing.F, decode func([]byte) (T, error), seeds ...any) {
	for _, s := range seeds {
		f.Add(codec.MustMarshal(s))
	}
	f.Add([]byte{})
	f.Add([]byte{0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := decode(b)
		if err != nil {
			return
		}
		if again := codec.MustMarshal(v); !bytes.Equal(again, b) {
			t.Fatalf("accepted a non-canonical encoding %x (canonical %x)", b, again)
		}
	})
}

func FuzzDecodeUpload(f *testing.F) {
	fuzzDecoder(f, DecodeUpload, Upload{CodeHash: Hash{1}, Size: 3, Chunk: []byte{1, 2, 3}}, Upload{Size: 9, Offset: 8, Chunk: []byte{1}})
}

func FuzzDecodeInstantiate(f *testing.F) {
	fuzzDecoder(f, DecodeInstantiate, Instantiate{CodeHash: Hash{1}, Cluster: "default", Salt: []byte{1}, InitArgs: testEnvelope(f, envelope.Default)})
}

func FuzzDecodeCommand(f *testing.F) {
	fuzzDecoder(f, DecodeCommand, Command{Contract: Hash{1}, Generation: 1, Sealed: testEnvelope(f, envelope.Default), GasLimit: 5, Value: token.PHA(1)})
}

func FuzzDecodeCommandPlain(f *testing.F) {
	fuzzDecoder(f, DecodeCommandPlain, CommandPlain{Method: "m", Args: []byte("{}"), ReplyKey: testPublicKey(f)})
}

func FuzzDecodeInit(f *testing.F) { fuzzDecoder(f, DecodeInit, Init{Args: []byte("{}")}) }

func FuzzDecodeCodeChunk(f *testing.F) {
	fuzzDecoder(f, DecodeCodeChunk, CodeChunk{CodeHash: Hash{1}, Size: 2, Chunk: []byte{1, 2}})
}

func FuzzDecodeCode(f *testing.F) { fuzzDecoder(f, DecodeCode, Code{Hash: Hash{1}, Size: 1}) }

func FuzzDecodeInstantiated(f *testing.F) {
	fuzzDecoder(f, DecodeInstantiated, Instantiated{Contract: Hash{1}, Cluster: "c", InitArgs: testEnvelope(f, envelope.Default)})
}

func FuzzDecodeCommandMessage(f *testing.F) {
	fuzzDecoder(f, DecodeCommandMessage, CommandMessage{Seq: 1, Contract: Hash{1}, Generation: 1, Sealed: testEnvelope(f, envelope.Default), GasLimit: 1})
}

// FuzzDecodeListQuery: no data is the first page (not an encoding); any
// other input is held to the canonical rule.
func FuzzDecodeListQuery(f *testing.F) {
	fuzzDecoder(f, func(b []byte) (ListQuery, error) {
		if len(b) == 0 {
			return ListQuery{}, ErrInvalid
		}
		return DecodeListQuery(b)
	}, ListQuery{Limit: 1})
}

func FuzzDecodeUploadQuery(f *testing.F) {
	fuzzDecoder(f, DecodeUploadQuery, UploadQuery{CodeHash: Hash{1}})
}
