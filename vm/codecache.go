package vm

// A fresh engine loading a contract it has seen before (a worker restart)
// would otherwise merge and re-meter it, ~80 ms for a Go contract, before
// wazero's compile cache answers. codeCache keeps the merged, metered bytes
// on disk next to that cache. An entry is named by the sha256 of the code
// and a fingerprint of everything else that decides the output (meter and
// merge versions, costs, limits, allowed imports), so a change to any of
// them misses instead of reusing stale metering. Entries are written
// atomically and verified on read; anything unexpected is a miss, which
// meters the code again and rewrites the entry. The cache only saves time:
// it never changes what Load returns.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/vm/meter"
)

// entryMagic starts every entry file; it versions the file layout itself.
var entryMagic = [8]byte{'p', 'h', 'a', 'l', 'a', 'm', 'c', 1}

// entry layout: magic | sha256(code) | fingerprint | sha256(body) | body.
const entryHeader = len(entryMagic) + 3*sha256.Size

type codeCache struct {
	dir string
	p   meterParams
	fp  [32]byte
	// maxBody bounds what a read accepts, so a stray huge file is a miss,
	// not a huge allocation.
	maxBody int64
}

func newCodeCache(dir string, p meterParams) (*codeCache, error) {
	fp, err := p.fingerprint()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("vm: instrumented-code cache %s: %w", dir, err)
	}
	// Metering grows code by well under 4x; anything larger is not ours.
	return &codeCache{dir: dir, p: p, fp: fp, maxBody: 4 * int64(p.Limits.MaxCodeBytes)}, nil
}

// fingerprint hashes everything besides the code that Instrument's output
// depends on.
func (p meterParams) fingerprint() ([32]byte, error) {
	b, err := codec.Marshal(struct {
		Meter, Merge int
		Params       meterParams
	}{meter.FormatVersion, mergeVersion, p})
	if err != nil {
		return [32]byte{}, fmt.Errorf("vm: meter fingerprint: %w", err)
	}
	return sha256.Sum256(b), nil
}

// instrument returns the merged, metered code, from disk when a valid entry
// exists. Errors are Instrument's; cache failures only cost time.
func (c *codeCache) instrument(code []byte, codeHash [32]byte) (out []byte, hit bool, err error) {
	path := filepath.Join(c.dir, hex.EncodeToString(codeHash[:])+"-"+hex.EncodeToString(c.fp[:]))
	if body, ok := c.read(path, codeHash); ok {
		return body, true, nil
	}
	out, err = prepare(code, c.p)
	if err != nil {
		return nil, false, err // deterministic rejections are not cached
	}
	_ = c.write(path, codeHash, out)
	return out, false, nil
}

func (c *codeCache) read(path string, codeHash [32]byte) ([]byte, bool) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() < int64(entryHeader) || fi.Size()-int64(entryHeader) > c.maxBody {
		return nil, false
	}
	b := make([]byte, fi.Size())
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, false
	}
	return parseEntry(b, codeHash, c.fp)
}

// parseEntry checks an entry's header against the expected key and its
// body against the stored hash.
func parseEntry(b []byte, codeHash, fp [32]byte) ([]byte, bool) {
	if len(b) < entryHeader || !bytes.Equal(b[:8], entryMagic[:]) {
		return nil, false
	}
	h := b[8:entryHeader]
	if !bytes.Equal(h[:32], codeHash[:]) || !bytes.Equal(h[32:64], fp[:]) {
		return nil, false
	}
	body := b[entryHeader:]
	if sum := sha256.Sum256(body); !bytes.Equal(h[64:96], sum[:]) {
		return nil, false
	}
	return body, true
}

func encodeEntry(codeHash, fp [32]byte, body []byte) []byte {
	sum := sha256.Sum256(body)
	b := make([]byte, 0, entryHeader+len(body))
	b = append(b, entryMagic[:]...)
	b = append(b, codeHash[:]...)
	b = append(b, fp[:]...)
	b = append(b, sum[:]...)
	return append(b, body...)
}

// write replaces path atomically: readers see the old entry or the new
// one, never a partial file (and a torn one would fail its hash anyway).
func (c *codeCache) write(path string, codeHash [32]byte, body []byte) error {
	f, err := os.CreateTemp(c.dir, ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(encodeEntry(codeHash, c.fp, body))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
	}
	return err
}
