package enclave

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/tee"
	"github.com/phala-go/phala/worker/enclave/fileutil"
)

// OperatorFile holds the operator the enclave was pinned to at its first
// start, sealed: the enclave quotes its keys for that operator only, so a
// process that reaches its relay API cannot register it under another
// account. Sealing (rather than a plain file) means editing it on disk
// cannot change the operator: a file the enclave did not seal is refused.
const OperatorFile = "operator.sealed"

// operatorSealLabel separates this use of the platform's sealing key.
const operatorSealLabel = "phala/worker/operator/v1"

// pinnedOperator is the plaintext of OperatorFile, bound to the chain and
// to the node's identity so a file copied from another node or chain is
// refused.
type pinnedOperator struct {
	_           struct{} `cbor:",toarray"`
	Version     uint8
	ChainID     string
	IdentityKey ed25519.PublicKey
	Operator    address.Address
}

// pinOperator returns the operator the enclave serves: the sealed one if
// any (want, when given, must equal it), else want, which is sealed now. A
// zero result means no operator yet: evidence is then refused.
func pinOperator(p tee.Platform, home, chainID string, id ed25519.PublicKey, want address.Address) (address.Address, error) {
	path := filepath.Join(home, OperatorFile)
	pinned, ok, err := readPinnedOperator(p, path, chainID, id)
	switch {
	case err != nil:
		return address.Address{}, err
	case ok && !want.IsZero() && want != pinned:
		return address.Address{}, ErrOperator.Wrapf("this runtime is pinned to operator %s; it will not serve %s", pinned, want)
	case ok:
		return pinned, nil
	case want.IsZero():
		return address.Address{}, nil
	}
	blob, err := p.Seal(operatorSealLabel, codec.MustMarshal(pinnedOperator{Version: 1, ChainID: chainID, IdentityKey: id, Operator: want}))
	if err != nil {
		return address.Address{}, ErrPlatform.Wrapf("seal operator: %v", err)
	}
	if err := fileutil.WriteAtomic(path, blob); err != nil {
		return address.Address{}, ErrOperator.Wrapf("write %s: %v", path, err)
	}
	return want, nil
}

// readPinnedOperator unseals path; ok is false when there is no file.
func readPinnedOperator(p tee.Platform, path, chainID string, id ed25519.PublicKey) (address.Address, bool, error) {
	blob, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return address.Address{}, false, nil
	}
	if err != nil {
		return address.Address{}, false, ErrOperator.Wrapf("read %s: %v", path, err)
	}
	plain, err := p.Unseal(operatorSealLabel, blob)
	if err != nil {
		return address.Address{}, false, ErrOperator.Wrapf("%s was not sealed by this enclave: %v", path, err)
	}
	var s pinnedOperator
	switch err := codec.Unmarshal(plain, &s); {
	case err != nil || s.Version != 1:
		return address.Address{}, false, ErrOperator.Wrapf("%s: malformed (version %d): %v", path, s.Version, err)
	case s.ChainID != chainID || !bytes.Equal(s.IdentityKey, id):
		return address.Address{}, false, ErrOperator.Wrapf("%s belongs to another node or chain (%q)", path, s.ChainID)
	case s.Operator.IsZero():
		return address.Address{}, false, ErrOperator.Wrapf("%s names no operator", path)
	}
	return s.Operator, true, nil
}
