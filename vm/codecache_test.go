package vm

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
)

// cacheFor opens a codeCache for p in dir.
func cacheFor(t *testing.T, p meterParams, dir string) *codeCache {
	t.Helper()
	c, err := newCodeCache(dir, p)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// pathOf is code's entry file.
func (c *codeCache) pathOf(code []byte) string {
	h := sha256.Sum256(code)
	return filepath.Join(c.dir, hex.EncodeToString(h[:])+"-"+hex.EncodeToString(c.fp[:]))
}

func mustInstrument(t *testing.T, c *codeCache, code []byte, wantHit bool) []byte {
	t.Helper()
	out, hit, err := c.instrument(code, sha256.Sum256(code))
	if err != nil {
		t.Fatal(err)
	}
	if hit != wantHit {
		t.Fatalf("hit = %v, want %v", hit, wantHit)
	}
	return out
}

// A Go contract loaded from the instrumented-code cache runs exactly as the
// freshly metered one: same bytes, same gas, same result.
func TestCodeCacheHitSameBytesAndGas(t *testing.T) {
	ctx := context.Background()
	code := probeCode(t)
	dir := filepath.Join(tempDir(), "cache") // shared: wazero compiles the probe once per run
	miss := newEngine(t, Config{CacheDir: dir})
	_ = os.Remove(miss.codes.pathOf(code))
	want, err := prepare(code, miss.meter)
	if err != nil {
		t.Fatal(err)
	}
	if got := mustInstrument(t, miss.codes, code, false); !bytes.Equal(got, want) {
		t.Fatal("miss: output differs from Instrument's")
	}
	m1 := loadProbe(t, miss) // hit now: loads the same bytes
	fresh := newEngine(t, Config{CacheDir: dir})
	if got := mustInstrument(t, fresh.codes, code, true); !bytes.Equal(got, want) {
		t.Fatal("hit: output differs from Instrument's")
	}
	m2 := loadProbe(t, fresh)
	if m1.Hash != m2.Hash || m1.Hash != sha256.Sum256(code) {
		t.Fatal("module hash differs")
	}
	c := Call{Input: msg("fill", map[string]int{"n": 10}), GasLimit: gasLimit}
	r1, err1 := m1.NewInstance(testEnv(NewMemStore())).Call(ctx, c)
	r2, err2 := m2.NewInstance(testEnv(NewMemStore())).Call(ctx, c)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if r1.GasUsed != r2.GasUsed || !bytes.Equal(r1.Output, r2.Output) {
		t.Fatalf("gas %d / %d, output %q / %q", r1.GasUsed, r2.GasUsed, r1.Output, r2.Output)
	}
}

// Any damage to an entry is a miss that re-meters and rewrites it.
func TestCodeCacheCorruptEntryRepaired(t *testing.T) {
	code := rawModule(bodyNop)
	p := engineMeterParams(DefaultConfig())
	tests := []struct {
		name    string
		corrupt func(b []byte) []byte
	}{
		{"empty", func([]byte) []byte { return nil }},
		{"truncated header", func(b []byte) []byte { return b[:entryHeader-1] }},
		{"truncated body", func(b []byte) []byte { return b[:len(b)-1] }},
		{"body byte flipped", func(b []byte) []byte { b[len(b)-5] ^= 1; return b }},
		{"body hash flipped", func(b []byte) []byte { b[entryHeader-1] ^= 1; return b }},
		{"code hash flipped", func(b []byte) []byte { b[8] ^= 1; return b }},
		{"fingerprint flipped", func(b []byte) []byte { b[8+32] ^= 1; return b }},
		{"bad magic", func(b []byte) []byte { b[0] = 'x'; return b }},
		{"extra byte", func(b []byte) []byte { return append(b, 0) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cacheFor(t, p, t.TempDir())
			want := mustInstrument(t, c, code, false)
			path := c.pathOf(code)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, tt.corrupt(b), 0o600); err != nil {
				t.Fatal(err)
			}
			if got := mustInstrument(t, c, code, false); !bytes.Equal(got, want) {
				t.Fatal("re-metered output differs")
			}
			if got := mustInstrument(t, c, code, true); !bytes.Equal(got, want) {
				t.Fatal("repaired entry differs")
			}
		})
	}
}

// A change to anything that decides the metered output misses the old
// entry and yields the new output.
func TestCodeCacheKeyCoversParams(t *testing.T) {
	code := rawModule(bodyLoop)
	base := engineMeterParams(DefaultConfig())
	tests := []struct {
		name    string
		change  func(p *meterParams)
		sameOut bool
	}{
		{"instruction cost", func(p *meterParams) { p.Costs.Instruction++ }, false},
		{"call cost", func(p *meterParams) { p.Costs.CallBase++ }, true}, // no calls in the module
		{"call depth", func(p *meterParams) { p.Limits.MaxCallDepth++ }, false},
		{"memory pages", func(p *meterParams) { p.Limits.MaxMemoryPages-- }, true},
		{"imports", func(p *meterParams) { p.Imports = []string{HostModule} }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			old := mustInstrument(t, cacheFor(t, base, dir), code, false)
			p := base
			p.Imports = append([]string(nil), base.Imports...)
			tt.change(&p)
			c := cacheFor(t, p, dir)
			got := mustInstrument(t, c, code, false)
			want, err := prepare(code, p)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) || bytes.Equal(got, old) == !tt.sameOut {
				t.Fatalf("output: fresh %v, same as old %v", bytes.Equal(got, want), bytes.Equal(got, old))
			}
			mustInstrument(t, cacheFor(t, base, dir), code, true) // the old entry is still there
		})
	}
}

// Rejected code is never cached.
func TestCodeCacheRejectNotStored(t *testing.T) {
	dir := t.TempDir()
	c := cacheFor(t, engineMeterParams(DefaultConfig()), dir)
	code := rawModule(bodyNop, [2]string{"env", "nope"})
	if _, _, err := c.instrument(code, sha256.Sum256(code)); err == nil {
		t.Fatal("bad import accepted")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("%d files left in the cache", len(ents))
	}
}

func FuzzParseEntry(f *testing.F) {
	code, fp := sha256.Sum256([]byte("code")), sha256.Sum256([]byte("fp"))
	good := encodeEntry(code, fp, []byte("\x00asm\x01\x00\x00\x00"))
	f.Add(good)
	f.Add(good[:entryHeader])
	f.Add([]byte{})
	f.Add(append(bytes.Clone(good), 1))
	f.Fuzz(func(t *testing.T, b []byte) {
		body, ok := parseEntry(b, code, fp)
		if !ok {
			return
		}
		if !bytes.Equal(encodeEntry(code, fp, body), b) {
			t.Fatal("accepted entry does not re-encode to itself")
		}
	})
}
