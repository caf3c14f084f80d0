// Package registry is the chain's registry of TEE nodes: the attestation
// policy, workers and gatekeepers admitted by verifying their quotes in the
// transaction (with block time), their re-attestation deadlines, and the
// events enclaves follow to know who is who.
package registry

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hpke"
	"errors"
	"fmt"
	"time"

	"github.com/phala-go/phala/attest"
	"github.com/phala-go/phala/chain/authority"
	"github.com/phala-go/phala/chain/module"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/identity"
	"github.com/phala-go/phala/mq"
)

// Module is the registry.
type Module struct {
	// Deactivated, if set, is told of every node the end of a block
	// deactivates (the compute module stops its session); the
	// application wires it, so the registry imports no other module.
	Deactivated func(ctx *module.Context, n registryapi.Node, cause Cause) error
}

// Cause is why the end of a block deactivated a node.
type Cause uint8

// Causes.
const (
	CauseExpired Cause = 1 // its attestation expired
	CausePolicy  Cause = 2 // the attestation policy no longer accepts it
)

var (
	_ module.Module     = Module{}
	_ module.EndBlocker = Module{}
)

// Name implements module.Module.
func (Module) Name() string { return registryapi.Name }

// Methods implements module.Module.
func (Module) Methods() []module.Method {
	return []module.Method{
		{Name: registryapi.MethodRegister, Gas: registryapi.RegisterGas, Handle: handleRegister},
		{Name: registryapi.MethodSetGatekeeper, Gas: registryapi.AdminGas, Authority: true, Handle: handleSetGatekeeper},
		{Name: registryapi.MethodSetPolicy, Gas: registryapi.AdminGas, Authority: true, Handle: handleSetPolicy},
		{Name: registryapi.MethodSetParams, Gas: registryapi.AdminGas, Authority: true, Handle: setParams.Handle},
	}
}

func handleRegister(ctx *module.Context, body []byte) error {
	var r registryapi.Register
	if err := codec.UnmarshalCanonical(body, &r); err != nil {
		return registryapi.ErrInvalid.Wrapf("body: %v", err)
	}
	if err := checkKeys(r); err != nil {
		return err
	}
	if err := checkRole(ctx, r); err != nil {
		return err
	}
	anchor, err := checkAnchor(ctx, r.AnchorHeight)
	if err != nil {
		return err
	}
	policy, err := GetPolicy(ctx.Store)
	if err != nil {
		return err
	}
	verified, err := verify(policy, r.Quote, r.Collateral, ctx.Time)
	if err != nil {
		return registryapi.ErrAttestation.Wrapf("%v", err)
	}
	want := identity.Binding{ChainID: ctx.ChainID, AnchorHash: anchor, IdentityKey: r.IdentityKey, EncryptionKey: r.EncryptionKey, Operator: ctx.Sender}.ReportData()
	if verified.ReportData != want {
		return registryapi.ErrReportData.Wrapf("report data %x, want %x (chain, anchor block %d, keys and operator %s)", verified.ReportData[:32], want[:32], r.AnchorHeight, ctx.Sender)
	}
	return admit(ctx, r, verified)
}

// verify runs the full quote verification and the policy at block time.
func verify(p attest.Policy, quote []byte, c attest.Collateral, at time.Time) (attest.Verified, error) {
	return attest.Verify(quote, c, at, attest.WithPolicy(p))
}

func checkKeys(r registryapi.Register) error {
	if len(r.IdentityKey) != ed25519.PublicKeySize {
		return registryapi.ErrInvalid.Wrapf("identity key is %d bytes, want %d", len(r.IdentityKey), ed25519.PublicKeySize)
	}
	if _, err := hpke.MLKEM768X25519().NewPublicKey(r.EncryptionKey); err != nil {
		return registryapi.ErrInvalid.Wrapf("encryption key is not an MLKEM768X25519 public key: %v", err)
	}
	if r.Role != registryapi.RoleWorker && r.Role != registryapi.RoleGatekeeper {
		return registryapi.ErrInvalid.Wrapf("unknown role %d", r.Role)
	}
	return nil
}

// checkRole refuses a gatekeeper without a grant, and a change of role or
// operator for an identity already registered.
func checkRole(ctx *module.Context, r registryapi.Register) error {
	old, exists, err := getNode(ctx.Store, r.IdentityKey)
	if err != nil {
		return err
	}
	if exists && old.Operator != ctx.Sender {
		return registryapi.ErrIdentityInUse.Wrapf("operator is %s", old.Operator)
	}
	if exists && old.Role != r.Role {
		return registryapi.ErrRoleChange.Wrapf("registered as %s", old.Role)
	}
	if r.Role != registryapi.RoleGatekeeper {
		return nil
	}
	allowed, err := isGranted(ctx.Store, r.IdentityKey, ctx.Sender)
	if err != nil || allowed {
		return err
	}
	return registryapi.ErrNotGatekeeper.Wrapf("neither identity %x nor operator %s is a named gatekeeper", r.IdentityKey, ctx.Sender)
}

// checkAnchor returns the hash of the named block if it is recent enough.
func checkAnchor(ctx *module.Context, height int64) ([]byte, error) {
	p, err := getParams(ctx.Store)
	if err != nil {
		return nil, err
	}
	age := ctx.Height - height
	if height > 0 && age <= 0 {
		// CometBFT serves a block (and its commit) before the application
		// has executed it, so a node can anchor to a block this chain's
		// state does not hold yet; a retry a block later succeeds.
		return nil, registryapi.ErrStaleAnchor.Wrapf("block %d is not executed yet at height %d: retry", height, ctx.Height)
	}
	if height <= 0 || age > p.MaxAnchorAge {
		return nil, registryapi.ErrStaleAnchor.Wrapf("block %d is %d blocks old at height %d, limit %d", height, age, ctx.Height, p.MaxAnchorAge)
	}
	hash, ok, err := ctx.RecentBlockHash(height)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, registryapi.ErrStaleAnchor.Wrapf("block %d is not among the recent blocks", height)
	}
	return hash, nil
}

// admit stores the node as active, indexes its deadline and tells enclaves.
func admit(ctx *module.Context, r registryapi.Register, v attest.Verified) error {
	p, err := getParams(ctx.Store)
	if err != nil {
		return err
	}
	if old, exists, err := getNode(ctx.Store, r.IdentityKey); err != nil {
		return err
	} else if exists {
		ctx.Store.Delete(expiryKeyOf(old.ExpiresAt, old.IdentityKey))
	}
	now := ctx.Time.Unix()
	n := registryapi.Node{
		Role: r.Role, IdentityKey: r.IdentityKey, EncryptionKey: r.EncryptionKey, Operator: ctx.Sender,
		Attestation: v, AttestedAt: now, AttestedBlock: ctx.Height, ExpiresAt: now + p.ReattestSeconds, Active: true,
	}
	putNode(ctx.Store, n)
	ctx.Store.Set(expiryKeyOf(n.ExpiresAt, n.IdentityKey), []byte{})
	ctx.Emit("node_registered", module.A("role", n.Role.String()), module.A("identity", fmt.Sprintf("%x", n.IdentityKey)),
		module.A("operator", n.Operator), module.A("tee", string(v.TEE)), module.A("tcb_status", v.TCBStatus))
	ctx.Publish(mq.Message{Topic: registryapi.TopicNode, Payload: codec.MustMarshal(registryapi.NodeEvent{Kind: "registered", Node: n, Quote: r.Quote, Proof: r.Collateral})})
	return nil
}

// deactivate marks a node inactive and tells why; it returns the node as
// stored.
func deactivate(ctx *module.Context, n registryapi.Node, reason string) registryapi.Node {
	n.Active, n.Reason = false, reason
	putNode(ctx.Store, n)
	ctx.Store.Delete(expiryKeyOf(n.ExpiresAt, n.IdentityKey))
	ctx.Emit("node_deactivated", module.A("identity", fmt.Sprintf("%x", n.IdentityKey)), module.A("reason", reason))
	ctx.Publish(mq.Message{Topic: registryapi.TopicNode, Payload: codec.MustMarshal(registryapi.NodeEvent{Kind: "deactivated", Node: n, Reason: reason})})
	return n
}

func handleSetGatekeeper(ctx *module.Context, body []byte) error {
	var b registryapi.SetGatekeeper
	if err := codec.UnmarshalCanonical(body, &b); err != nil {
		return registryapi.ErrInvalid.Wrapf("body: %v", err)
	}
	if err := b.Grant.Validate(); err != nil {
		return registryapi.ErrInvalid.Wrapf("%v", err)
	}
	if err := authority.Require(ctx.Store, ctx.Sender, registryapi.ErrUnauthorized); err != nil {
		return err
	}
	putGrant(ctx, b.Grant, b.Allowed)
	if !b.Allowed {
		if err := revokeGatekeepers(ctx, b.Grant); err != nil {
			return err
		}
	}
	ctx.Emit("gatekeeper_grant", module.A("allowed", fmt.Sprint(b.Allowed)))
	ctx.Publish(mq.Message{Topic: registryapi.TopicGatekeeper, Payload: codec.MustMarshal(registryapi.GatekeeperEvent{Grant: b.Grant, Allowed: b.Allowed})})
	return nil
}

// revokeGatekeepers deactivates the active gatekeepers a withdrawn grant
// covered, unless another grant still covers them.
func revokeGatekeepers(ctx *module.Context, g registryapi.Grant) error {
	return forEachNode(ctx, func(n registryapi.Node) error {
		if !n.Active || n.Role != registryapi.RoleGatekeeper {
			return nil
		}
		covered := bytes.Equal(n.IdentityKey, g.IdentityKey) || (!g.Operator.IsZero() && n.Operator == g.Operator)
		still, err := isGranted(ctx.Store, n.IdentityKey, n.Operator)
		if err != nil || !covered || still {
			return err
		}
		deactivate(ctx, n, "gatekeeper grant withdrawn")
		return nil
	})
}

func handleSetPolicy(ctx *module.Context, body []byte) error {
	var b registryapi.SetPolicy
	if err := codec.UnmarshalCanonical(body, &b); err != nil {
		return registryapi.ErrInvalid.Wrapf("body: %v", err)
	}
	if err := b.Policy.Validate(); err != nil {
		return registryapi.ErrInvalidPolicy.Wrapf("%v", err)
	}
	if err := authority.Require(ctx.Store, ctx.Sender, registryapi.ErrUnauthorized); err != nil {
		return err
	}
	ctx.Store.Set(policyKey.Key(), codec.MustMarshal(b.Policy))
	ctx.Store.Set(policyChangedKey.Key(), []byte{})
	ctx.Emit("policy_changed")
	ctx.Publish(mq.Message{Topic: registryapi.TopicPolicy, Payload: codec.MustMarshal(registryapi.PolicyEvent{Policy: b.Policy})})
	return nil
}

func isGranted(r state.Reader, identityKey []byte, operator address.Address) (bool, error) {
	for _, key := range [][]byte{grantKeyOf(identityKey), grantOperatorKeyOf(operator)} {
		v, err := r.Get(key)
		if err != nil || v != nil {
			return v != nil, err
		}
	}
	return false, nil
}

func getNode(r state.Reader, identityKey []byte) (registryapi.Node, bool, error) {
	raw, err := r.Get(nodeKeyOf(identityKey))
	if err != nil || raw == nil {
		return registryapi.Node{}, false, err
	}
	var n registryapi.Node
	if err := codec.Unmarshal(raw, &n); err != nil {
		return registryapi.Node{}, false, registryapi.ErrCorruptState.Wrapf("node %x: %v", identityKey, err)
	}
	return n, true, nil
}

// GetNode reads a node by identity key; ok is false if none is registered.
func GetNode(r state.Reader, identityKey []byte) (n registryapi.Node, ok bool, err error) {
	return getNode(r, identityKey)
}

func putNode(s *state.Overlay, n registryapi.Node) {
	s.Set(nodeKeyOf(n.IdentityKey), codec.MustMarshal(n))
}

// GetPolicy reads the attestation policy.
func GetPolicy(r state.Reader) (attest.Policy, error) {
	var p attest.Policy
	raw, err := r.Get(policyKey.Key())
	if err != nil {
		return p, err
	}
	if raw == nil {
		return p, registryapi.ErrCorruptState.Wrapf("no policy (chain not initialised)")
	}
	if err := codec.Unmarshal(raw, &p); err != nil {
		return p, registryapi.ErrCorruptState.Wrapf("policy: %v", err)
	}
	return p, nil
}

func getParams(r state.Reader) (registryapi.Params, error) {
	var p registryapi.Params
	raw, err := r.Get(paramsKey.Key())
	if err != nil {
		return p, err
	}
	if raw == nil {
		return p, registryapi.ErrCorruptState.Wrapf("no params (chain not initialised)")
	}
	if err := codec.Unmarshal(raw, &p); err != nil {
		return p, registryapi.ErrCorruptState.Wrapf("params: %v", err)
	}
	return p, nil
}

// forEachNode visits every node as the block currently sees it: keys come
// from committed state (overlays do not iterate), values from the block.
// Nodes first registered in this block are fresh and need no visit.
func forEachNode(ctx *module.Context, fn func(registryapi.Node) error) error {
	var keys [][]byte
	err := ctx.Committed.Iterate(nodeKey.Prefix(), func(k, _ []byte) error {
		keys = append(keys, append([]byte{}, k[len(nodeKey.Prefix()):]...))
		return nil
	})
	if err != nil {
		return err
	}
	for _, id := range keys {
		n, ok, err := getNode(ctx.Store, id)
		if err != nil {
			return err
		}
		if ok {
			if err := fn(n); err != nil {
				return err
			}
		}
	}
	return nil
}

var errStop = errors.New("stop")
