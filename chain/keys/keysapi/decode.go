package keysapi

import (
	"crypto/ed25519"

	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/envelope"
)

// MaxIDLen bounds cluster and contract ids.
const MaxIDLen = 64

// The decoders below read untrusted bytes (transaction bodies, enclaves'
// egress payloads) strictly, canonical CBOR only, and check their form; the
// handlers then check them against state. Enclaves may use them too.

// CheckClusterID accepts 1..MaxIDLen bytes of letters, digits, '-' and '_':
// ids appear in keys, events and command lines, so they stay plain.
func CheckClusterID(id string) error {
	if len(id) == 0 || len(id) > MaxIDLen {
		return ErrInvalid.Wrapf("cluster id of %d bytes, want 1..%d", len(id), MaxIDLen)
	}
	for _, c := range []byte(id) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
		if !ok {
			return ErrInvalid.Wrapf("cluster id %q: only letters, digits, '-' and '_'", id)
		}
	}
	return nil
}

// CheckContractID accepts 1..MaxIDLen bytes.
func CheckContractID(id []byte) error {
	if len(id) == 0 || len(id) > MaxIDLen {
		return ErrInvalid.Wrapf("contract id of %d bytes, want 1..%d", len(id), MaxIDLen)
	}
	return nil
}

// CheckPublicKey accepts the serialized public key of the default envelope
// suite (MLKEM768X25519), the kind every key of the hierarchy has.
func CheckPublicKey(b []byte) error {
	if _, err := envelope.ParsePublicKey(envelope.Default, b); err != nil {
		return ErrBadPublicKey.Wrapf("%d bytes: %v", len(b), err)
	}
	return nil
}

func checkGeneration(g uint32) error {
	if g == 0 {
		return ErrInvalid.Wrapf("generations start at 1")
	}
	return nil
}

func decode(b []byte, v any, what string) error {
	if err := codec.UnmarshalCanonical(b, v); err != nil {
		return ErrInvalid.Wrapf("%s: %v", what, err)
	}
	return nil
}

// DecodeCreateCluster decodes a MethodCreateCluster body.
func DecodeCreateCluster(b []byte) (CreateCluster, error) {
	var c CreateCluster
	if err := decode(b, &c, "create_cluster body"); err != nil {
		return c, err
	}
	return c, CheckClusterID(c.ID)
}

// DecodeAssignWorker decodes a MethodAssignWorker body.
func DecodeAssignWorker(b []byte) (AssignWorker, error) {
	var a AssignWorker
	if err := decode(b, &a, "assign_worker body"); err != nil {
		return a, err
	}
	if len(a.Worker) != ed25519.PublicKeySize {
		return a, ErrInvalid.Wrapf("worker identity key of %d bytes, want %d", len(a.Worker), ed25519.PublicKeySize)
	}
	return a, CheckClusterID(a.Cluster)
}

// DecodeRotate decodes a MethodRotate body (an empty array).
func DecodeRotate(b []byte) (Rotate, error) {
	var r Rotate
	return r, decode(b, &r, "rotate body")
}

// DecodeMasterPublic decodes a TopicMasterPublic payload.
func DecodeMasterPublic(b []byte) (MasterPublic, error) {
	var m MasterPublic
	if err := decode(b, &m, "master public"); err != nil {
		return m, err
	}
	if err := checkGeneration(m.Generation); err != nil {
		return m, err
	}
	return m, CheckPublicKey(m.PublicKey)
}

// DecodeClusterPublic decodes a TopicClusterPublic payload.
func DecodeClusterPublic(b []byte) (ClusterPublic, error) {
	var c ClusterPublic
	if err := decode(b, &c, "cluster public"); err != nil {
		return c, err
	}
	if err := CheckClusterID(c.Cluster); err != nil {
		return c, err
	}
	if err := checkGeneration(c.Generation); err != nil {
		return c, err
	}
	return c, CheckPublicKey(c.PublicKey)
}

// DecodeContractPublic decodes a TopicContractPublic payload.
func DecodeContractPublic(b []byte) (ContractPublic, error) {
	var c ContractPublic
	if err := decode(b, &c, "contract public"); err != nil {
		return c, err
	}
	if err := CheckClusterID(c.Cluster); err != nil {
		return c, err
	}
	if err := CheckContractID(c.Contract); err != nil {
		return c, err
	}
	if err := checkGeneration(c.Generation); err != nil {
		return c, err
	}
	return c, CheckPublicKey(c.PublicKey)
}

// DecodeHandout decodes a TopicMasterHandout or TopicClusterHandout
// payload: a recipient identity key, a cluster id for cluster handouts only
// (cluster says which), and an envelope of the default suite. The chain
// cannot open the envelope; it only refuses what no enclave could.
func DecodeHandout(b []byte, cluster bool) (Handout, error) {
	var h Handout
	if err := decode(b, &h, "handout"); err != nil {
		return h, err
	}
	if len(h.Recipient) != ed25519.PublicKeySize {
		return h, ErrInvalid.Wrapf("recipient identity key of %d bytes, want %d", len(h.Recipient), ed25519.PublicKeySize)
	}
	switch {
	case cluster:
		if err := CheckClusterID(h.Cluster); err != nil {
			return h, err
		}
	case h.Cluster != "":
		return h, ErrInvalid.Wrapf("a master key handout names no cluster")
	}
	e, err := envelope.Decode(h.Envelope)
	if err != nil {
		return h, ErrEnvelope.Wrapf("%v", err)
	}
	if e.Suite != envelope.Default {
		return h, ErrEnvelope.Wrapf("suite %s, want %s", e.Suite, envelope.Default)
	}
	return h, nil
}
