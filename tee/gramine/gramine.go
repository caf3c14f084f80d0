// Package gramine is Intel SGX through the Gramine library OS.
//
// Gramine exposes attestation and sealing keys to the enclave as pseudo-files
// under /dev/attestation (the manifest must set sgx.remote_attestation =
// "dcap"):
//
//   - attestation_type: "dcap" when DCAP quotes are available.
//   - user_report_data: write the 64 bytes of report data here...
//   - quote: ...then read the DCAP quote (SGX quote v3) binding them.
//   - my_target_info: this enclave's SGX TARGETINFO; its first 32 bytes are
//     MRENCLAVE.
//   - keys/_sgx_mrenclave: the 16-byte sealing key derived by the CPU from
//     MRENCLAVE (EGETKEY, MRENCLAVE policy): only the same enclave code on
//     the same CPU obtains it.
//
// All paths are resolved under a configurable root (default "/"), so tests
// can run against a fake tree.
package gramine

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/phala-go/phala/tee"
)

var _ tee.Platform = (*Enclave)(nil)

// Paths of Gramine's attestation pseudo-files, relative to the root.
const (
	PathAttestationType = "dev/attestation/attestation_type"
	PathUserReportData  = "dev/attestation/user_report_data"
	PathQuote           = "dev/attestation/quote"
	PathMyTargetInfo    = "dev/attestation/my_target_info"
	PathSealingKey      = "dev/attestation/keys/_sgx_mrenclave"
)

const (
	sealingKeySize = 16

	// SGX DCAP quote v3: 48-byte header, then the 384-byte enclave report
	// body, in which MRENCLAVE is at offset 64 and REPORTDATA at 320.
	quoteV3Version       = 3
	quoteHeaderSize      = 48
	reportMrEnclaveStart = quoteHeaderSize + 64
	reportDataStart      = quoteHeaderSize + 320
	quoteV3MinSize       = quoteHeaderSize + 384
)

// fileSystem is how the enclave reaches the pseudo-files; names are the
// slash-separated Path constants. Production uses rootFS; tests wrap it to
// emulate Gramine producing a quote when report data is written.
type fileSystem interface {
	ReadFile(name string) ([]byte, error)
	WriteFile(name string, data []byte) error
}

// rootFS resolves names under a root directory.
type rootFS string

func (r rootFS) path(name string) string {
	return filepath.Join(string(r), filepath.FromSlash(name))
}

func (r rootFS) ReadFile(name string) ([]byte, error) {
	b, err := os.ReadFile(r.path(name))
	return b, r.explain(err)
}

// WriteFile writes without creating or truncating: Gramine's pseudo-files
// exist already, and a missing one means we are not inside Gramine.
func (r rootFS) WriteFile(name string, data []byte) error {
	f, err := os.OpenFile(r.path(name), os.O_WRONLY, 0)
	if err != nil {
		return r.explain(err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("gramine: write %s: %w", r.path(name), err)
	}
	return nil
}

func (r rootFS) explain(err error) error {
	var pe *fs.PathError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrNotExist) && errors.As(err, &pe):
		return fmt.Errorf("not inside a Gramine SGX enclave: %s missing: %w", pe.Path, err)
	default:
		return fmt.Errorf("gramine: %w", err)
	}
}

// Enclave is an SGX enclave running under Gramine. It is safe for concurrent
// use; quotes are serialized because /dev/attestation is process-wide state.
type Enclave struct {
	fs          fileSystem
	measurement [32]byte
	sealer      *tee.Sealer

	quoteMu sync.Mutex
}

type config struct {
	root string
	fs   fileSystem
}

// Option configures New.
type Option func(*config)

// WithRoot resolves the /dev/attestation paths under root instead of "/".
func WithRoot(root string) Option { return func(c *config) { c.root = root } }

// withFS replaces the file access (tests only).
func withFS(f fileSystem) Option { return func(c *config) { c.fs = f } }

// New checks that it runs inside a Gramine SGX enclave with DCAP attestation
// and reads the measurement and sealing key.
func New(opts ...Option) (*Enclave, error) {
	c := config{root: "/"}
	for _, o := range opts {
		o(&c)
	}
	if c.fs == nil {
		c.fs = rootFS(c.root)
	}
	e := &Enclave{fs: c.fs}

	typ, err := c.fs.ReadFile(PathAttestationType)
	if err != nil {
		return nil, err
	}
	if t := strings.TrimRight(string(typ), "\x00\n\r\t "); t != "dcap" {
		return nil, fmt.Errorf(`gramine: attestation type is %q, want "dcap" (set sgx.remote_attestation = "dcap" in the manifest)`, t)
	}

	ti, err := c.fs.ReadFile(PathMyTargetInfo)
	if err != nil {
		return nil, err
	}
	if len(ti) < len(e.measurement) {
		return nil, fmt.Errorf("gramine: %s is %d bytes, too short for SGX target info", PathMyTargetInfo, len(ti))
	}
	copy(e.measurement[:], ti)

	key, err := c.fs.ReadFile(PathSealingKey)
	if err != nil {
		return nil, err
	}
	if len(key) != sealingKeySize {
		return nil, fmt.Errorf("gramine: %s is %d bytes, want %d", PathSealingKey, len(key), sealingKeySize)
	}
	if e.sealer, err = tee.NewSealer(tee.KindSGX, key); err != nil {
		return nil, err
	}
	return e, nil
}

// Kind returns tee.KindSGX.
func (e *Enclave) Kind() tee.Kind { return tee.KindSGX }

// Measurement returns MRENCLAVE (32 bytes).
func (e *Enclave) Measurement() []byte { return append([]byte(nil), e.measurement[:]...) }

// Quote writes reportData to user_report_data and reads the DCAP quote. When
// the quote is an SGX v3 quote it checks that it carries this enclave's
// MRENCLAVE and the report data just written.
func (e *Enclave) Quote(reportData [64]byte) ([]byte, error) {
	e.quoteMu.Lock()
	defer e.quoteMu.Unlock()
	if err := e.fs.WriteFile(PathUserReportData, reportData[:]); err != nil {
		return nil, err
	}
	q, err := e.fs.ReadFile(PathQuote)
	if err != nil {
		return nil, err
	}
	if len(q) < 2 {
		return nil, fmt.Errorf("gramine: quote is %d bytes", len(q))
	}
	if binary.LittleEndian.Uint16(q) == quoteV3Version {
		if len(q) < quoteV3MinSize {
			return nil, fmt.Errorf("gramine: SGX v3 quote is %d bytes, want at least %d", len(q), quoteV3MinSize)
		}
		if !bytes.Equal(q[reportMrEnclaveStart:reportMrEnclaveStart+32], e.measurement[:]) {
			return nil, errors.New("gramine: quote carries another MRENCLAVE than my_target_info")
		}
		if !bytes.Equal(q[reportDataStart:reportDataStart+64], reportData[:]) {
			return nil, errors.New("gramine: quote does not carry the report data written (another writer to /dev/attestation?)")
		}
	}
	return q, nil
}

// Seal encrypts plaintext with a key derived from Gramine's MRENCLAVE sealing
// key and label: only this enclave build on this CPU can unseal it.
func (e *Enclave) Seal(label string, plaintext []byte) ([]byte, error) {
	return e.sealer.Seal(label, plaintext)
}

// Unseal opens data sealed by this enclave build on this CPU under label.
func (e *Enclave) Unseal(label string, sealed []byte) ([]byte, error) {
	return e.sealer.Unseal(label, sealed)
}
