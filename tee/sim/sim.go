// Package sim is a software-only TEE for development and tests.
//
// It gives NO protection. Its "quotes" are signed by a development
// attestation key that anyone can use (the chain accepts them only when its
// genesis allows sim), and its sealing key is derived from a secret kept in a
// plain file on the machine: whoever can read that file (the machine's owner,
// root, any process of the same user) can unseal everything. Sealing is bound
// to the binary's measurement only so that development behaves like a real
// enclave (a rebuilt binary cannot read an older binary's sealed data), not
// for security.
package sim

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/phala-go/phala/tee"
)

var _ tee.Platform = (*Sim)(nil)

// SecretFile is the name of the per-machine sim secret inside the secret
// directory: 32 random bytes, created with mode 0600 on first use.
const SecretFile = "sim-tee-secret"

const (
	secretSize     = 32
	sealingKeyInfo = "phala/tee/sim/sealing-key/v1"
)

// Banner is the warning New prints.
const Banner = `
*******************************************************************************
WARNING: sim TEE: no hardware protection; anyone with this machine can read every secret; for development only
WARNING: quotes are signed with a public development key and prove nothing;
WARNING: sealed data is protected only by a plain file on this machine.
WARNING: never use the sim TEE with real value or real users' data.
*******************************************************************************
`

// Sim is the simulated TEE. It is safe for concurrent use.
type Sim struct {
	measurement [32]byte
	sealer      *tee.Sealer
}

type config struct {
	dir         string
	measurement *[32]byte
	warnings    io.Writer
}

// Option configures New.
type Option func(*config)

// WithDir sets the directory of the per-machine sim secret (created 0700 if
// missing). The default is "phala/tee-sim" under os.UserConfigDir; a node
// should pass a directory inside its home.
func WithDir(dir string) Option { return func(c *config) { c.dir = dir } }

// WithMeasurement overrides the measurement, which is otherwise the SHA-256
// of the running executable. For tests: two different measurements behave
// like two different enclaves.
func WithMeasurement(m [32]byte) Option { return func(c *config) { c.measurement = &m } }

// WithWarnings sets where the warning banner goes (default os.Stderr; nil
// also means os.Stderr: silencing it takes an explicit io.Discard).
func WithWarnings(w io.Writer) Option { return func(c *config) { c.warnings = w } }

// stderrWarned makes the banner appear once per process on standard
// error: a devnet opens two sim TEEs (its gatekeeper and its worker), and
// one loud warning reads as a warning where two read as noise.
var stderrWarned sync.Once

// warn writes the banner to w, to standard error at most once a process.
// A warning that cannot be written is no reason to stop a dev tool.
func warn(w io.Writer) {
	if w == io.Writer(os.Stderr) {
		stderrWarned.Do(func() { _, _ = io.WriteString(os.Stderr, Banner) })
		return
	}
	_, _ = io.WriteString(w, Banner)
}

// New returns a simulated TEE after printing a warning Banner: it gives no
// protection at all.
func New(opts ...Option) (*Sim, error) {
	c := config{warnings: os.Stderr}
	for _, o := range opts {
		o(&c)
	}
	if c.warnings == nil {
		c.warnings = os.Stderr
	}
	warn(c.warnings)
	s := &Sim{}
	if c.measurement != nil {
		s.measurement = *c.measurement
	} else {
		m, err := hashExecutable()
		if err != nil {
			return nil, err
		}
		s.measurement = m
	}
	if c.dir == "" {
		base, err := os.UserConfigDir()
		if err != nil {
			return nil, fmt.Errorf("sim TEE: no secret directory given and no user config directory: %w", err)
		}
		c.dir = filepath.Join(base, "phala", "tee-sim")
	}
	secret, err := loadOrCreateSecret(c.dir)
	if err != nil {
		return nil, err
	}
	key, err := hkdf.Key(sha256.New, secret, s.measurement[:], sealingKeyInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("sim TEE: derive sealing key: %w", err)
	}
	if s.sealer, err = tee.NewSealer(tee.KindSim, key); err != nil {
		return nil, err
	}
	return s, nil
}

// Kind returns tee.KindSim.
func (s *Sim) Kind() tee.Kind { return tee.KindSim }

// Measurement returns the 32-byte measurement: the SHA-256 of the executable
// unless overridden with WithMeasurement.
func (s *Sim) Measurement() []byte { return append([]byte(nil), s.measurement[:]...) }

// Quote returns a development quote over the measurement and reportData,
// signed by the development attestation key (see package attest).
func (s *Sim) Quote(reportData [64]byte) ([]byte, error) {
	if signQuote == nil {
		return nil, errors.New("sim TEE: no quote signer linked in")
	}
	q := signQuote(s.measurement, reportData)
	if len(q) == 0 {
		return nil, errors.New("sim TEE: quote signer returned nothing")
	}
	return q, nil
}

// Seal encrypts plaintext for this binary on this machine; see the package
// documentation for why that protects nothing against the machine's owner.
func (s *Sim) Seal(label string, plaintext []byte) ([]byte, error) {
	return s.sealer.Seal(label, plaintext)
}

// Unseal opens data sealed by the same binary (measurement) on this machine
// under label.
func (s *Sim) Unseal(label string, sealed []byte) ([]byte, error) {
	return s.sealer.Unseal(label, sealed)
}

func hashExecutable() ([32]byte, error) {
	path, err := os.Executable()
	if err != nil {
		return [32]byte{}, fmt.Errorf("sim TEE: measure the executable: %w", err)
	}
	f, err := os.Open(path)
	if err != nil {
		return [32]byte{}, fmt.Errorf("sim TEE: measure the executable: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return [32]byte{}, fmt.Errorf("sim TEE: measure the executable %s: %w", path, err)
	}
	var m [32]byte
	h.Sum(m[:0])
	return m, nil
}

// loadOrCreateSecret reads dir/SecretFile, creating it with 32 random bytes
// if it does not exist. Creation writes a temporary file and hard-links it
// into place, so concurrent first starts agree on one secret and nobody ever
// reads a partly written file.
func loadOrCreateSecret(dir string) ([]byte, error) {
	path := filepath.Join(dir, SecretFile)
	secret, err := readSecret(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return secret, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("sim TEE: create secret directory: %w", err)
	}
	tmp, err := os.CreateTemp(dir, SecretFile+".tmp-*") // mode 0600
	if err != nil {
		return nil, fmt.Errorf("sim TEE: create secret: %w", err)
	}
	defer os.Remove(tmp.Name())
	secret = make([]byte, secretSize)
	rand.Read(secret)
	_, err = tmp.Write(secret)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("sim TEE: write secret: %w", err)
	}
	switch err := os.Link(tmp.Name(), path); {
	case err == nil:
		return secret, nil
	case errors.Is(err, fs.ErrExist): // another process won the race
		return readSecret(path)
	default:
		return nil, fmt.Errorf("sim TEE: install secret: %w", err)
	}
}

func readSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sim TEE: read secret: %w", err)
	}
	if len(b) != secretSize {
		return nil, fmt.Errorf("sim TEE: secret file %s is %d bytes, want %d: corrupt (delete it to start over, losing all sim-sealed data)", path, len(b), secretSize)
	}
	return b, nil
}
