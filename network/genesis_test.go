package network

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/phala-go/phala/chain/gov/govapi"
)

func govSection(t *testing.T, appState json.RawMessage) govapi.Genesis {
	t.Helper()
	var s struct {
		Gov govapi.Genesis `json:"gov"`
	}
	if err := json.Unmarshal(appState, &s); err != nil {
		t.Fatal(err)
	}
	return s.Gov
}

// TestDevGenesisGov: a development network's alice is the unsafe dev
// admin with gov's devnet params; a production network has no admin and
// gov's default params, and its testnet refuses one.
func TestDevGenesisGov(t *testing.T) {
	alice := DevAccounts()[0]
	dev, err := testnetAppState(false)
	if err != nil {
		t.Fatal(err)
	}
	g := govSection(t, dev)
	if g.UnsafeDevAdmin == nil || *g.UnsafeDevAdmin != alice.Address || g.Params != govapi.DevnetParams() {
		t.Fatalf("development gov section %+v, want alice %s and the devnet params", g, alice.Address)
	}
	prod, err := testnetAppState(true)
	if err != nil {
		t.Fatal(err)
	}
	if g := govSection(t, prod); g.UnsafeDevAdmin != nil || g.Params != govapi.DefaultParams() {
		t.Fatalf("production gov section %+v, want no admin and the default params", g)
	}
	if err := CheckProductionAppState(dev); err == nil || !strings.Contains(err.Error(), "unsafe dev admin") {
		t.Fatalf("a production check of a genesis with an admin: %v", err)
	}
}

// TestUnsafeDevAdminWarning: a node whose genesis names an unsafe dev
// admin says so at start, and louder if the genesis otherwise looks like
// production's (no sim quotes); one without says nothing.
func TestUnsafeDevAdminWarning(t *testing.T) {
	dev, err := DevAppState(false)
	if err != nil {
		t.Fatal(err)
	}
	prod, err := DevAppState(true)
	if err != nil {
		t.Fatal(err)
	}
	var sections map[string]json.RawMessage
	if err := json.Unmarshal(prod, &sections); err != nil {
		t.Fatal(err)
	}
	sections["gov"] = govGenesisWithAdmin(t)
	prodWithAdmin, _ := json.Marshal(sections)

	for _, c := range []struct {
		name     string
		appState json.RawMessage
		want     []string
		not      []string
	}{
		{"devnet", dev, []string{"unsafe dev admin " + DevAccounts()[0].Address.String(), UnsafeDevAdminWarning}, []string{"PRODUCTION"}},
		{"production", prod, nil, []string{"unsafe dev admin"}},
		{"production with an admin", prodWithAdmin, []string{UnsafeDevAdminWarning, "level=ERROR", "PRODUCTION CHAIN BUT NAMES AN UNSAFE DEV ADMIN"}, nil},
	} {
		var buf bytes.Buffer
		warnUnsafeDevAdmin(slog.New(slog.NewTextHandler(&buf, nil)), c.appState)
		for _, w := range c.want {
			if !strings.Contains(buf.String(), w) {
				t.Errorf("%s: log %q lacks %q", c.name, buf.String(), w)
			}
		}
		for _, w := range c.not {
			if strings.Contains(buf.String(), w) {
				t.Errorf("%s: log %q says %q", c.name, buf.String(), w)
			}
		}
	}
}

func govGenesisWithAdmin(t *testing.T) json.RawMessage {
	admin := DevAccounts()[0].Address
	raw, err := json.Marshal(govapi.Genesis{Params: govapi.DefaultParams(), UnsafeDevAdmin: &admin})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
