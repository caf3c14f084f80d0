package registry_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/phala-go/phala/chain/app"
	"github.com/phala-go/phala/chain/app/apptest"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/chain/store"
)

// TestGenesisWithAdminRefused: a registry section written before
// governance (with "admin") is refused, saying where the admin went and
// that it is for development only.
func TestGenesisWithAdminRefused(t *testing.T) {
	g := apptest.Genesis(t, true)
	var section map[string]any
	if err := json.Unmarshal(g.Modules[registryapi.Name], &section); err != nil {
		t.Fatal(err)
	}
	section["admin"] = apptest.Alice.Addr.String()
	g.Modules[registryapi.Name], _ = json.Marshal(section)
	err := initChain(t, g)
	if err == nil {
		t.Fatal("a registry genesis with an admin was accepted")
	}
	for _, want := range []string{"gov.unsafe_dev_admin", "development only"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q does not say %q", err, want)
		}
	}
}

// TestGenesisParamsRanges: a genesis is held to the ranges set_params is.
func TestGenesisParamsRanges(t *testing.T) {
	for name, p := range map[string]registryapi.Params{
		"reattest too short": {ReattestSeconds: registryapi.MinReattestSeconds - 1, MaxAnchorAge: 100},
		"anchor age zero":    {ReattestSeconds: 3600, MaxAnchorAge: 0},
		"anchor too old":     {ReattestSeconds: 3600, MaxAnchorAge: registryapi.MaxMaxAnchorAge + 1},
	} {
		g := apptest.Genesis(t, true)
		r := registryapi.DefaultGenesis(true)
		r.Params = p
		g.Modules[registryapi.Name], _ = json.Marshal(r)
		if err := initChain(t, g); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestAnchorAgeBoundWithinHistory: the largest max_anchor_age names a
// block whose hash the chain still keeps.
func TestAnchorAgeBoundWithinHistory(t *testing.T) {
	if registryapi.MaxMaxAnchorAge > store.RecentBlocks {
		t.Fatalf("max_anchor_age may reach %d blocks back; the chain keeps %d block hashes", registryapi.MaxMaxAnchorAge, store.RecentBlocks)
	}
}

func initChain(t *testing.T, g app.Genesis) error {
	a, err := app.New(apptest.ChainID, t.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	_, err = a.InitChain(context.Background(), &abci.InitChainRequest{ChainId: apptest.ChainID, Time: time.Unix(1, 0), AppStateBytes: apptest.GenesisJSON(t, g)})
	return err
}
