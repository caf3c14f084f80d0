package vm

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"

	"github.com/phala-go/phala/token"

	"github.com/tetratelabs/wazero/api"
)

// callState is everything a host function needs during one call. It travels
// in the call's context, so host functions shared by all instances find it.
type callState struct {
	ctx   context.Context // the call's context (cancels a query's http_get)
	inst  *Instance
	r     *reactor
	call  Call
	init  bool
	store *overlay
	limit uint64

	hostUsed uint64 // gas charged by host calls when unmetered (tests)
	register []byte // the result of the last host call that returns bytes
	output   []byte
	reverted bool
	revert   []byte
	events   []Event
	payouts  []Payout
	sends    []Message
	paid     token.Amount // the sum of payouts so far
	pays     int          // pay calls so far
	log      []byte
	abort    error // set by a host function before it aborts the call
	rng      *rand.ChaCha8
	ticks    int64 // the monotonic clock: block time plus one per reading
}

type callKey struct{}

func newCallState(i *Instance, r *reactor, c Call) *callState {
	return &callState{inst: i, r: r, call: c, store: newOverlay(i.env.Store)}
}

func withCallState(ctx context.Context, st *callState) context.Context {
	st.ctx = ctx
	return context.WithValue(ctx, callKey{}, st)
}

func stateOf(ctx context.Context) *callState {
	st, _ := ctx.Value(callKey{}).(*callState)
	if st == nil {
		// A host function outside Instance.Call: only a bug gets here.
		panic(ErrClosed.Wrapf("host call outside a contract call"))
	}
	return st
}

// used is the gas spent so far.
func (s *callState) used() uint64 {
	if g := s.r.gas; g != nil {
		left := g.Get()
		if left > s.limit {
			return 0
		}
		return s.limit - left
	}
	return s.hostUsed
}

// charge takes n gas or aborts the call as out of gas.
func (s *callState) charge(n uint64) {
	if g := s.r.gas; g != nil {
		left := g.Get()
		if left < n {
			g.Set(0)
			s.r.oog.Set(1)
			s.fail(outOfGas(s.limit))
		}
		g.Set(left - n)
		return
	}
	s.hostUsed += n
	if s.hostUsed > s.limit {
		s.fail(outOfGas(s.limit))
	}
}

// fail aborts the call with err; wazero unwinds the panic into Call's error.
func (s *callState) fail(err error) {
	s.abort = err
	panic(err)
}

// read copies n bytes at ptr out of the contract's memory, charging per byte.
func (s *callState) read(mod api.Module, ptr, n uint32) []byte {
	s.charge(uint64(n) * s.inst.m.e.cfg.Costs.PerByte)
	b, ok := mod.Memory().Read(ptr, n)
	if !ok {
		s.fail(ErrMemory.Wrapf("read [%d, +%d)", ptr, n))
	}
	return append([]byte(nil), b...)
}

// write copies b into the contract's memory at ptr, charging per byte.
func (s *callState) write(mod api.Module, ptr uint32, b []byte) {
	s.charge(uint64(len(b)) * s.inst.m.e.cfg.Costs.PerByte)
	if !mod.Memory().Write(ptr, b) {
		s.fail(ErrMemory.Wrapf("write [%d, +%d)", ptr, len(b)))
	}
}

// setRegister stages bytes for register_read and returns their length.
func (s *callState) setRegister(b []byte) uint64 {
	s.register = b
	return uint64(uint32(len(b)))
}

// random is the call's deterministic stream: ChaCha8 keyed by the contract
// seed and the call nonce, so every worker draws the same bytes.
func (s *callState) random() *rand.ChaCha8 {
	if s.rng == nil {
		h := sha256.New()
		label := "phala/vm/random/v1"
		if s.init {
			label = "phala/vm/random-init/v1"
		}
		h.Write([]byte(label))
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s.inst.env.Seed)))
		h.Write(n[:])
		h.Write(s.inst.env.Seed)
		binary.BigEndian.PutUint64(n[:], s.call.Nonce)
		h.Write(n[:])
		var seed [32]byte
		copy(seed[:], h.Sum(nil))
		s.rng = rand.NewChaCha8(seed)
	}
	return s.rng
}

// appendLog keeps stdout/stderr up to the limit and drops the rest.
func (s *callState) appendLog(b []byte) {
	room := s.inst.m.e.cfg.MaxLogBytes - len(s.log)
	if room <= 0 {
		return
	}
	if len(b) > room {
		b = b[:room]
	}
	s.log = append(s.log, b...)
}
