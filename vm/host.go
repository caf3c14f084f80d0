package vm

import (
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/phala-go/phala/vm/abi"
	"github.com/tetratelabs/wazero/api"
)

// Host module names (see ABI.md).
const (
	HostModule = abi.Module
	WASIModule = "wasi_snapshot_preview1"
)

const (
	i32 = api.ValueTypeI32
	i64 = api.ValueTypeI64
)

// hostFn is one imported function. fn runs after the base charge.
type hostFn struct {
	name            string
	params, results []api.ValueType
	fn              func(st *callState, mod api.Module, stack []uint64)
}

// hostModule is one import module the engine serves.
type hostModule struct {
	name string
	fns  []hostFn
}

// hostModules is what every engine serves: module "phala" bound from the
// ABI table, and the deterministic WASI subset.
func hostModules() ([]hostModule, error) {
	phala, err := bindHost(abi.Functions, phalaImpls())
	if err != nil {
		return nil, fmt.Errorf("vm: host ABI table and implementations disagree: %w", err)
	}
	return []hostModule{{HostModule, phala}, {WASIModule, wasiFuncs()}}, nil
}

func (e *Engine) registerHost(ctx context.Context) error {
	mods, err := hostModules()
	if err != nil {
		return err
	}
	e.host = mods
	base := e.cfg.Costs.Base
	for _, m := range mods {
		b := e.rt.NewHostModuleBuilder(m.name)
		for _, f := range m.fns {
			f := f
			b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, mod api.Module, stack []uint64) {
				st := stateOf(ctx)
				st.charge(base)
				f.fn(st, mod, stack)
			}), f.params, f.results).Export(f.name)
		}
		if _, err := b.Instantiate(ctx); err != nil {
			return err
		}
	}
	return nil
}

// hostHas reports whether the host serves module.name with this signature.
func (e *Engine) hostHas(module, name string, params, results []api.ValueType) bool {
	for _, m := range e.host {
		if m.name != module {
			continue
		}
		for _, f := range m.fns {
			if f.name == name {
				return slices.Equal(f.params, params) && slices.Equal(f.results, results)
			}
		}
	}
	return false
}

func sig(params ...api.ValueType) []api.ValueType { return params }

// absent is the i32 result meaning "no value" (-1).
const absent = uint64(0xFFFF_FFFF)

// phalaImpls implements the rows of abi.Functions, by import name. Each
// declares the stack it reads, checked against its row at start. gas is
// the row's fixed cost: each implementation charges it where it always has
// (storage writes only after their limit checks), since moving a charge
// changes what a failed call reports.
func phalaImpls() map[string]hostImpl {
	return map[string]hostImpl{
		"input_len": {nil, sig(i32), func(st *callState, _ api.Module, s []uint64, _ uint64) {
			s[0] = uint64(uint32(len(st.call.Input)))
		}},
		"input_read": {sig(i32), nil, func(st *callState, mod api.Module, s []uint64, _ uint64) {
			st.write(mod, uint32(s[0]), st.call.Input)
		}},
		"register_len": {nil, sig(i32), func(st *callState, _ api.Module, s []uint64, _ uint64) {
			s[0] = uint64(uint32(len(st.register)))
		}},
		"register_read": {sig(i32), nil, func(st *callState, mod api.Module, s []uint64, _ uint64) {
			st.write(mod, uint32(s[0]), st.register)
		}},
		"storage_get":    {sig(i32, i32), sig(i32), storageGet},
		"storage_set":    {sig(i32, i32, i32, i32), nil, storageSet},
		"storage_delete": {sig(i32, i32), nil, storageDelete},
		"storage_next":   {sig(i32, i32, i32, i32), sig(i32), storageNext},
		"caller": {nil, sig(i32), func(st *callState, _ api.Module, s []uint64, _ uint64) {
			s[0] = st.setRegister(st.call.Caller)
		}},
		"contract_id": {nil, sig(i32), func(st *callState, _ api.Module, s []uint64, _ uint64) {
			s[0] = st.setRegister(st.inst.env.ContractID)
		}},
		"block_height": {nil, sig(i64), func(st *callState, _ api.Module, s []uint64, _ uint64) {
			s[0] = uint64(st.call.Height)
		}},
		"block_time": {nil, sig(i64), func(st *callState, _ api.Module, s []uint64, _ uint64) {
			s[0] = uint64(st.call.Time)
		}},
		"emit": {sig(i32, i32, i32, i32, i32, i32), nil, emit},
		"random": {sig(i32, i32), nil, func(st *callState, mod api.Module, s []uint64, _ uint64) {
			n := uint32(s[1])
			st.charge(uint64(n) * st.inst.m.e.cfg.Costs.PerByte)
			if n > uint32(st.inst.m.e.cfg.MaxValueBytes) {
				st.fail(ErrHostLimit.Wrapf("random: %d bytes", n))
			}
			b := make([]byte, n)
			_, _ = st.random().Read(b)
			st.write(mod, uint32(s[0]), b)
		}},
		"public_key": {sig(i32, i32), sig(i32), func(st *callState, mod api.Module, s []uint64, gas uint64) {
			st.charge(gas)
			k := st.key(string(st.read(mod, uint32(s[0]), uint32(s[1]))))
			s[0] = st.setRegister(k.Public().(ed25519.PublicKey))
		}},
		"sign": {sig(i32, i32, i32, i32), sig(i32), func(st *callState, mod api.Module, s []uint64, gas uint64) {
			st.charge(gas)
			k := st.key(string(st.read(mod, uint32(s[0]), uint32(s[1]))))
			msg := st.read(mod, uint32(s[2]), uint32(s[3]))
			s[0] = st.setRegister(ed25519.Sign(k, msg))
		}},
		"return_data": {sig(i32, i32), nil, func(st *callState, mod api.Module, s []uint64, _ uint64) {
			st.output = st.readReturn(mod, uint32(s[0]), uint32(s[1]))
		}},
		"revert": {sig(i32, i32), nil, func(st *callState, mod api.Module, s []uint64, _ uint64) {
			st.revert = st.readReturn(mod, uint32(s[0]), uint32(s[1]))
			st.reverted = true
		}},
		"http_get":       {sig(i32, i32), sig(i32), httpGet},
		"value":          {sig(i32), nil, valueFn},
		"balance":        {sig(i32), nil, balanceFn},
		"pay":            {sig(i32, i32, i32), nil, pay},
		"send":           {sig(i32, i32, i32, i32), nil, send},
		"query_contract": {sig(i32, i32, i32, i32), sig(i32), queryContract},
	}
}

func (st *callState) readReturn(mod api.Module, ptr, n uint32) []byte {
	if int(n) > st.inst.m.e.cfg.MaxReturnBytes {
		st.fail(ErrHostLimit.Wrapf("return data %d bytes, limit %d", n, st.inst.m.e.cfg.MaxReturnBytes))
	}
	return st.read(mod, ptr, n)
}

func (st *callState) readKey(mod api.Module, ptr, n uint32) []byte {
	if int(n) > st.inst.m.e.cfg.MaxKeyBytes {
		st.fail(ErrHostLimit.Wrapf("storage key %d bytes, limit %d", n, st.inst.m.e.cfg.MaxKeyBytes))
	}
	return st.read(mod, ptr, n)
}

func (st *callState) storeErr(err error) {
	if err != nil {
		st.fail(ErrStore.Wrapf("%v", err))
	}
}

func storageGet(st *callState, mod api.Module, s []uint64, gas uint64) {
	st.charge(gas)
	v, ok, err := st.store.Get(st.readKey(mod, uint32(s[0]), uint32(s[1])))
	st.storeErr(err)
	if !ok {
		s[0] = absent
		return
	}
	s[0] = st.setRegister(v)
}

func storageSet(st *callState, mod api.Module, s []uint64, gas uint64) {
	c := st.inst.m.e.cfg
	k := st.readKey(mod, uint32(s[0]), uint32(s[1]))
	if int(uint32(s[3])) > c.MaxValueBytes {
		st.fail(ErrHostLimit.Wrapf("storage value %d bytes, limit %d", uint32(s[3]), c.MaxValueBytes))
	}
	v := st.read(mod, uint32(s[2]), uint32(s[3]))
	st.charge(gas + uint64(len(k)+len(v))*c.Costs.StoreByte)
	st.storeErr(st.store.Set(k, v))
}

func storageDelete(st *callState, mod api.Module, s []uint64, gas uint64) {
	k := st.readKey(mod, uint32(s[0]), uint32(s[1]))
	st.charge(gas)
	st.storeErr(st.store.Delete(k))
}

// storageNext stages [u32 LE key length][key][value] of the next entry.
func storageNext(st *callState, mod api.Module, s []uint64, gas uint64) {
	st.charge(gas)
	prefix := st.readKey(mod, uint32(s[0]), uint32(s[1]))
	var after []byte
	if uint32(s[3]) > 0 {
		after = st.readKey(mod, uint32(s[2]), uint32(s[3]))
	}
	k, v, ok, err := st.store.Next(prefix, after)
	st.storeErr(err)
	if !ok {
		s[0] = absent
		return
	}
	out := binary.LittleEndian.AppendUint32(make([]byte, 0, 4+len(k)+len(v)), uint32(len(k)))
	out = append(append(out, k...), v...)
	s[0] = st.setRegister(out)
}

// emit records an event; the audience is [u32 LE length][address]... or
// empty for a public event.
func emit(st *callState, mod api.Module, s []uint64, gas uint64) {
	c := st.inst.m.e.cfg
	st.charge(gas)
	total := uint64(uint32(s[1])) + uint64(uint32(s[3])) + uint64(uint32(s[5]))
	if total > uint64(c.MaxEventBytes) {
		st.fail(ErrHostLimit.Wrapf("event %d bytes, limit %d", total, c.MaxEventBytes))
	}
	if len(st.events) >= c.MaxEvents {
		st.fail(ErrHostLimit.Wrapf("more than %d events", c.MaxEvents))
	}
	topic := st.read(mod, uint32(s[0]), uint32(s[1]))
	data := st.read(mod, uint32(s[2]), uint32(s[3]))
	aud, err := DecodeAudience(st.read(mod, uint32(s[4]), uint32(s[5])))
	if err != nil {
		st.fail(err)
	}
	st.events = append(st.events, Event{Topic: string(topic), Data: data, Audience: aud})
}

// DecodeAudience parses the emit audience encoding: empty is public (nil),
// else one or more [u32 LE length][address] entries, none empty.
func DecodeAudience(b []byte) ([][]byte, error) {
	var out [][]byte
	for len(b) > 0 {
		if len(b) < 4 {
			return nil, ErrHostLimit.Wrapf("audience: truncated length")
		}
		n := binary.LittleEndian.Uint32(b)
		b = b[4:]
		if n == 0 || uint64(n) > uint64(len(b)) {
			return nil, ErrHostLimit.Wrapf("audience: bad entry length %d", n)
		}
		out = append(out, append([]byte(nil), b[:n]...))
		b = b[n:]
	}
	return out, nil
}

// key derives (once per instance) the contract's signing key for purpose.
func (st *callState) key(purpose string) ed25519.PrivateKey {
	i := st.inst
	i.keysMu.Lock()
	k, ok := i.keys[purpose]
	i.keysMu.Unlock()
	if ok {
		return k
	}
	if i.env.DeriveKey == nil {
		st.fail(ErrKey.Wrapf("host provides no key derivation"))
	}
	k, err := i.env.DeriveKey(purpose)
	if err != nil || len(k) != ed25519.PrivateKeySize {
		st.fail(ErrKey.Wrapf("purpose %q: %v", purpose, err))
	}
	i.keysMu.Lock()
	i.keys[purpose] = k
	i.keysMu.Unlock()
	return k
}
