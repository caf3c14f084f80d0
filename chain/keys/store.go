package keys

import (
	"crypto/ed25519"
	"encoding/binary"

	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/codec"
)

// Stored items of the module. Handlers only read single items (overlays do
// not iterate); queries iterate committed state.
var (
	statusKey         = state.NewKeyFormat(state.ModuleKeys, 0x01) // → MasterStatus
	masterKey         = state.NewKeyFormat(state.ModuleKeys, 0x02) // generation (4 bytes BE) → public key
	clusterKey        = state.NewKeyFormat(state.ModuleKeys, 0x03) // cluster id → ClusterInfo
	workerKey         = state.NewKeyFormat(state.ModuleKeys, 0x04) // worker identity key → cluster id
	contractKey       = state.NewKeyFormat(state.ModuleKeys, 0x05) // len(cluster) ‖ cluster ‖ contract → ContractInfo
	masterHandoutKey  = state.NewKeyFormat(state.ModuleKeys, 0x06) // recipient identity key → HandoutRecord
	clusterHandoutKey = state.NewKeyFormat(state.ModuleKeys, 0x07) // recipient identity key → HandoutRecord
)

// MasterStatus is where the master key's generations stand.
type MasterStatus struct {
	_ struct{} `cbor:",toarray"`
	// Newest is the newest generation whose public key is recorded (0:
	// none yet).
	Newest uint32
	// Pending is the generation asked for and not yet recorded (0: none).
	Pending uint32
}

// ClusterInfo is a cluster as the chain knows it.
type ClusterInfo struct {
	_       struct{} `cbor:",toarray"`
	ID      string
	Workers []ed25519.PublicKey // identity keys, in assignment order
	Publics []ClusterPublic     // by generation, as recorded
}

// ContractInfo is a contract whose key derivation was requested.
type ContractInfo struct {
	_        struct{} `cbor:",toarray"`
	Cluster  string
	Contract []byte
	Publics  []ContractPublic // by generation, as recorded
}

// HandoutRecord says what the chain carried to one recipient: the envelope
// is opaque to it, so it records when and against which generation.
type HandoutRecord struct {
	_       struct{} `cbor:",toarray"`
	Cluster string   // cluster handouts only
	// Generation is the newest recorded master generation when the newest
	// handout was accepted.
	Generation uint32
	Height     int64  // block of the newest handout
	Count      uint64 // handouts accepted so far
}

func genBytes(g uint32) []byte { return binary.BigEndian.AppendUint32(nil, g) }

// contractKeyOf prefixes the variable-length cluster id with its length so
// keys of different (cluster, contract) pairs never collide.
func contractKeyOf(cluster string, contract []byte) []byte {
	return contractKey.Key([]byte{byte(len(cluster))}, []byte(cluster), contract)
}

func getStatus(r state.Reader) (MasterStatus, error) {
	var s MasterStatus
	err := getRecord(r, statusKey.Key(), &s, "master status")
	return s, err
}

func putStatus(s *state.Overlay, st MasterStatus) { s.Set(statusKey.Key(), codec.MustMarshal(st)) }

func getMaster(r state.Reader, gen uint32) ([]byte, error) {
	return r.Get(masterKey.Key(genBytes(gen)))
}

func getCluster(r state.Reader, id string) (ClusterInfo, bool, error) {
	var c ClusterInfo
	ok, err := getOptional(r, clusterKey.Key([]byte(id)), &c, "cluster")
	return c, ok, err
}

func putCluster(s *state.Overlay, c ClusterInfo) {
	s.Set(clusterKey.Key([]byte(c.ID)), codec.MustMarshal(c))
}

func getContract(r state.Reader, cluster string, contract []byte) (ContractInfo, bool, error) {
	var c ContractInfo
	ok, err := getOptional(r, contractKeyOf(cluster, contract), &c, "contract")
	return c, ok, err
}

func putContract(s *state.Overlay, c ContractInfo) {
	s.Set(contractKeyOf(c.Cluster, c.Contract), codec.MustMarshal(c))
}

func getHandout(r state.Reader, key []byte) (HandoutRecord, error) {
	var h HandoutRecord
	_, err := getOptional(r, key, &h, "handout")
	return h, err
}

// getRecord reads an item that must exist.
func getRecord(r state.Reader, key []byte, v any, what string) error {
	ok, err := getOptional(r, key, v, what)
	if err == nil && !ok {
		return ErrCorruptState.Wrapf("no %s (chain not initialised)", what)
	}
	return err
}

func getOptional(r state.Reader, key []byte, v any, what string) (bool, error) {
	raw, err := r.Get(key)
	if err != nil || raw == nil {
		return false, err
	}
	if err := codec.Unmarshal(raw, v); err != nil {
		return false, ErrCorruptState.Wrapf("%s: %v", what, err)
	}
	return true, nil
}
