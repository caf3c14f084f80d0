//go:build unix

package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble"
)

// The confidentiality scan's tools: needles (a secret in every form it
// could be written in), a scanner of bytes, files and pebble stores, and
// a recording TCP proxy.

// needle is one secret and the forms a program could write it in: raw,
// hex (either case) and base64 (standard and URL alphabets, at each of the
// three alignments it can have inside a longer encoded blob).
type needle struct {
	what  string
	forms [][]byte
}

func newNeedle(what string, secret []byte) needle {
	n := needle{what: what, forms: [][]byte{secret, []byte(hex.EncodeToString(secret)), []byte(strings.ToUpper(hex.EncodeToString(secret)))}}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		for k := range 3 {
			n.forms = append(n.forms, base64Core(enc, secret, k))
		}
	}
	return n
}

// base64Core is the part of the base64 text of (k bytes, secret, more
// bytes) that depends on the secret alone: the characters whose six bits
// all come from it.
func base64Core(enc *base64.Encoding, secret []byte, k int) []byte {
	text := enc.EncodeToString(append(make([]byte, k), secret...))
	first := (8*k + 5) / 6              // characters touching the k bytes before
	last := (8 * (k + len(secret))) / 6 // characters wholly inside the secret end here
	return []byte(text[first:last])
}

// scanner looks for needles and keeps what it found where. Controls are
// public values that must be found (where they are, the scan reads the
// data in a form the needles would be found in too).
type scanner struct {
	needles  []needle
	controls []needle
	mu       sync.Mutex
	found    []string
	seen     map[string][]string // control -> places
	places   int
	bytes    int64
}

// control adds a public value the scan must find.
func (s *scanner) control(what string, public []byte) {
	s.controls = append(s.controls, newNeedle(what, public))
}

// seenIn reports whether control what was found in a place whose name
// contains where.
func (s *scanner) seenIn(what, where string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.ContainsFunc(s.seen[what], func(p string) bool { return strings.Contains(p, where) })
}

func (s *scanner) add(what string, secret []byte) {
	if len(secret) < 8 {
		panic(fmt.Sprintf("needle %s is too short to find without false hits", what))
	}
	s.needles = append(s.needles, newNeedle(what, secret))
}

// scan reports every needle found in data, naming where.
func (s *scanner) scan(where string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.places++
	s.bytes += int64(len(data))
	for _, n := range s.needles {
		for i, f := range n.forms {
			if bytes.Contains(data, f) {
				s.found = append(s.found, fmt.Sprintf("%s in %s (form %d)", n.what, where, i))
				break
			}
		}
	}
	for _, n := range s.controls {
		if slices.ContainsFunc(n.forms, func(f []byte) bool { return bytes.Contains(data, f) }) {
			if s.seen == nil {
				s.seen = map[string][]string{}
			}
			s.seen[n.what] = append(s.seen[n.what], where)
		}
	}
}

// hits are the needles found in data (for positive controls).
func (s *scanner) hits(data []byte) []string {
	var out []string
	for _, n := range s.needles {
		for _, f := range n.forms {
			if bytes.Contains(data, f) {
				out = append(out, n.what)
				break
			}
		}
	}
	return out
}

// scanTree scans every regular file under root as raw bytes.
func (s *scanner) scanTree(t *testing.T, root string) {
	t.Helper()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		s.scan(p, data)
		return nil
	})
	if err != nil {
		t.Fatalf("scanning %s: %v", root, err)
	}
}

// scanPebbleStores opens every pebble store under root (read-only) and
// scans each key and value: pebble compresses its tables, so a raw scan of
// the files alone could miss a plaintext.
func (s *scanner) scanPebbleStores(t *testing.T, root string) (stores int) {
	t.Helper()
	dirs := map[string]bool{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasPrefix(d.Name(), "MANIFEST-") {
			dirs[filepath.Dir(p)] = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for dir := range dirs {
		if err := s.scanPebble(dir); err != nil {
			t.Fatalf("reading pebble store %s: %v", dir, err)
		}
	}
	return len(dirs)
}

func (s *scanner) scanPebble(dir string) error {
	db, err := pebble.Open(dir, &pebble.Options{ReadOnly: true, Logger: quietPebble{}})
	if err != nil {
		return err
	}
	defer db.Close()
	it, err := db.NewIter(nil)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	for it.First(); it.Valid(); it.Next() {
		buf.Write(it.Key())
		buf.Write(it.Value())
		if buf.Len() > 8<<20 {
			s.scan(dir+" (keys and values)", buf.Bytes())
			// Keep a tail so a needle cut by the chunk boundary is seen.
			tail := bytes.Clone(buf.Bytes()[buf.Len()-4096:])
			buf.Reset()
			buf.Write(tail)
		}
	}
	s.scan(dir+" (keys and values)", buf.Bytes())
	return errors.Join(it.Error(), it.Close())
}

type quietPebble struct{}

func (quietPebble) Infof(string, ...any)  {}
func (quietPebble) Errorf(string, ...any) {}
func (quietPebble) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf(format, args...))
}

// recorder is an HTTP proxy on loopback that forwards to a target and
// keeps every request and response that passes (headers and bodies). It
// is HTTP-aware rather than a TCP pipe because the worker's APIs accept
// only their own address as the Host header; responses are recorded
// uncompressed, as the receiving program reads them.
type recorder struct {
	srv    *http.Server
	addr   string
	target *url.URL
	mu     sync.Mutex
	data   bytes.Buffer
	calls  int
}

// newRecorder starts a proxy to target (a base URL); it stops when the
// test ends.
func newRecorder(t *testing.T, target string) *recorder {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		t.Fatalf("recorder target %q: %v", target, err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{addr: l.Addr().String(), target: u}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			// The transport then asks for gzip itself and hands back
			// the plain body, which is what gets recorded.
			pr.Out.Header.Del("Accept-Encoding")
		},
		Transport: recordingTransport{r},
	}
	r.srv = &http.Server{Handler: proxy, ReadHeaderTimeout: 10 * time.Second}
	go r.srv.Serve(l)
	t.Cleanup(func() { r.srv.Close() })
	return r
}

func (r *recorder) url() string { return "http://" + r.addr }

type recordingTransport struct{ r *recorder }

func (rt recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	out, err := httputil.DumpRequestOut(req, true)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	in, err := httputil.DumpResponse(resp, true)
	if err != nil {
		resp.Body.Close()
		return nil, err
	}
	rt.r.mu.Lock()
	rt.r.calls++
	rt.r.data.Write(out)
	rt.r.data.Write(in)
	rt.r.mu.Unlock()
	return resp, nil
}

// recorded is every byte so far and the exchanges it came from.
func (r *recorder) recorded() ([]byte, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Clone(r.data.Bytes()), r.calls
}

// TestScannerFindsEveryForm: a needle is found raw, in hex and in base64
// at any offset inside a longer blob, and not in unrelated bytes (the
// scan's own check, so the confidentiality test cannot pass by looking
// wrongly).
func TestScannerFindsEveryForm(t *testing.T) {
	secret := []byte("secret-0123456789abcdef")
	s := &scanner{}
	s.add("the secret", secret)
	for pre := range 5 {
		blob := append(append(bytes.Repeat([]byte{0xA5}, pre), secret...), []byte("trailing bytes")...)
		for name, text := range map[string]string{
			"raw":        string(blob),
			"hex":        hex.EncodeToString(blob),
			"HEX":        strings.ToUpper(hex.EncodeToString(blob)),
			"base64":     base64.StdEncoding.EncodeToString(blob),
			"base64url":  base64.URLEncoding.EncodeToString(blob),
			"raw base64": base64.RawStdEncoding.EncodeToString(blob),
		} {
			if got := s.hits([]byte("{\"x\":\"" + text + "\"}")); len(got) != 1 {
				t.Errorf("offset %d, %s: found %v", pre, name, got)
			}
		}
	}
	if got := s.hits([]byte(base64.StdEncoding.EncodeToString([]byte("secret-0123456789abcdeX")))); len(got) != 0 {
		t.Errorf("found the secret in another value: %v", got)
	}
}
