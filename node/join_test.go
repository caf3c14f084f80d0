package node

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestInitJoin(t *testing.T) {
	src := Home(filepath.Join(t.TempDir(), "v"))
	if err := InitSingle(src, InitOptions{Ports: Ports{P2P: 36656, RPC: 36657}}); err != nil {
		t.Fatal(err)
	}
	peer, err := PeerAddress(src)
	if err != nil || !strings.HasSuffix(peer, "@127.0.0.1:36656") {
		t.Fatalf("peer address %q (%v)", peer, err)
	}
	hash := strings.Repeat("AB", 32)
	ok := JoinOptions{Genesis: src.GenesisFile(), Peers: peer, Ports: Ports{P2P: 36658, RPC: 36659},
		StateSync: &StateSync{RPCServers: []string{"http://127.0.0.1:36657", "http://127.0.0.1:36657"}, TrustHeight: 10, TrustHash: hash}}
	cases := []struct {
		name string
		edit func(*JoinOptions)
		want string // error substring; "" = works
	}{
		{"state sync", func(*JoinOptions) {}, ""},
		{"block sync", func(o *JoinOptions) { o.StateSync = nil }, ""},
		{"no genesis", func(o *JoinOptions) { o.Genesis = "" }, "genesis"},
		{"no peers", func(o *JoinOptions) { o.Peers = "" }, "peer"},
		{"bad peer", func(o *JoinOptions) { o.Peers = "nonsense" }, "peer"},
		{"one rpc server", func(o *JoinOptions) { o.StateSync.RPCServers = o.StateSync.RPCServers[:1] }, "two RPC servers"},
		{"no trust height", func(o *JoinOptions) { o.StateSync.TrustHeight = 0 }, "trust height"},
		{"short hash", func(o *JoinOptions) { o.StateSync.TrustHash = "abcd" }, "trust hash"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := ok
			ss := *ok.StateSync
			o.StateSync = &ss
			c.edit(&o)
			home := Home(filepath.Join(t.TempDir(), "j"))
			err := InitJoin(home, o)
			if c.want != "" {
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("err %v, want %q", err, c.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := loadConfig(home)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.P2P.PersistentPeers != peer || cfg.TxIndex.Indexer != TxIndexNull {
				t.Fatalf("peers %q indexer %q", cfg.P2P.PersistentPeers, cfg.TxIndex.Indexer)
			}
			s := cfg.StateSync
			if s.Enable != (o.StateSync != nil) {
				t.Fatalf("state sync enabled %v", s.Enable)
			}
			if s.Enable && (s.TrustHeight != 10 || s.TrustHash != strings.ToLower(hash) || s.TrustPeriod != 168*time.Hour || len(s.RPCServers) != 2) {
				t.Fatalf("state sync config %+v", s)
			}
			if ac, err := LoadAppConfig(home); err != nil || ac != DefaultAppConfig() {
				t.Fatalf("app config %+v (%v)", ac, err)
			}
			if err := InitJoin(home, o); err == nil {
				t.Fatal("joined over an existing home")
			}
		})
	}
}
