package vm

import (
	"context"
	"errors"
	"testing"

	"github.com/phala-go/phala/vm/meter"
)

func TestLoadRejects(t *testing.T) {
	e := newEngine(t, Config{})
	good := rawModule(bodyNop)
	tests := []struct {
		name string
		code []byte
		want error
	}{
		{"not wasm", []byte("hello, world"), meter.ErrMalformed},
		{"empty", nil, meter.ErrMalformed},
		{"truncated", good[:len(good)-3], meter.ErrMalformed},
		{"unknown module", rawModule(bodyNop, [2]string{"env", "foo"}), meter.ErrImport},
		{"unknown host function", rawModule(bodyNop, [2]string{"phala", "nope"}), ErrBadModule},
		{"wrong signature", rawModule(bodyNop, [2]string{"phala", "input_len"}), ErrBadModule},
		{"too large", make([]byte, 9<<20), ErrBadModule},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.Load(context.Background(), tt.code)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Load: %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := e.Load(context.Background(), good); err != nil {
		t.Fatalf("the host stopped loading good modules: %v", err)
	}
}

// TestRunaway: each failure ends the call with a deterministic error and
// gas used, twice alike, and the engine keeps serving other contracts.
func TestRunaway(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{})
	ok, err := e.Load(ctx, rawModule(bodyNop))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		body []byte
		want error
	}{
		{"loop forever", bodyLoop, meter.ErrOutOfGas},
		{"recurse forever", bodyRecurse, meter.ErrStackOverflow},
		{"grow memory forever", bodyGrow, meter.ErrOutOfGas},
		{"trap", bodyTrap, ErrTrap},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := e.Load(ctx, rawModule(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			var gas [2]uint64
			var msg [2]string
			for run := range 2 {
				inst := m.NewInstance(testEnv(nil))
				res, err := inst.Call(ctx, Call{GasLimit: 1_000_000})
				if !errors.Is(err, tt.want) {
					t.Fatalf("run %d: %v, want %v", run, err, tt.want)
				}
				if res.GasUsed == 0 {
					t.Fatalf("run %d: no gas reported", run)
				}
				gas[run], msg[run] = res.GasUsed, err.Error()
				// The same instance serves the next call (a fresh reactor).
				if _, err2 := inst.Call(ctx, Call{GasLimit: 1_000_000}); !errors.Is(err2, tt.want) {
					t.Fatalf("second call on instance: %v", err2)
				}
			}
			if gas[0] != gas[1] || msg[0] != msg[1] {
				t.Fatalf("runs differ: %v %q", gas, msg)
			}
			t.Logf("%s: %s, gas %d", tt.name, msg[0], gas[0])
			if _, err := ok.NewInstance(testEnv(nil)).Call(ctx, Call{GasLimit: 1000}); err != nil {
				t.Fatalf("other contract after %s: %v", tt.name, err)
			}
		})
	}
}

func FuzzLoad(f *testing.F) {
	f.Add(rawModule(bodyNop))
	f.Add(rawModule(bodyLoop, [2]string{"phala", "input_len"}))
	f.Add([]byte("\x00asm\x01\x00\x00\x00"))
	// In-memory compile cache: a disk entry per mutated module would grow without bound.
	e, err := New(context.Background(), Config{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = e.Close(context.Background()) })
	f.Fuzz(func(t *testing.T, code []byte) {
		m, err := e.Load(context.Background(), code)
		if err != nil {
			return
		}
		inst := m.NewInstance(testEnv(nil))
		_, _ = inst.Call(context.Background(), Call{GasLimit: 10_000})
		_ = inst.Close(context.Background())
		_ = m.Close(context.Background())
	})
}

func TestCallErrors(t *testing.T) {
	ctx := context.Background()
	e := newEngine(t, Config{MaxInputBytes: 16})
	m, err := e.Load(ctx, rawModule(bodyNop))
	if err != nil {
		t.Fatal(err)
	}
	closed := m.NewInstance(testEnv(nil))
	_ = closed.Close(ctx)
	tests := []struct {
		name string
		inst *Instance
		call Call
		want error
	}{
		{"no query export", m.NewInstance(testEnv(nil)), Call{Mode: Query, GasLimit: 1000}, ErrNoEntry},
		{"bad mode", m.NewInstance(testEnv(nil)), Call{Mode: 7, GasLimit: 1000}, ErrNoEntry},
		{"input too large", m.NewInstance(testEnv(nil)), Call{Input: make([]byte, 17), GasLimit: 1000}, ErrHostLimit},
		{"closed", closed, Call{GasLimit: 1000}, ErrClosed},
		{"zero gas", m.NewInstance(testEnv(nil)), Call{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.inst.Call(ctx, tt.call); !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}
