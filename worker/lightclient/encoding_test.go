package lightclient

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	cmtcrypto "github.com/cometbft/cometbft/api/cometbft/crypto/v1"
	cmtproto "github.com/cometbft/cometbft/api/cometbft/types/v1"
	"github.com/cometbft/cometbft/crypto/ed25519"
	cmtjson "github.com/cometbft/cometbft/libs/json"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/cometbft/cometbft/version"

	"github.com/phala-go/phala/internal/chaingen"
	"github.com/phala-go/phala/mq"
)

// The constants copied from CometBFT must stay CometBFT's.
func TestConstantsAreCometBFTs(t *testing.T) {
	if blockProtocol != version.BlockProtocol || maxChainIDLen != cmttypes.MaxChainIDLen ||
		maxSignatureSize != cmttypes.MaxSignatureSize || maxTotalVotingPower != cmttypes.MaxTotalVotingPower ||
		ed25519KeyType != ed25519.KeyType || ed25519KeyName != ed25519.PubKeyName || ed25519KeySize != ed25519.PubKeySize {
		t.Fatal("a CometBFT constant changed; update the light client's copy")
	}
}

// generatedChain is a chaingen chain of n validators and h blocks, some
// publishing messages.
func generatedChain(t testing.TB, id string, n, h int) *chaingen.Chain {
	t.Helper()
	c, err := chaingen.New(id, n, json.RawMessage(`{}`), []byte("genesis app hash"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range h {
		var msgs []mq.Message
		for j := range i % 3 {
			msgs = append(msgs, mq.Message{Topic: "gen.topic", Payload: []byte{byte(i), byte(j)}})
		}
		if err := c.Add(msgs); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// Header hashes equal CometBFT's on generated headers, and on headers with
// the fields CometBFT encodes as nothing (empty hashes, first block).
func TestHeaderHashIsCometBFTs(t *testing.T) {
	var headers []*cmttypes.Header
	gen := generatedChain(t, "hash-chain", 4, 6)
	for h := int64(1); h <= gen.Height(); h++ {
		headers = append(headers, gen.Header(h))
	}
	tc := newTestChain(t, "test-chain", newSigners(t, "hash", 3)).extend(4)
	headers = append(headers, tc.headers...)
	sparse := *tc.header(1)
	sparse.AppHash, sparse.ConsensusHash, sparse.ChainID = nil, nil, ""
	sparse.Time = time.Unix(-5, 7)
	headers = append(headers, &sparse)
	for i, want := range headers {
		got, err := decodeHeader(encodeHeader(t, want))
		if err != nil {
			t.Fatalf("header %d: %v", i, err)
		}
		if !bytes.Equal(got.hash(), want.Hash()) {
			t.Fatalf("header %d hash %x, CometBFT's %x", i, got.hash(), want.Hash())
		}
	}
}

// Vote sign bytes equal CometBFT's for every signature of generated
// commits, including other rounds and zero timestamps.
func TestVoteSignBytesAreCometBFTs(t *testing.T) {
	gen := generatedChain(t, "sign-chain", 4, 3)
	for h := int64(1); h <= gen.Height(); h++ {
		cm, err := gen.Commit(h)
		if err != nil {
			t.Fatal(err)
		}
		for _, round := range []int32{0, 3} {
			c := *cm
			c.Round = round
			c.Signatures = append([]cmttypes.CommitSig(nil), cm.Signatures...)
			c.Signatures[0].Timestamp = time.Time{}
			pc := c.ToProto()
			for i := range c.Signatures {
				got := voteSignBytes(gen.ChainID, pc, pc.Signatures[i].Timestamp)
				if want := c.VoteSignBytes(gen.ChainID, int32(i)); !bytes.Equal(got, want) {
					t.Fatalf("height %d round %d vote %d:\n%x\nCometBFT:\n%x", h, round, i, got, want)
				}
			}
		}
	}
}

// Validator sets: the order and hash of a genesis set, and the hash of a
// decoded set, equal CometBFT's; the State encoding is the one earlier
// versions wrote (checkpoints and genesis hashes depend on it).
func TestValidatorSetIsCometBFTs(t *testing.T) {
	for _, powers := range [][]int64{{10}, {10, 10, 10, 10}, {1, 50, 7, 7, 300, 2}} {
		var cvals []*cmttypes.Validator
		var gvals []GenesisValidator
		for i, p := range powers {
			pub := ed25519.GenPrivKeyFromSecret(fmt.Appendf(nil, "set/%d", i)).PubKey()
			cvals = append(cvals, cmttypes.NewValidator(pub, p))
			gvals = append(gvals, GenesisValidator{PubKey: pub.Bytes(), Power: p})
		}
		want := cmttypes.NewValidatorSet(cvals)
		set, err := genesisValidators(gvals)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(set.hash(), want.Hash()) {
			t.Fatalf("powers %v: genesis set hash %x, CometBFT's %x", powers, set.hash(), want.Hash())
		}
		enc, err := set.encode()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(enc, referenceStateValidators(t, want)) {
			t.Fatalf("powers %v: State encoding differs from the reference", powers)
		}
		wp, err := want.ToProto()
		if err != nil {
			t.Fatal(err)
		}
		raw, err := wp.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		decoded, err := decodeValidators(raw)
		if err != nil || !bytes.Equal(decoded.hash(), want.Hash()) {
			t.Fatalf("powers %v: decoded set: %v", powers, err)
		}
	}
}

// A validator written with the older PublicKey field decodes to the same
// set; an unsupported key type is refused.
func TestValidatorKeyForms(t *testing.T) {
	s := newSigners(t, "forms", 2)
	vp, err := s.set.ToProto()
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vp.Validators {
		pk, err := cmtprotoKey(v)
		if err != nil {
			t.Fatal(err)
		}
		v.PubKey, v.PubKeyType, v.PubKeyBytes = pk, "", nil
	}
	raw, _ := vp.Marshal()
	set, err := decodeValidators(raw)
	if err != nil || !bytes.Equal(set.hash(), s.set.Hash()) {
		t.Fatalf("older key form: %v", err)
	}
	vp.Validators[0].PubKey, vp.Validators[0].PubKeyType, vp.Validators[0].PubKeyBytes = nil, "secp256k1", make([]byte, 33)
	raw, _ = vp.Marshal()
	if _, err := decodeValidators(raw); err == nil {
		t.Fatal("secp256k1 key accepted")
	}
}

// ParseGenesis reads what CometBFT writes and agrees with its reader on
// everything the light client and runtime use.
func TestParseGenesisMatchesCometBFT(t *testing.T) {
	gen := generatedChain(t, "genesis-chain", 4, 0)
	doc := *gen.Genesis
	doc.AppHash = []byte{0xab, 0xcd}
	doc.AppState = json.RawMessage(`{"registry":{"x":1}}`)
	raw, err := cmtjson.MarshalIndent(&doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	want, err := cmttypes.GenesisDocFromJSON(raw)
	if err != nil {
		t.Fatal(err)
	}
	g, err := ParseGenesis(raw)
	if err != nil {
		t.Fatal(err)
	}
	set, err := genesisValidators(g.Validators)
	if err != nil {
		t.Fatal(err)
	}
	if g.ChainID != want.ChainID || !g.Time.Equal(want.GenesisTime) || g.InitialHeight != want.InitialHeight ||
		!bytes.Equal(g.AppHash, want.AppHash) || !bytes.Equal(set.hash(), want.ValidatorHash()) {
		t.Fatalf("genesis %+v differs from CometBFT's reading %+v", g, want)
	}
	var a, b any
	if json.Unmarshal(g.AppState, &a) != nil || json.Unmarshal(want.AppState, &b) != nil || fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatalf("app state %s, CometBFT's %s", g.AppState, want.AppState)
	}
}

// ParseGenesis refuses what it cannot read exactly.
func TestParseGenesisIsStrict(t *testing.T) {
	gen := generatedChain(t, "strict-chain", 2, 0)
	raw, err := cmtjson.Marshal(gen.Genesis)
	if err != nil {
		t.Fatal(err)
	}
	good := string(raw)
	if _, err := ParseGenesis(raw); err != nil {
		t.Fatal(err)
	}
	replace := func(old, new string) string {
		if !strings.Contains(good, old) {
			t.Fatalf("%q not in the genesis", old)
		}
		return strings.Replace(good, old, new, 1)
	}
	bad := map[string]string{
		"not json":            "{",
		"trailing data":       good + "{}",
		"unknown key":         replace(`"chain_id"`, `"chain_idd":"x","chain_id"`),
		"key in another case": replace(`"chain_id"`, `"Chain_ID"`),
		"duplicate key":       replace(`"chain_id"`, `"chain_id":"other","chain_id"`),
		"unquoted height":     replace(`"initial_height":"1"`, `"initial_height":1`),
		"padded height":       replace(`"initial_height":"1"`, `"initial_height":"01"`),
		"late height":         replace(`"initial_height":"1"`, `"initial_height":"5"`),
		"unquoted power":      replace(`"power":"10"`, `"power":10`),
		"negative power":      replace(`"power":"10"`, `"power":"-10"`),
		"other key type":      replace(`tendermint/PubKeyEd25519`, `tendermint/PubKeySecp256k1`),
		"unknown validator":   replace(`"power"`, `"powr":"1","power"`),
		"no chain id":         replace(`"chain_id":"strict-chain"`, `"chain_id":""`),
		"null chain id":       replace(`"chain_id":"strict-chain"`, `"chain_id":null`),
		"bad time":            replace(`"genesis_time":"`, `"genesis_time":"x`),
		"bad app hash":        replace(`"app_hash":""`, `"app_hash":"xyz"`),
		"unknown top key":     replace(`"validators"`, `"validatorz"`),
	}
	for name, doc := range bad {
		if _, err := ParseGenesis([]byte(doc)); !errors.Is(err, ErrGenesis) {
			t.Errorf("%s: %v, want %v", name, err, ErrGenesis)
		}
	}
}

func cmtprotoKey(v *cmtproto.Validator) (*cmtcrypto.PublicKey, error) {
	if len(v.PubKeyBytes) != ed25519.PubKeySize {
		return nil, fmt.Errorf("key of %d bytes", len(v.PubKeyBytes))
	}
	return &cmtcrypto.PublicKey{Sum: &cmtcrypto.PublicKey_Ed25519{Ed25519: v.PubKeyBytes}}, nil
}

// The State at genesis is the one earlier versions built from the CometBFT
// document: the runtime's genesis hash, and so every existing checkpoint,
// depends on it.
func TestGenesisStateUnchanged(t *testing.T) {
	for _, n := range []int{1, 4, 7} {
		gen := generatedChain(t, fmt.Sprintf("unchanged-%d", n), n, 0)
		var vals []*cmttypes.Validator
		for _, gv := range gen.Genesis.Validators {
			vals = append(vals, cmttypes.NewValidator(gv.PubKey, gv.Power))
		}
		want := State{
			ChainID: gen.Genesis.ChainID, Time: gen.Genesis.GenesisTime.UnixNano(),
			Validators: referenceStateValidators(t, cmttypes.NewValidatorSet(vals)),
		}
		got, err := GenesisState(genesisFromDoc(t, gen.Genesis))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%d validators: genesis state %+v, was %+v", n, got, want)
		}
	}
}
