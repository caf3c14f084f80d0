package mq

import "testing"

func TestRootCommitsToOrderAndContent(t *testing.T) {
	a := Message{Topic: "t", Payload: []byte("a")}
	b := Message{Topic: "t", Payload: []byte("b")}
	c := Message{Topic: "t", Payload: []byte("c")}
	lists := map[string][]Message{
		"empty":     nil,
		"a":         {a},
		"ab":        {a, b},
		"ba":        {b, a},
		"abc":       {a, b, c},
		"abcc":      {a, b, c, c},
		"ab-topic":  {a, {Topic: "u", Payload: []byte("b")}},
		"one-empty": {{}},
	}
	seen := map[[32]byte]string{}
	for name, l := range lists {
		r := Root("chain", l)
		if other, dup := seen[r]; dup {
			t.Fatalf("%s and %s share a root", name, other)
		}
		seen[r] = name
	}
	if Root("chain", nil) == Root("other-chain", nil) {
		t.Fatal("root does not depend on the chain")
	}
	if Root("chain", []Message{a, b}) != Root("chain", []Message{a, b}) {
		t.Fatal("root is not deterministic")
	}
}
