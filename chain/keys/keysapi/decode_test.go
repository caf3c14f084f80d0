package keysapi

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"

	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/envelope"
)

func testPublicKey(t testing.TB) []byte {
	k, err := envelope.GenerateKey(envelope.Default)
	if err != nil {
		t.Fatal(err)
	}
	return k.PublicKey().Bytes()
}

func testEnvelope(t testing.TB, s envelope.Suite) []byte {
	k, err := envelope.GenerateKey(s)
	if err != nil {
		t.Fatal(err)
	}
	env, err := envelope.Seal("test", envelope.MasterKeyHandout, k.PublicKey(), []byte("secret"), nil)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func TestCheckClusterID(t *testing.T) {
	tests := []struct {
		id string
		ok bool
	}{
		{"a", true}, {"default", true}, {"A-z_0-9", true}, {strings.Repeat("x", MaxIDLen), true},
		{"", false}, {strings.Repeat("x", MaxIDLen+1), false}, {"a b", false}, {"a/b", false}, {"é", false}, {"a\x00", false},
	}
	for _, tc := range tests {
		if err := CheckClusterID(tc.id); (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrInvalid)) {
			t.Errorf("%q: %v", tc.id, err)
		}
	}
}

func TestDecoders(t *testing.T) {
	pub, id := testPublicKey(t), make([]byte, ed25519.PublicKeySize)
	env, x25519Env := testEnvelope(t, envelope.Default), testEnvelope(t, envelope.SuiteX25519)
	tests := []struct {
		name   string
		decode func([]byte) error
		body   any
		want   error // nil: accepted
	}{
		{"create cluster", errOf(DecodeCreateCluster), CreateCluster{ID: "c"}, nil},
		{"create cluster bad id", errOf(DecodeCreateCluster), CreateCluster{ID: "c!"}, ErrInvalid},
		{"assign worker", errOf(DecodeAssignWorker), AssignWorker{Cluster: "c", Worker: id}, nil},
		{"assign short key", errOf(DecodeAssignWorker), AssignWorker{Cluster: "c", Worker: id[:5]}, ErrInvalid},
		{"rotate", errOf(DecodeRotate), Rotate{}, nil},
		{"rotate with an extra field", errOf(DecodeRotate), []int{1}, ErrInvalid},
		{"master public", errOf(DecodeMasterPublic), MasterPublic{Generation: 1, PublicKey: pub}, nil},
		{"master public of generation 0", errOf(DecodeMasterPublic), MasterPublic{PublicKey: pub}, ErrInvalid},
		{"master public with an x25519 key", errOf(DecodeMasterPublic), MasterPublic{Generation: 1, PublicKey: pub[:32]}, ErrBadPublicKey},
		{"cluster public", errOf(DecodeClusterPublic), ClusterPublic{Cluster: "c", Generation: 1, PublicKey: pub}, nil},
		{"cluster public without cluster", errOf(DecodeClusterPublic), ClusterPublic{Generation: 1, PublicKey: pub}, ErrInvalid},
		{"contract public", errOf(DecodeContractPublic), ContractPublic{Cluster: "c", Contract: []byte{1}, Generation: 1, PublicKey: pub}, nil},
		{"contract public no key", errOf(DecodeContractPublic), ContractPublic{Cluster: "c", Contract: []byte{1}, Generation: 1}, ErrBadPublicKey},
		{"master handout", handout(false), Handout{Recipient: id, Envelope: env}, nil},
		{"master handout naming a cluster", handout(false), Handout{Recipient: id, Cluster: "c", Envelope: env}, ErrInvalid},
		{"master handout of another suite", handout(false), Handout{Recipient: id, Envelope: x25519Env}, ErrEnvelope},
		{"master handout no recipient", handout(false), Handout{Envelope: env}, ErrInvalid},
		{"cluster handout", handout(true), Handout{Recipient: id, Cluster: "c", Envelope: env}, nil},
		{"cluster handout without cluster", handout(true), Handout{Recipient: id, Envelope: env}, ErrInvalid},
		{"cluster handout garbage envelope", handout(true), Handout{Recipient: id, Cluster: "c", Envelope: []byte{1, 2}}, ErrEnvelope},
	}
	for _, tc := range tests {
		err := tc.decode(codec.MustMarshal(tc.body))
		if (tc.want == nil) != (err == nil) || (tc.want != nil && !errors.Is(err, tc.want)) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

func errOf[T any](f func([]byte) (T, error)) func([]byte) error {
	return func(b []byte) error { _, err := f(b); return err }
}

func handout(cluster bool) func([]byte) error {
	return func(b []byte) error { _, err := DecodeHandout(b, cluster); return err }
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

func FuzzDecodeCreateCluster(f *testing.F) {
	fuzzDecoder(f, DecodeCreateCluster, CreateCluster{ID: "c"}, CreateCluster{ID: "a b"})
}

func FuzzDecodeAssignWorker(f *testing.F) {
	fuzzDecoder(f, DecodeAssignWorker, AssignWorker{Cluster: "c", Worker: make([]byte, 32)})
}

func FuzzDecodeRotate(f *testing.F) { fuzzDecoder(f, DecodeRotate, Rotate{}) }

func FuzzDecodeMasterPublic(f *testing.F) {
	fuzzDecoder(f, DecodeMasterPublic, MasterPublic{Generation: 1, PublicKey: testPublicKey(f)})
}

func FuzzDecodeClusterPublic(f *testing.F) {
	fuzzDecoder(f, DecodeClusterPublic, ClusterPublic{Cluster: "c", Generation: 1, PublicKey: testPublicKey(f)})
}

func FuzzDecodeContractPublic(f *testing.F) {
	fuzzDecoder(f, DecodeContractPublic, ContractPublic{Cluster: "c", Contract: []byte{1}, Generation: 2, PublicKey: testPublicKey(f)})
}

func FuzzDecodeHandout(f *testing.F) {
	env := testEnvelope(f, envelope.Default)
	seeds := []any{Handout{Recipient: make([]byte, 32), Envelope: env}, Handout{Recipient: make([]byte, 32), Cluster: "c", Envelope: env}}
	// Whichever kind it is read as, only a canonical handout passes.
	fuzzDecoder(f, func(b []byte) (Handout, error) {
		if h, err := DecodeHandout(b, false); err == nil {
			return h, nil
		}
		return DecodeHandout(b, true)
	}, seeds...)
}
