package lightclient

import (
	"bytes"
	"fmt"
	"time"

	cmtproto "github.com/cometbft/cometbft/api/cometbft/types/v1"
	"github.com/cometbft/cometbft/crypto"
	cryptoenc "github.com/cometbft/cometbft/crypto/encoding"
	cmttypes "github.com/cometbft/cometbft/types"
)

// State is the verified position; it is checkpointed (canonical CBOR, toarray).
type State struct {
	_          struct{} `cbor:",toarray"`
	ChainID    string
	Height     int64  // last verified header (0 = genesis, nothing verified yet)
	BlockHash  []byte // its hash (nil at genesis)
	Time       int64  // its time, unix nanoseconds (the genesis time at genesis)
	AppHash    []byte // the app hash it carries (nil at genesis)
	Validators []byte // CometBFT protobuf ValidatorSet that must sign the next header
}

// maxValidators bounds a decoded validator set; CometBFT chains run with
// a few hundred at most.
const maxValidators = 10_000

// Genesis is the state before the first block of the chain doc describes:
// its chain id and the validator set that signs block 1. Only chains that
// start at height 1 with their validators in the genesis document are
// supported: a set handed back by the application's InitChain is not
// something the enclave can check.
func Genesis(doc *cmttypes.GenesisDoc) (State, error) {
	if doc == nil {
		return State{}, ErrGenesis.Wrapf("no genesis document")
	}
	if doc.ChainID == "" || len(doc.ChainID) > cmttypes.MaxChainIDLen {
		return State{}, ErrGenesis.Wrapf("chain id %q is empty or too long", doc.ChainID)
	}
	if doc.InitialHeight > 1 {
		return State{}, ErrGenesis.Wrapf("initial height %d: only chains starting at height 1 are supported", doc.InitialHeight)
	}
	if !inNanoRange(doc.GenesisTime) {
		return State{}, ErrGenesis.Wrapf("genesis time %v out of range", doc.GenesisTime)
	}
	set, err := genesisValidators(doc.Validators)
	if err != nil {
		return State{}, err
	}
	vb, err := encodeValidators(set)
	if err != nil {
		return State{}, ErrGenesis.Wrapf("encode validator set: %v", err)
	}
	return State{ChainID: doc.ChainID, Time: doc.GenesisTime.UnixNano(), Validators: vb}, nil
}

// genesisValidators checks what NewValidatorSet would otherwise panic on.
func genesisValidators(gvs []cmttypes.GenesisValidator) (*cmttypes.ValidatorSet, error) {
	if len(gvs) == 0 || len(gvs) > maxValidators {
		return nil, ErrGenesis.Wrapf("%d genesis validators (need 1 to %d)", len(gvs), maxValidators)
	}
	vals := make([]*cmttypes.Validator, 0, len(gvs))
	seen := make(map[string]bool, len(gvs))
	var total int64
	for i, gv := range gvs {
		if gv.PubKey == nil {
			return nil, ErrGenesis.Wrapf("genesis validator %d has no public key", i)
		}
		if err := checkPower(gv.Power, total); err != nil {
			return nil, ErrGenesis.Wrapf("genesis validator %d: %v", i, err)
		}
		total += gv.Power
		addr := gv.PubKey.Address()
		if len(gv.Address) > 0 && !bytes.Equal(gv.Address, addr) {
			return nil, ErrGenesis.Wrapf("genesis validator %d: address %s is not its key's %s", i, short(gv.Address), short(addr))
		}
		if seen[string(addr)] {
			return nil, ErrGenesis.Wrapf("genesis validator %d (%s) listed twice", i, short(addr))
		}
		seen[string(addr)] = true
		vals = append(vals, cmttypes.NewValidator(gv.PubKey, gv.Power))
	}
	set := cmttypes.NewValidatorSet(vals)
	if err := set.ValidateBasic(); err != nil {
		return nil, ErrGenesis.Wrapf("validator set: %v", err)
	}
	return set, nil
}

// checkPower refuses a power CometBFT would refuse (or panic on).
func checkPower(power, total int64) error {
	if power <= 0 {
		return fmt.Errorf("voting power %d is not positive", power)
	}
	if power > cmttypes.MaxTotalVotingPower-total {
		return fmt.Errorf("total voting power exceeds %d", cmttypes.MaxTotalVotingPower)
	}
	return nil
}

// encodeValidators is the one encoding of a set kept in State: proposer
// priorities zeroed and the first validator named proposer. Neither is part
// of the set's hash, and fixing them makes the checkpoint a function of the
// chain alone, not of how a relay happened to encode the set.
func encodeValidators(set *cmttypes.ValidatorSet) ([]byte, error) {
	vp := &cmtproto.ValidatorSet{Validators: make([]*cmtproto.Validator, len(set.Validators))}
	for i, v := range set.Validators {
		p, err := v.ToProto()
		if err != nil {
			return nil, err
		}
		p.ProposerPriority = 0
		vp.Validators[i] = p
	}
	if len(vp.Validators) > 0 {
		first := *vp.Validators[0]
		vp.Proposer = &first
	}
	return vp.Marshal()
}

// decodeValidators parses an untrusted protobuf ValidatorSet. It checks
// every field CometBFT's own decoder dereferences or panics on before
// handing the cleaned set to it, and ignores the proposer and priorities.
func decodeValidators(b []byte) (*cmttypes.ValidatorSet, error) {
	var vp cmtproto.ValidatorSet
	if err := vp.Unmarshal(b); err != nil {
		return nil, fmt.Errorf("validator set does not decode: %v", err)
	}
	if len(vp.Validators) == 0 || len(vp.Validators) > maxValidators {
		return nil, fmt.Errorf("validator set has %d validators (need 1 to %d)", len(vp.Validators), maxValidators)
	}
	clean := make([]*cmtproto.Validator, len(vp.Validators))
	var total int64
	for i, v := range vp.Validators {
		c, err := cleanValidator(v, total)
		if err != nil {
			return nil, fmt.Errorf("validator %d: %v", i, err)
		}
		total += c.VotingPower
		clean[i] = c
	}
	first := *clean[0]
	set, err := cmttypes.ValidatorSetFromProto(&cmtproto.ValidatorSet{Validators: clean, Proposer: &first})
	if err != nil {
		return nil, fmt.Errorf("validator set: %v", err)
	}
	return set, nil
}

func cleanValidator(v *cmtproto.Validator, total int64) (*cmtproto.Validator, error) {
	if v == nil {
		return nil, fmt.Errorf("missing")
	}
	pk, err := pubKey(v)
	if err != nil {
		return nil, err
	}
	if err := checkPower(v.VotingPower, total); err != nil {
		return nil, err
	}
	if addr := pk.Address(); !bytes.Equal(v.Address, addr) {
		return nil, fmt.Errorf("address %s is not its key's %s", short(v.Address), short(addr))
	}
	return &cmtproto.Validator{Address: v.Address, PubKeyType: pk.Type(), PubKeyBytes: pk.Bytes(), VotingPower: v.VotingPower}, nil
}

func pubKey(v *cmtproto.Validator) (crypto.PubKey, error) {
	if v.PubKeyType != "" {
		return cryptoenc.PubKeyFromTypeAndBytes(v.PubKeyType, v.PubKeyBytes)
	}
	if v.PubKey != nil {
		return cryptoenc.PubKeyFromProto(*v.PubKey)
	}
	return nil, fmt.Errorf("no public key")
}

// Header times are kept as int64 nanoseconds; refuse what does not fit.
var (
	minTime = time.Unix(0, -1<<63)
	maxTime = time.Unix(0, 1<<63-1)
)

func inNanoRange(t time.Time) bool { return !t.Before(minTime) && !t.After(maxTime) }
