package enclave

import (
	"testing"
	"time"
)

func TestQueryGuardReplay(t *testing.T) {
	var g queryGuard
	if !g.remember("alice", []byte("n1"), 10, 5) || g.remember("alice", []byte("n1"), 10, 5) {
		t.Fatal("a nonce is taken once per caller")
	}
	if !g.remember("bob", []byte("n1"), 10, 5) {
		t.Fatal("another caller's nonce is its own")
	}
}

func TestQueryGuardRate(t *testing.T) {
	var g queryGuard
	now := time.Unix(1000, 0)
	n := 0
	for g.allow("alice", now) {
		n++
	}
	if n != QueryBurst {
		t.Fatalf("burst %d, want %d", n, QueryBurst)
	}
	if !g.allow("bob", now) {
		t.Fatal("one caller's bucket is not another's")
	}
	if !g.allow("alice", now.Add(10*time.Millisecond)) { // 2 tokens back at 200/s
		t.Fatal("tokens do not come back")
	}
}
