package vm

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/phala-go/phala/vm/wasmbuild"
)

// Hand-assembled modules: fast fixtures for the host's failure paths.

func leb(n uint32) []byte {
	var b []byte
	for {
		c := byte(n & 0x7f)
		n >>= 7
		if n != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

func section(id byte, content ...[]byte) []byte {
	var body []byte
	for _, c := range content {
		body = append(body, c...)
	}
	return append(append([]byte{id}, leb(uint32(len(body)))...), body...)
}

func name(s string) []byte { return append(leb(uint32(len(s))), s...) }

func vec(items ...[]byte) []byte {
	out := leb(uint32(len(items)))
	for _, it := range items {
		out = append(out, it...)
	}
	return out
}

// rawModule builds a module with () -> () functions _initialize (empty) and
// phala_command (body), plus the given imports of type () -> ().
func rawModule(body []byte, imports ...[2]string) []byte {
	m := []byte("\x00asm\x01\x00\x00\x00")
	m = append(m, section(1, vec([]byte{0x60, 0, 0}))...)
	if len(imports) > 0 {
		var ims [][]byte
		for _, im := range imports {
			ims = append(ims, append(append(name(im[0]), name(im[1])...), 0x00, 0x00))
		}
		m = append(m, section(2, vec(ims...))...)
	}
	m = append(m, section(3, vec([]byte{0}, []byte{0}))...)
	m = append(m, section(5, vec([]byte{0x01, 1, 4}))...) // memory min 1 max 4
	base := uint32(len(imports))
	m = append(m, section(7, vec(
		append(name("memory"), 0x02, 0),
		append(append(name("_initialize"), 0x00), leb(base)...),
		append(append(name(ExportCommand), 0x00), leb(base+1)...),
	))...)
	fn := func(code []byte) []byte { b := append([]byte{0}, code...); return append(leb(uint32(len(b))), b...) }
	m = append(m, section(10, vec(fn([]byte{0x0b}), fn(body)))...)
	return m
}

var (
	bodyLoop    = []byte{0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b}
	bodyRecurse = []byte{0x10, 0x01, 0x0b}
	bodyGrow    = []byte{0x03, 0x40, 0x41, 0x01, 0x40, 0x00, 0x1a, 0x0c, 0x00, 0x0b, 0x0b}
	bodyTrap    = []byte{0x00, 0x0b}
	bodyNop     = []byte{0x0b}
)

func newEngine(t testing.TB, cfg Config) *Engine {
	t.Helper()
	if cfg.CacheDir == "" {
		cfg.CacheDir = filepath.Join(tempDir(), "cache") // shared: compile each module once per run
	}
	e, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close(context.Background()) })
	return e
}

var (
	buildsOnce sync.Once
	builds     *wasmbuild.Cache
	buildsDir  string
)

// probeCode builds testdata/probe once per test process.
func probeCode(t testing.TB) []byte {
	t.Helper()
	dir, _ := filepath.Abs("testdata/probe")
	tempDir()
	code, err := builds.Code(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// tempDir is the test process's scratch directory for builds and the
// compile cache, removed by TestMain.
func tempDir() string {
	buildsOnce.Do(func() {
		buildsDir, _ = os.MkdirTemp("", "vmtest")
		builds = wasmbuild.NewCache(buildsDir)
	})
	return buildsDir
}

func testEnv(store Store) Env {
	return Env{
		ContractID: []byte("c1"),
		Store:      store,
		Seed:       []byte("seed"),
		DeriveKey: func(purpose string) (ed25519.PrivateKey, error) {
			s := sha256.Sum256([]byte("key/" + purpose))
			return ed25519.NewKeyFromSeed(s[:]), nil
		},
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildsDir != "" {
		_ = os.RemoveAll(buildsDir)
	}
	os.Exit(code)
}
