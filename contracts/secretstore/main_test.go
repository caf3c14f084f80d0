package main

import (
	"testing"

	ct "github.com/phala-go/phala/contracts/internal/contracttest"
	"github.com/phala-go/phala/vm"
)

func TestMain(m *testing.M) { ct.Main(m) }

func TestSecretStore(t *testing.T) {
	c := ct.Deploy(t)
	alice := ct.Addr("alice")
	get := map[string]any{"owner": alice, "name": "passport"}
	steps := []ct.Step{
		ct.S("put", "alice", "put", PutArgs{"passport", "X123"}, false, "", ""),
		ct.S("owner reads", "alice", "get", get, true, `"X123"`, ""),
		ct.S("stranger denied", "bank", "get", get, true, "", "access denied"),
		ct.S("grant to missing secret", "alice", "grant", map[string]any{"name": "visa", "reader": ct.Addr("bank")}, false, "", "no such secret"),
		ct.S("only owner grants", "bank", "grant", map[string]any{"name": "passport", "reader": ct.Addr("bank")}, false, "", "no such secret"),
		ct.S("grant", "alice", "grant", map[string]any{"name": "passport", "reader": ct.Addr("bank")}, false, "", ""),
		ct.S("granted reads", "bank", "get", get, true, `"X123"`, ""),
		ct.S("others still denied", "eve", "get", get, true, "", "access denied"),
		ct.S("revoke", "alice", "revoke", map[string]any{"name": "passport", "reader": ct.Addr("bank")}, false, "", ""),
		ct.S("revoked denied", "bank", "get", get, true, "", "access denied"),
	}
	c.Run(t, steps, func(t *testing.T, s ct.Step, res vm.Result) {
		if s.Method == "grant" && (len(res.Events) != 1 || string(res.Events[0].Audience[0]) != "bank") {
			t.Fatalf("grant event: %+v", res.Events)
		}
	})
}
