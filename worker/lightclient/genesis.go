package lightclient

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/phala-go/phala/cmtwire"
)

// Genesis is what the enclave takes from a chain's genesis document: the
// chain, its first validator set and the application's genesis state. It
// is the runtime's trust root, so it is read strictly (ParseGenesis) and
// checked again when a light client starts from it (GenesisState).
type Genesis struct {
	ChainID string
	Time    time.Time
	// InitialHeight is the first block's height; only 1 is supported (0
	// means 1, as in CometBFT).
	InitialHeight int64
	// Validators sign block 1, in the document's order; CometBFT orders
	// them by power and address, and so does GenesisState.
	Validators []GenesisValidator
	// AppHash is the document's app_hash (the state before InitChain); the
	// client takes the chain's app hash from header 1 instead.
	AppHash []byte
	// AppState is the application's section, as raw JSON.
	AppState json.RawMessage
}

// GenesisValidator is one validator of the genesis set.
type GenesisValidator struct {
	PubKey []byte // ed25519, 32 bytes
	Power  int64
	Name   string
}

// GenesisState is the light client state before the first block of the
// chain g describes. Only chains that start at height 1 with their
// validators in the genesis document are supported: a set handed back by
// the application's InitChain is not something the enclave can check.
func GenesisState(g *Genesis) (State, error) {
	if g == nil {
		return State{}, ErrGenesis.Wrapf("no genesis")
	}
	if g.ChainID == "" || len(g.ChainID) > maxChainIDLen {
		return State{}, ErrGenesis.Wrapf("chain id %q is empty or too long", g.ChainID)
	}
	if g.InitialHeight != 0 && g.InitialHeight != 1 {
		return State{}, ErrGenesis.Wrapf("initial height %d: only chains starting at height 1 are supported", g.InitialHeight)
	}
	if g.Time.IsZero() || !inNanoRange(g.Time) {
		return State{}, ErrGenesis.Wrapf("genesis time %v missing or out of range", g.Time)
	}
	set, err := genesisValidators(g.Validators)
	if err != nil {
		return State{}, ErrGenesis.Wrapf("%v", err)
	}
	vb, err := set.encode()
	if err != nil {
		return State{}, ErrGenesis.Wrapf("encode validator set: %v", err)
	}
	return State{ChainID: g.ChainID, Time: g.Time.UnixNano(), Validators: vb}, nil
}

// genesisValidators is the set CometBFT's NewValidatorSet makes of the
// document's validators.
func genesisValidators(gvs []GenesisValidator) (*validatorSet, error) {
	if len(gvs) == 0 || len(gvs) > maxValidators {
		return nil, fmt.Errorf("%d genesis validators (need 1 to %d)", len(gvs), maxValidators)
	}
	vals := make([]cmtwire.Validator, len(gvs))
	for i, gv := range gvs {
		pub, err := ed25519Key(gv.PubKey)
		if err != nil {
			return nil, fmt.Errorf("genesis validator %d: %v", i, err)
		}
		vals[i] = cmtwire.NewValidator(pub, gv.Power)
	}
	// Check powers and duplicates in the document's order, so errors name
	// the validator as the document numbers it.
	if _, err := newValidatorSet(vals); err != nil {
		return nil, fmt.Errorf("genesis %v", err)
	}
	cmtwire.SortByPower(vals)
	return newValidatorSet(vals)
}

// The keys of a CometBFT genesis document and of its parts. Anything else
// is refused: a misspelt key must not silently drop a setting.
var (
	genesisKeys   = []string{"genesis_time", "chain_id", "initial_height", "consensus_params", "validators", "app_hash", "app_state"}
	validatorKeys = []string{"address", "pub_key", "power", "name"}
	pubKeyKeys    = []string{"type", "value"}
)

// ParseGenesis reads CometBFT's genesis.json. It is stricter than CometBFT:
// keys must be spelt exactly and appear once, integers are CometBFT's
// quoted decimals in canonical form, and nothing may follow the document.
// The consensus parameters are not read: the light client does not need
// them, and the chain's validators check them.
func ParseGenesis(raw []byte) (*Genesis, error) {
	fields, err := jsonObject(raw, genesisKeys)
	if err != nil {
		return nil, ErrGenesis.Wrapf("genesis document: %v", err)
	}
	g, err := genesisFromFields(fields)
	if err != nil {
		return nil, ErrGenesis.Wrapf("genesis document: %v", err)
	}
	if _, err := GenesisState(g); err != nil {
		return nil, err
	}
	return g, nil
}

func genesisFromFields(f map[string]json.RawMessage) (*Genesis, error) {
	g := &Genesis{InitialHeight: 1}
	if err := jsonString(f["chain_id"], &g.ChainID); err != nil {
		return nil, fmt.Errorf("chain_id: %v", err)
	}
	if err := jsonTime(f["genesis_time"], &g.Time); err != nil {
		return nil, fmt.Errorf("genesis_time: %v", err)
	}
	if raw, ok := f["initial_height"]; ok {
		if err := jsonInt64(raw, &g.InitialHeight); err != nil {
			return nil, fmt.Errorf("initial_height: %v", err)
		}
		// CometBFT reads 0 as "the default", which is 1.
		if g.InitialHeight == 0 {
			g.InitialHeight = 1
		}
	}
	if raw, ok := f["app_hash"]; ok {
		if err := jsonHex(raw, &g.AppHash); err != nil {
			return nil, fmt.Errorf("app_hash: %v", err)
		}
	}
	if raw, ok := f["validators"]; ok {
		vals, err := genesisValidatorList(raw)
		if err != nil {
			return nil, err
		}
		g.Validators = vals
	}
	g.AppState = bytes.Clone(f["app_state"])
	return g, nil
}

func genesisValidatorList(raw json.RawMessage) ([]GenesisValidator, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("validators: %v", err)
	}
	out := make([]GenesisValidator, len(items))
	for i, item := range items {
		v, err := genesisValidator(item)
		if err != nil {
			return nil, fmt.Errorf("validator %d: %v", i, err)
		}
		out[i] = v
	}
	return out, nil
}

// genesisValidator reads one entry; its address is optional and, when
// given, must be its key's, as CometBFT requires.
func genesisValidator(raw json.RawMessage) (GenesisValidator, error) {
	f, err := jsonObject(raw, validatorKeys)
	if err != nil {
		return GenesisValidator{}, err
	}
	var v GenesisValidator
	if v.PubKey, err = genesisPubKey(f["pub_key"]); err != nil {
		return GenesisValidator{}, fmt.Errorf("pub_key: %v", err)
	}
	if err := jsonInt64(f["power"], &v.Power); err != nil {
		return GenesisValidator{}, fmt.Errorf("power: %v", err)
	}
	if raw, ok := f["name"]; ok {
		if err := jsonString(raw, &v.Name); err != nil {
			return GenesisValidator{}, fmt.Errorf("name: %v", err)
		}
	}
	var addr []byte
	if raw, ok := f["address"]; ok {
		if err := jsonHex(raw, &addr); err != nil {
			return GenesisValidator{}, fmt.Errorf("address: %v", err)
		}
	}
	if want := cmtwire.Ed25519Address(v.PubKey); len(addr) != 0 && !bytes.Equal(addr, want) {
		return GenesisValidator{}, fmt.Errorf("address %s is not its key's %s", short(addr), short(want))
	}
	return v, nil
}

// genesisPubKey reads CometBFT's typed key JSON; only ed25519 is supported.
func genesisPubKey(raw json.RawMessage) ([]byte, error) {
	f, err := jsonObject(raw, pubKeyKeys)
	if err != nil {
		return nil, err
	}
	var typ, value string
	if err := jsonString(f["type"], &typ); err != nil {
		return nil, fmt.Errorf("type: %v", err)
	}
	if typ != ed25519KeyName {
		return nil, fmt.Errorf("key type %q is not supported", typ)
	}
	if err := jsonString(f["value"], &value); err != nil {
		return nil, fmt.Errorf("value: %v", err)
	}
	key, err := base64.StdEncoding.Strict().DecodeString(value)
	if err != nil {
		return nil, fmt.Errorf("value: %v", err)
	}
	return ed25519Key(key)
}

// jsonObject splits one JSON object into its members, refusing keys not in
// allowed and keys given twice (encoding/json would silently keep the last
// one, and match keys regardless of case).
func jsonObject(raw []byte, allowed []string) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("not a JSON object")
	}
	fields := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		if !contains(allowed, key) {
			return nil, fmt.Errorf("unknown key %q", key)
		}
		if _, dup := fields[key]; dup {
			return nil, fmt.Errorf("key %q given twice", key)
		}
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, fmt.Errorf("%s: %v", key, err)
		}
		fields[key] = value
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("data after the object")
	}
	return fields, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// jsonString reads a required JSON string.
func jsonString(raw json.RawMessage, out *string) error {
	if raw == nil {
		return fmt.Errorf("missing")
	}
	if err := json.Unmarshal(raw, out); err != nil || bytes.Equal(raw, []byte("null")) {
		return fmt.Errorf("not a string")
	}
	return nil
}

// jsonInt64 reads CometBFT's form of a 64-bit integer: a string holding
// its canonical decimal form.
func jsonInt64(raw json.RawMessage, out *int64) error {
	var s string
	if err := jsonString(raw, &s); err != nil {
		return err
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || strconv.FormatInt(n, 10) != s {
		return fmt.Errorf("%q is not a decimal integer", s)
	}
	*out = n
	return nil
}

// jsonHex reads a hex string (either case, as CometBFT accepts).
func jsonHex(raw json.RawMessage, out *[]byte) error {
	var s string
	if err := jsonString(raw, &s); err != nil {
		return err
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return fmt.Errorf("not hex: %v", err)
	}
	*out = b
	return nil
}

// jsonTime reads a required RFC 3339 time.
func jsonTime(raw json.RawMessage, out *time.Time) error {
	var s string
	if err := jsonString(raw, &s); err != nil {
		return err
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return err
	}
	*out = t
	return nil
}
