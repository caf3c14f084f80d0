// Package tdx is Intel TDX through the Linux configfs-tsm report interface.
//
// A quote is obtained by making a report entry directory under
// /sys/kernel/config/tsm/report, writing the 64 bytes of report data to its
// inblob, and reading the quote from its outblob; provider must be
// "tdx_guest", and generation tells whether anyone else wrote to the entry
// meanwhile. The entry is removed afterwards.
//
// Measurement is MRTD, read from the TD report of a quote taken at start-up.
// MRTD measures the initial TD image (the virtual firmware); what the
// firmware loads afterwards is measured in the RTMRs, which travel in every
// quote and are checked by the verifier's policy.
//
// # Sealing
//
// TDX has no architectural sealing key: unlike SGX there is no instruction
// that gives a TD a secret bound to its measurement. This package therefore
// does not pretend to seal. By default Seal and Unseal fail with
// ErrSealingUnavailable; a TD that needs keys should obtain them from a
// gatekeeper after attestation, and rebuild state by replay. An operator may
// instead provide a 32-byte key file (WithSealingKeyFile); sealing keys are
// then derived from that key and MRTD. That protects sealed data at rest
// from someone who holds the sealed files but not the key file, and keeps
// a different TD image from reading it by mistake; it protects nothing from
// the operator, who holds the key.
package tdx

import (
	"bytes"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/phala-go/phala/tee"
)

var _ tee.Platform = (*Guest)(nil)

// ErrSealingUnavailable is returned by Seal and Unseal when no operator
// sealing key was configured. It is tee.ErrSealingUnavailable.
var ErrSealingUnavailable = tee.ErrSealingUnavailable

// Provider is the configfs-tsm provider name of a TDX guest.
const Provider = "tdx_guest"

// MaxAttempts bounds how many times Quote retries when another writer
// changes the report entry while a quote is made.
const MaxAttempts = 3

// SealingKeySize is the size of the operator sealing key.
const SealingKeySize = 32

// Layout of Intel TDX DCAP quotes (versions 4 and 5): a 48-byte header, then
// (v5 only) a 2-byte body type and a 4-byte body size, then the TD report
// body, in which TEE_TCB_SVN (16), MRSEAM (48), MRSIGNERSEAM (48),
// SEAMATTRIBUTES (8), TDATTRIBUTES (8) and XFAM (8) precede MRTD (48), and
// MRCONFIGID, MROWNER, MROWNERCONFIG (48 each) and RTMR0-3 (4x48) precede
// REPORTDATA (64).
const (
	quoteHeaderSize   = 48
	quoteV5BodyHeader = 6
	teeTypeTDX        = 0x81

	tdReportSize     = 584
	mrtdOffset       = 16 + 48 + 48 + 8 + 8 + 8 // 136
	mrtdSize         = 48
	reportDataOffset = mrtdOffset + mrtdSize + 3*48 + 4*48 // 520
)

const sealingKeyInfo = "phala/tee/tdx/sealing-key/v1"

// Guest is a TDX trust domain. It is safe for concurrent use: each quote
// uses its own report entry.
type Guest struct {
	reports     ReportDir
	measurement [mrtdSize]byte
	sealer      *tee.Sealer // nil without an operator key
}

type config struct {
	root           string
	reports        ReportDir
	sealingKeyFile string
}

// Option configures New.
type Option func(*config)

// WithRoot resolves /sys/kernel/config/tsm/report under root instead of "/".
func WithRoot(root string) Option { return func(c *config) { c.root = root } }

// WithReportDir replaces the configfs-tsm report directory, for tests that
// emulate configfs. It takes precedence over WithRoot.
func WithReportDir(d ReportDir) Option { return func(c *config) { c.reports = d } }

// WithSealingKeyFile enables sealing with an operator-provided key: the file
// holds 32 bytes, raw or as 64 hex digits. See the package documentation for
// what that does and does not protect.
func WithSealingKeyFile(path string) Option { return func(c *config) { c.sealingKeyFile = path } }

// New checks that it runs in a TDX guest with configfs-tsm by taking a
// quote, from which it reads MRTD, and loads the operator sealing key if one
// is configured.
func New(opts ...Option) (*Guest, error) {
	c := config{root: "/"}
	for _, o := range opts {
		o(&c)
	}
	if c.reports == nil {
		c.reports = OSReportDir{Path: filepath.Join(c.root, filepath.FromSlash(ReportSubdir))}
	}
	g := &Guest{reports: c.reports}
	q, err := g.Quote([64]byte{})
	if err != nil {
		return nil, err
	}
	body, err := tdReportBody(q)
	if err != nil {
		return nil, err
	}
	copy(g.measurement[:], body[mrtdOffset:])
	if c.sealingKeyFile != "" {
		opKey, err := readSealingKey(c.sealingKeyFile)
		if err != nil {
			return nil, err
		}
		key, err := hkdf.Key(sha256.New, opKey, g.measurement[:], sealingKeyInfo, 32)
		if err != nil {
			return nil, fmt.Errorf("tdx: derive sealing key: %w", err)
		}
		if g.sealer, err = tee.NewSealer(tee.KindTDX, key); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// Kind returns tee.KindTDX.
func (g *Guest) Kind() tee.Kind { return tee.KindTDX }

// Measurement returns MRTD (48 bytes).
func (g *Guest) Measurement() []byte { return append([]byte(nil), g.measurement[:]...) }

// Quote returns a TDX quote whose REPORTDATA is reportData.
func (g *Guest) Quote(reportData [64]byte) (quote []byte, err error) {
	var id [8]byte
	rand.Read(id[:])
	entry := "phala-" + hex.EncodeToString(id[:])
	if err := g.reports.Mkdir(entry); err != nil {
		return nil, err
	}
	defer func() {
		if rerr := g.reports.Remove(entry); rerr != nil && err == nil {
			quote, err = nil, rerr
		}
	}()

	provider, err := g.reports.ReadFile(entry, "provider")
	if err != nil {
		return nil, err
	}
	if p := strings.TrimSpace(string(provider)); p != Provider {
		return nil, fmt.Errorf("configfs-tsm provider is %q, want %q: not a TDX guest", p, Provider)
	}

	var before, after uint64
	for range MaxAttempts {
		if before, err = g.generation(entry); err != nil {
			return nil, err
		}
		if err := g.reports.WriteFile(entry, "inblob", reportData[:]); err != nil {
			return nil, err
		}
		out, err := g.reports.ReadFile(entry, "outblob")
		if err != nil {
			return nil, err
		}
		if after, err = g.generation(entry); err != nil {
			return nil, err
		}
		if after != before+1 {
			continue // someone else wrote to the entry: the quote may not be ours
		}
		body, err := tdReportBody(out)
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(body[reportDataOffset:reportDataOffset+64], reportData[:]) {
			return nil, errors.New("tdx: quote does not carry the report data written")
		}
		return out, nil
	}
	return nil, fmt.Errorf("configfs-tsm: report entry %s was written by someone else in each of %d attempts (generation %d -> %d, want +1)", entry, MaxAttempts, before, after)
}

func (g *Guest) generation(entry string) (uint64, error) {
	b, err := g.reports.ReadFile(entry, "generation")
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("configfs-tsm: bad generation %q", b)
	}
	return n, nil
}

// Seal encrypts plaintext with a key derived from the operator sealing key,
// MRTD and label, or fails with ErrSealingUnavailable.
func (g *Guest) Seal(label string, plaintext []byte) ([]byte, error) {
	if g.sealer == nil {
		return nil, errNoSealing
	}
	return g.sealer.Seal(label, plaintext)
}

// Unseal opens data sealed under the same operator key, MRTD and label, or
// fails with ErrSealingUnavailable.
func (g *Guest) Unseal(label string, sealed []byte) ([]byte, error) {
	if g.sealer == nil {
		return nil, errNoSealing
	}
	return g.sealer.Unseal(label, sealed)
}

var errNoSealing = fmt.Errorf("%w: TDX has no hardware sealing key and no operator sealing key file was configured (tdx.WithSealingKeyFile); obtain keys from a gatekeeper after attestation instead", ErrSealingUnavailable)

// tdReportBody returns the TD report body of a TDX quote v4 or v5.
func tdReportBody(q []byte) ([]byte, error) {
	if len(q) < quoteHeaderSize {
		return nil, fmt.Errorf("tdx: quote is %d bytes, shorter than its header", len(q))
	}
	version := binary.LittleEndian.Uint16(q[0:])
	if tt := binary.LittleEndian.Uint32(q[4:]); tt != teeTypeTDX {
		return nil, fmt.Errorf("tdx: quote TEE type is %#x, want %#x (TDX)", tt, teeTypeTDX)
	}
	off := quoteHeaderSize
	switch version {
	case 4:
	case 5:
		if len(q) < off+quoteV5BodyHeader {
			return nil, fmt.Errorf("tdx: v5 quote is %d bytes, too short", len(q))
		}
		// Body type 2 is a TDX 1.0 report, 3 a TDX 1.5 report (longer, with
		// the same prefix); 1 would be an SGX report.
		if bt := binary.LittleEndian.Uint16(q[off:]); bt != 2 && bt != 3 {
			return nil, fmt.Errorf("tdx: v5 quote body type %d is not a TD report", bt)
		}
		off += quoteV5BodyHeader
	default:
		return nil, fmt.Errorf("tdx: unsupported quote version %d", version)
	}
	if len(q) < off+tdReportSize {
		return nil, fmt.Errorf("tdx: quote is %d bytes, too short for a TD report", len(q))
	}
	return q[off : off+tdReportSize], nil
}

// readSealingKey reads 32 raw bytes, or 64 hex digits with optional
// surrounding white space.
func readSealingKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tdx: sealing key file: %w", err)
	}
	if len(b) == SealingKeySize {
		return b, nil
	}
	if h := bytes.TrimSpace(b); len(h) == 2*SealingKeySize {
		key := make([]byte, SealingKeySize)
		if _, err := hex.Decode(key, h); err == nil {
			return key, nil
		}
	}
	return nil, fmt.Errorf("tdx: sealing key file %s must hold %d raw bytes or %d hex digits", path, SealingKeySize, 2*SealingKeySize)
}
