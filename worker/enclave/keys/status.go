package keys

import (
	"bytes"
	"slices"

	"github.com/phala-go/phala/chain/keys/keysapi"
	"github.com/phala-go/phala/crypto/derive"
	"github.com/phala-go/phala/worker/enclave/keystore"
)

// Held are the master generations this enclave holds.
func (m *Module) Held() []uint32 { return slices.Clone(m.st.Held) }

// HeldClusters are the cluster key generations this enclave holds.
func (m *Module) HeldClusters() []ClusterGen { return slices.Clone(m.st.HeldClusters) }

// MasterPublics are the master publics the chain recorded.
func (m *Module) MasterPublics() []keysapi.MasterPublic {
	var out []keysapi.MasterPublic
	for _, r := range m.st.Masters {
		out = append(out, keysapi.MasterPublic{Generation: r.Generation, PublicKey: bytes.Clone(r.PublicKey)})
	}
	return out
}

// PendingHandouts is how many handouts to us wait.
func (m *Module) PendingHandouts() int { return len(m.st.Pending) }

// MasterMatches reports whether the held secret of generation g derives
// the public key the chain recorded.
func (m *Module) MasterMatches(chainID string, secrets keystore.Reader, g uint32) bool {
	want, ok := m.st.masterPublic(g)
	secret, held := secrets.Master(g)
	if !ok || !held || !m.st.holds(g) {
		return false
	}
	pub, err := MasterPublicKey(chainID, secret)
	return err == nil && bytes.Equal(pub, want)
}

// NewestClusterKey is the newest generation of a cluster's key this
// enclave holds: handed to it (a worker of the cluster), or derived from
// the newest master generation (a gatekeeper).
func (m *Module) NewestClusterKey(chainID string, secrets keystore.Reader, cluster string) (derive.ClusterKey, uint32, bool) {
	for i := len(m.st.HeldClusters) - 1; i >= 0; i-- {
		if c := m.st.HeldClusters[i]; c.Cluster == cluster {
			ck, ok := secrets.Cluster(cluster, c.Generation)
			return ck, c.Generation, ok
		}
	}
	g := m.st.newestMaster()
	if g == 0 || !m.st.holds(g) {
		return derive.ClusterKey{}, 0, false
	}
	mk, ok := secrets.Master(g)
	if !ok {
		return derive.ClusterKey{}, 0, false
	}
	ck, err := mk.Cluster(chainID, []byte(cluster))
	return ck, g, err == nil
}
