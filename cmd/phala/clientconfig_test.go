package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/phala-go/phala/client"
	"github.com/phala-go/phala/crypto/keyring"
)

func TestParseClientConfigIsStrict(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		wantErr string // "" means valid
	}{
		{"all fields", `{"node":"http://127.0.0.1:1234","chain_id":"c","keyring":"/k","written_by":"phala devnet"}`, ""},
		{"empty object", `{}`, ""},
		{"https node", `{"node":"https://rpc.example.org:443"}`, ""},
		{"unknown field", `{"nodes":"http://127.0.0.1:1"}`, "unknown field"},
		{"trailing data", `{} {}`, "after the JSON object"},
		{"not an object", `"http://127.0.0.1:1"`, "cannot unmarshal"},
		{"node without scheme", `{"node":"127.0.0.1:26657"}`, "http(s)"},
		{"node of another scheme", `{"node":"tcp://127.0.0.1:26657"}`, "http(s)"},
		{"chain id with spaces", `{"chain_id":" phala-devnet"}`, "spaces"},
		{"wrong type", `{"node":1}`, "cannot unmarshal"},
		{"truncated", `{"node":`, "EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseClientConfig([]byte(tt.data))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestClientConfigRoundTripAndRelativeKeyring(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "client.json")
	want := clientConfig{Node: "http://127.0.0.1:4567", ChainID: "phala-devnet", Keyring: "/abs/keys", WrittenBy: writtenByDevnet}
	if err := saveClientConfig(path, want); err != nil {
		t.Fatal(err)
	}
	got, found, err := loadClientConfig(path)
	if err != nil || !found || !reflect.DeepEqual(got, want) {
		t.Fatalf("loaded %+v found %v err %v, want %+v", got, found, err, want)
	}
	if err := saveClientConfig(path, clientConfig{Keyring: "keys"}); err != nil {
		t.Fatal(err)
	}
	got, _, err = loadClientConfig(path)
	if err != nil || got.Keyring != filepath.Join(dir, "sub", "keys") {
		t.Fatalf("relative keyring loaded as %q (%v), want it under the file's directory", got.Keyring, err)
	}
	if _, found, err := loadClientConfig(filepath.Join(dir, "absent.json")); found || err != nil {
		t.Fatalf("absent file: found %v err %v, want neither", found, err)
	}
}

func TestClientSettingsPrecedence(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("PHALA_HOME", filepath.Join(dir, "home"))
	defaultFile := filepath.Join(dir, "home", "client.json")
	otherFile := filepath.Join(dir, "other.json")
	if err := saveClientConfig(defaultFile, clientConfig{Node: "http://127.0.0.1:1001", ChainID: "chain-default", Keyring: "/keys/default"}); err != nil {
		t.Fatal(err)
	}
	if err := saveClientConfig(otherFile, clientConfig{Node: "http://127.0.0.1:1002", ChainID: "chain-other", Keyring: "/keys/other"}); err != nil {
		t.Fatal(err)
	}
	const (
		flagNode   = "http://127.0.0.1:3000"
		envNodeURL = "http://127.0.0.1:2000"
	)
	tests := []struct {
		name      string
		flags     map[string]string
		env       map[string]string
		wantFile  setting
		wantNode  setting
		wantKeys  setting
		wantCheck string // expectedChainID
	}{
		{
			name:     "the default file",
			wantFile: setting{defaultFile, sourceDefault},
			wantNode: setting{"http://127.0.0.1:1001", sourceFile}, wantKeys: setting{"/keys/default", sourceFile},
			wantCheck: "chain-default",
		},
		{
			name: "PHALA_CLIENT_CONFIG chooses the file", env: map[string]string{envClientConfig: otherFile},
			wantFile: setting{otherFile, "env " + envClientConfig},
			wantNode: setting{"http://127.0.0.1:1002", sourceFile}, wantKeys: setting{"/keys/other", sourceFile},
			wantCheck: "chain-other",
		},
		{
			name: "--config beats PHALA_CLIENT_CONFIG", flags: map[string]string{"config": defaultFile}, env: map[string]string{envClientConfig: otherFile},
			wantFile: setting{defaultFile, "flag --config"},
			wantNode: setting{"http://127.0.0.1:1001", sourceFile}, wantKeys: setting{"/keys/default", sourceFile},
			wantCheck: "chain-default",
		},
		{
			name: "environment beats the file", env: map[string]string{envNode: envNodeURL, envKeyring: "/keys/env"},
			wantFile: setting{defaultFile, sourceDefault},
			wantNode: setting{envNodeURL, "env " + envNode}, wantKeys: setting{"/keys/env", "env " + envKeyring},
		},
		{
			name: "flags beat the environment", flags: map[string]string{"node": flagNode, "keyring": "/keys/flag"},
			env:      map[string]string{envNode: envNodeURL, envKeyring: "/keys/env"},
			wantFile: setting{defaultFile, sourceDefault},
			wantNode: setting{flagNode, "flag --node"}, wantKeys: setting{"/keys/flag", "flag --keyring"},
		},
		{
			name: "one flag, the other from the file", flags: map[string]string{"node": flagNode},
			wantFile: setting{defaultFile, sourceDefault},
			wantNode: setting{flagNode, "flag --node"}, wantKeys: setting{"/keys/default", sourceFile},
		},
		{
			name: "an empty variable counts as unset", env: map[string]string{envNode: ""},
			wantFile: setting{defaultFile, sourceDefault},
			wantNode: setting{"http://127.0.0.1:1001", sourceFile}, wantKeys: setting{"/keys/default", sourceFile},
			wantCheck: "chain-default",
		},
		{
			name: "no file: built-in defaults", flags: map[string]string{"config": filepath.Join(dir, "absent.json")},
			wantFile: setting{filepath.Join(dir, "absent.json"), "flag --config"},
			wantNode: setting{client.DefaultNode, sourceDefault}, wantKeys: setting{filepath.Join(dir, "home", "keys"), sourceDefault},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			flags := tt.flags
			if flags == nil {
				flags = map[string]string{}
			}
			s, err := resolveClientSettings(flags, func(k string) string { return tt.env[k] })
			if err != nil {
				t.Fatal(err)
			}
			if s.ConfigFile != tt.wantFile || s.Node != tt.wantNode || s.Keyring != tt.wantKeys {
				t.Fatalf("got file %+v node %+v keyring %+v\nwant file %+v node %+v keyring %+v", s.ConfigFile, s.Node, s.Keyring, tt.wantFile, tt.wantNode, tt.wantKeys)
			}
			if got := s.expectedChainID(); got != tt.wantCheck {
				t.Fatalf("expected chain %q, want %q", got, tt.wantCheck)
			}
		})
	}
}

func TestBrokenClientConfigIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "client.json")
	if err := os.WriteFile(path, []byte(`{"node":"http://127.0.0.1:1","colour":"blue"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := resolveClientSettings(map[string]string{"config": path}, func(string) string { return "" })
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "colour") {
		t.Fatalf("got %v, want an error naming the file and the unknown field", err)
	}
}

// TestClientCommandsTakeTheirFlagsFromTheConfig runs a command through the
// root, as main does, and checks the config filled --node and --keyring.
func TestClientCommandsTakeTheirFlagsFromTheConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "client.json")
	if err := saveClientConfig(path, clientConfig{Node: "http://127.0.0.1:1", Keyring: filepath.Join(dir, "keys")}); err != nil {
		t.Fatal(err)
	}
	t.Setenv(envClientConfig, path)
	t.Setenv(envNode, "")
	t.Setenv(envKeyring, "")
	out, err := runPhala(t, "config", "show", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"value": "http://127.0.0.1:1"`, `"source": "config file"`, `"value": "` + filepath.Join(dir, "keys") + `"`} {
		if !strings.Contains(out, want) {
			t.Fatalf("config show printed\n%s\nwant %s", out, want)
		}
	}
	// keys list reads the keyring the config names.
	if _, err := keyring.Open(filepath.Join(dir, "keys")).ImportSeed("from-config", keyring.DevSeed("alice"), "pw"); err != nil {
		t.Fatal(err)
	}
	out, err = runPhala(t, "keys", "list", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `"from-config"`) {
		t.Fatalf("keys list printed %s, want the key in %s", out, filepath.Join(dir, "keys"))
	}
}
