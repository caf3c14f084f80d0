package main

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phala-go/phala/crypto/address"
)

var hash64 = strings.Repeat("AB", 32)

func TestResolveTrustPrecedence(t *testing.T) {
	file := clientConfig{Trust: &trustConfig{Height: 7, Hash: hash64, Period: "24h", Source: "given by the user"}, Witnesses: []string{"http://127.0.0.1:3"}}
	tests := []struct {
		name        string
		flags       map[string]string
		witnesses   []string
		env         map[string]string
		file        clientConfig
		wantHeight  int64
		wantSource  string
		wantWitness string // first witness
		wantErr     string
	}{
		{name: "nothing", wantSource: ""},
		{name: "the file", file: file, wantHeight: 7, wantSource: sourceFile, wantWitness: "http://127.0.0.1:3"},
		{name: "env beats the file", file: file, env: map[string]string{envTrustHeight: "9", envTrustHash: hash64, envWitnesses: "http://127.0.0.1:4, http://127.0.0.1:5"},
			wantHeight: 9, wantSource: "env " + envTrustHeight + "/" + envTrustHash, wantWitness: "http://127.0.0.1:4"},
		{name: "flags beat env", file: file, flags: map[string]string{"trust-height": "11", "trust-hash": "0x" + hash64}, witnesses: []string{"http://127.0.0.1:6"},
			env: map[string]string{envTrustHeight: "9", envTrustHash: hash64}, wantHeight: 11, wantSource: "flags --trust-height/--trust-hash", wantWitness: "http://127.0.0.1:6"},
		{name: "height without hash", flags: map[string]string{"trust-height": "11"}, wantErr: "give both"},
		{name: "bad hash", env: map[string]string{envTrustHeight: "3", envTrustHash: "abcd"}, wantErr: "64 hex digits"},
		{name: "bad height", flags: map[string]string{"trust-height": "-3", "trust-hash": hash64}, wantErr: "positive block height"},
		{name: "bad witness", witnesses: []string{"127.0.0.1:1"}, wantErr: "http(s)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := resolveTrust(tc.flags, tc.witnesses, func(k string) string { return tc.env[k] }, tc.file)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want an error saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.RootSource != tc.wantSource || s.Root.Height != tc.wantHeight {
				t.Fatalf("root %d from %q, want %d from %q", s.Root.Height, s.RootSource, tc.wantHeight, tc.wantSource)
			}
			if tc.wantSource == sourceFile && s.Root.Period != 24*time.Hour {
				t.Fatalf("period %v, want the file's 24h", s.Root.Period)
			}
			first := ""
			if len(s.Witnesses) > 0 {
				first = s.Witnesses[0]
			}
			if first != tc.wantWitness {
				t.Fatalf("witness %q, want %q", first, tc.wantWitness)
			}
		})
	}
}

func TestParseClientConfigTrust(t *testing.T) {
	tests := []struct {
		name, data, wantErr string
	}{
		{"trust", `{"trust":{"height":5,"hash":"` + hash64 + `","period":"336h","source":"given by the user"},"witnesses":["http://127.0.0.1:9"]}`, ""},
		{"no period", `{"trust":{"height":5,"hash":"` + hash64 + `"}}`, ""},
		{"zero height", `{"trust":{"height":0,"hash":"` + hash64 + `"}}`, "positive block height"},
		{"short hash", `{"trust":{"height":5,"hash":"AB"}}`, "64 hex digits"},
		{"bad period", `{"trust":{"height":5,"hash":"` + hash64 + `","period":"soon"}}`, "positive duration"},
		{"unknown trust field", `{"trust":{"height":5,"hash":"` + hash64 + `","hieght":5}}`, "unknown field"},
		{"bad witness", `{"witnesses":["tcp://x:1"]}`, "http(s)"},
	}
	for _, tc := range tests {
		_, err := parseClientConfig([]byte(tc.data))
		if (tc.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.wantErr)
		}
	}
}

// TestConfigTrustAndProveWithoutRoot runs the commands through the root:
// --prove without a root fails with the one line that says how to set
// one, before asking any node; config trust writes a root config show
// then reports.
func TestConfigTrustAndProveWithoutRoot(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "client.json")
	t.Setenv(envClientConfig, path)
	for _, k := range []string{envNode, envKeyring, envTrustHeight, envTrustHash, envWitnesses} {
		t.Setenv(k, "")
	}
	if err := saveClientConfig(path, clientConfig{Node: "http://127.0.0.1:1", Keyring: filepath.Join(dir, "keys")}); err != nil {
		t.Fatal(err)
	}
	who := address.Address{1}.String()
	for _, q := range [][]string{{"balance", who}, {"account", who}, {"worker", strings.Repeat("ab", 32)}, {"policy"}} {
		_, err := runPhala(t, append(append([]string{"query"}, q...), "--prove")...)
		if !errors.Is(err, errNoTrustRoot) {
			t.Errorf("query %s --prove without a root: %v", q[0], err)
		}
	}
	if _, err := runPhala(t, "config", "trust", "--height", "3"); err == nil || !strings.Contains(err.Error(), "--hash") {
		t.Fatalf("config trust without a hash: %v", err)
	}
	out, err := runPhala(t, "config", "trust", "--height", "3", "--hash", strings.ToLower(hash64), "--period", "48h", "-o", "json")
	if err != nil || !strings.Contains(out, `"height": 3`) || !strings.Contains(out, hash64) {
		t.Fatalf("config trust: %v\n%s", err, out)
	}
	c, _, err := loadClientConfig(path)
	if err != nil || c.Trust == nil || c.Trust.Height != 3 || c.Trust.Hash != hash64 || c.Trust.Period != "48h" || c.Node != "http://127.0.0.1:1" {
		t.Fatalf("saved %+v (%v)", c, err)
	}
	out, err = runPhala(t, "config", "show")
	if err != nil || !strings.Contains(out, "height 3, hash "+hash64) {
		t.Fatalf("config show: %v\n%s", err, out)
	}
	if _, err := runPhala(t, "config", "trust", "--clear"); err != nil {
		t.Fatal(err)
	}
	if c, _, _ = loadClientConfig(path); c.Trust != nil {
		t.Fatalf("trust root left after --clear: %+v", c.Trust)
	}
}
