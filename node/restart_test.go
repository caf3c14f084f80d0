package node

import (
	"net"
	"strings"
	"testing"
	"time"
)

// TestRestartInProcess stops and restarts one home several times in the same
// process with the default (kv) indexer: every store must be released on Stop.
func TestRestartInProcess(t *testing.T) {
	home := initTestHome(t, `{}`)
	ctx := testCtx(t, 20*time.Second)
	for range 3 {
		n := startTest(t, home, &testApp{})
		if err := n.WaitHeight(ctx, n.Height()+2); err != nil {
			t.Fatal(err)
		}
		if err := n.Stop(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestStartFailureReleasesHome makes Start fail half way (RPC port taken)
// and then starts the same home successfully.
func TestStartFailureReleasesHome(t *testing.T) {
	home := initTestHome(t, `{}`)
	c, err := loadConfig(home)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", strings.TrimPrefix(c.RPC.ListenAddress, "tcp://"))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := Start(t.Context(), home, &testApp{}); err == nil {
		_ = n.Stop()
		t.Fatal("Start succeeded with the RPC port taken")
	} else if !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("unexpected error: %v", err)
	}
	l.Close()
	n := startTest(t, home, &testApp{})
	if err := n.WaitHeight(testCtx(t, 20*time.Second), 2); err != nil {
		t.Fatal(err)
	}
}
