package contracts

import (
	"encoding/binary"

	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/chain/state"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
)

// Handlers read single items (overlays do not iterate); queries iterate
// committed state.

func getParams(r state.Reader) (contractsapi.Params, error) {
	var p contractsapi.Params
	ok, err := getOptional(r, contractsapi.ParamsKey.Key(), &p, "params")
	if err == nil && !ok {
		err = contractsapi.ErrCorruptState.Wrapf("no params (chain not initialised)")
	}
	return p, err
}

func getCode(r state.Reader, h contractsapi.Hash) (contractsapi.Code, bool, error) {
	var c contractsapi.Code
	ok, err := getOptional(r, contractsapi.CodeKeyOf(h), &c, "code")
	return c, ok, err
}

func getUpload(r state.Reader, uploader address.Address, h contractsapi.Hash) (contractsapi.PendingUpload, bool, error) {
	var u contractsapi.PendingUpload
	ok, err := getOptional(r, contractsapi.UploadKeyOf(uploader, h), &u, "upload")
	return u, ok, err
}

func getContract(r state.Reader, id contractsapi.Hash) (contractsapi.Contract, bool, error) {
	var c contractsapi.Contract
	ok, err := getOptional(r, contractsapi.ContractKeyOf(id), &c, "contract")
	return c, ok, err
}

// nextCommandSeq returns the next command's number (from 1) and records it.
func nextCommandSeq(s *state.Overlay) (uint64, error) {
	key := contractsapi.CommandSeqKey.Key()
	raw, err := s.Get(key)
	if err != nil {
		return 0, err
	}
	var last uint64
	if raw != nil {
		if len(raw) != 8 {
			return 0, contractsapi.ErrCorruptState.Wrapf("command sequence of %d bytes", len(raw))
		}
		last = binary.BigEndian.Uint64(raw)
	}
	s.Set(key, binary.BigEndian.AppendUint64(nil, last+1))
	return last + 1, nil
}

func getOptional(r state.Reader, key []byte, v any, what string) (bool, error) {
	raw, err := r.Get(key)
	if err != nil || raw == nil {
		return false, err
	}
	if err := codec.Unmarshal(raw, v); err != nil {
		return false, contractsapi.ErrCorruptState.Wrapf("%s: %v", what, err)
	}
	return true, nil
}
