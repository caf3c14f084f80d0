package keys

import (
	"encoding/binary"

	"github.com/phala-go/phala/chain/keys/keysapi"
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

func genBytes(g uint32) []byte { return binary.BigEndian.AppendUint32(nil, g) }

// contractKeyOf prefixes the variable-length cluster id with its length so
// keys of different (cluster, contract) pairs never collide.
func contractKeyOf(cluster string, contract []byte) []byte {
	return contractKey.Key([]byte{byte(len(cluster))}, []byte(cluster), contract)
}

func getStatus(r state.Reader) (keysapi.MasterStatus, error) {
	var s keysapi.MasterStatus
	err := getRecord(r, statusKey.Key(), &s, "master status")
	return s, err
}

func putStatus(s *state.Overlay, st keysapi.MasterStatus) {
	s.Set(statusKey.Key(), codec.MustMarshal(st))
}

func getMaster(r state.Reader, gen uint32) ([]byte, error) {
	return r.Get(masterKey.Key(genBytes(gen)))
}

func getCluster(r state.Reader, id string) (keysapi.ClusterInfo, bool, error) {
	var c keysapi.ClusterInfo
	ok, err := getOptional(r, clusterKey.Key([]byte(id)), &c, "cluster")
	return c, ok, err
}

func putCluster(s *state.Overlay, c keysapi.ClusterInfo) {
	s.Set(clusterKey.Key([]byte(c.ID)), codec.MustMarshal(c))
}

func getContract(r state.Reader, cluster string, contract []byte) (keysapi.ContractInfo, bool, error) {
	var c keysapi.ContractInfo
	ok, err := getOptional(r, contractKeyOf(cluster, contract), &c, "contract")
	return c, ok, err
}

func putContract(s *state.Overlay, c keysapi.ContractInfo) {
	s.Set(contractKeyOf(c.Cluster, c.Contract), codec.MustMarshal(c))
}

func getHandout(r state.Reader, key []byte) (keysapi.HandoutRecord, error) {
	var h keysapi.HandoutRecord
	_, err := getOptional(r, key, &h, "handout")
	return h, err
}

// getRecord reads an item that must exist.
func getRecord(r state.Reader, key []byte, v any, what string) error {
	ok, err := getOptional(r, key, v, what)
	if err == nil && !ok {
		return keysapi.ErrCorruptState.Wrapf("no %s (chain not initialised)", what)
	}
	return err
}

func getOptional(r state.Reader, key []byte, v any, what string) (bool, error) {
	raw, err := r.Get(key)
	if err != nil || raw == nil {
		return false, err
	}
	if err := codec.Unmarshal(raw, v); err != nil {
		return false, keysapi.ErrCorruptState.Wrapf("%s: %v", what, err)
	}
	return true, nil
}
