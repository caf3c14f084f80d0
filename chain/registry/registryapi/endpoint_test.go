package registryapi

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/phala-go/phala/codec"
)

func TestCheckEndpointURL(t *testing.T) {
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:8080", true},
		{"https://worker.example.org", true},
		{"https://worker.example.org:8443/phala/", true},
		{"http://[::1]:9000", true},
		{"https://" + strings.Repeat("a", MaxEndpointURL-len("https://")), true},
		{"https://" + strings.Repeat("a", MaxEndpointURL-len("https://")+1), false},
		{"", false},
		{"ftp://worker.example.org", false},
		{"HTTP://worker.example.org", false},
		{"worker.example.org:8080", false},
		{"/v1/status", false},
		{"http://", false},
		{"http://:8080", false},
		{"http:opaque", false},
		{"http://user:pw@worker.example.org", false},
		{"http://worker.example.org/?q=1", false},
		{"http://worker.example.org/?", false},
		{"http://worker.example.org/#frag", false},
		{"http://worker.example.org:0", false},
		{"http://worker.example.org:70000", false},
		{"http://worker.example.org:http", false},
		{"http://worker example.org", false},
		{"http://wörker.example.org", false},
		{"http://worker.example.org/\x00", false},
	} {
		err := CheckEndpointURL(tc.url)
		if (err == nil) != tc.ok {
			t.Errorf("CheckEndpointURL(%q) = %v, want ok %v", tc.url, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrBadEndpoint) {
			t.Errorf("CheckEndpointURL(%q): error %v is not ErrBadEndpoint", tc.url, err)
		}
	}
}

func TestEndpointKeyPinned(t *testing.T) {
	id := bytes.Repeat([]byte{0xab}, 32)
	if got, want := EndpointKeyOf(id), append([]byte{0x02, 0x09}, id...); !bytes.Equal(got, want) {
		t.Fatalf("endpoint key %x, want %x", got, want)
	}
}

// FuzzDecodeEndpoint: whatever it accepts is canonical, re-encodes to the
// same bytes and has a URL CheckEndpointURL accepts.
func FuzzDecodeEndpoint(f *testing.F) {
	f.Add(codec.MustMarshal(Endpoint{URL: "https://worker.example.org:8443"}))
	f.Add(codec.MustMarshal(Endpoint{URL: "ftp://x"}))
	f.Add([]byte{0x81, 0x60})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := DecodeEndpoint(b)
		if err != nil {
			if !errors.Is(err, ErrBadEndpoint) {
				t.Fatalf("error %v is not ErrBadEndpoint", err)
			}
			return
		}
		if !bytes.Equal(codec.MustMarshal(e), b) {
			t.Fatalf("accepted a non-canonical encoding %x", b)
		}
		if CheckEndpointURL(e.URL) != nil {
			t.Fatalf("accepted URL %q", e.URL)
		}
	})
}
