package vm

import (
	"bytes"
	"fmt"
	"testing"
)

func scan(s Store, prefix string) string {
	var out []string
	var after []byte
	for {
		k, v, ok, err := s.Next([]byte(prefix), after)
		if err != nil {
			return "error: " + err.Error()
		}
		if !ok {
			return fmt.Sprint(out)
		}
		out = append(out, string(k)+"="+string(v))
		after = k
	}
}

func TestMemStoreAndOverlay(t *testing.T) {
	base := NewMemStore()
	for _, k := range []string{"a/1", "a/3", "b/1", "a/2"} {
		_ = base.Set([]byte(k), []byte("base"))
	}
	o := newOverlay(base)
	_ = o.Set([]byte("a/0"), []byte("new"))
	_ = o.Set([]byte("a/3"), []byte("upd"))
	_ = o.Delete([]byte("a/2"))
	_ = o.Set([]byte("a/4"), []byte("x"))
	_ = o.Delete([]byte("a/4"))
	tests := []struct {
		name   string
		s      Store
		prefix string
		want   string
	}{
		{"base a/", base, "a/", "[a/1=base a/2=base a/3=base]"},
		{"base all", base, "", "[a/1=base a/2=base a/3=base b/1=base]"},
		{"base none", base, "c", "[]"},
		{"overlay a/", o, "a/", "[a/0=new a/1=base a/3=upd]"},
		{"overlay b/", o, "b/", "[b/1=base]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := scan(tt.s, tt.prefix); got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
	if v, ok, _ := o.Get([]byte("a/2")); ok {
		t.Fatalf("deleted key still reads %q", v)
	}
	if scan(base, "a/") != "[a/1=base a/2=base a/3=base]" {
		t.Fatal("overlay wrote through before commit")
	}
	if err := o.commit(); err != nil {
		t.Fatal(err)
	}
	if got := scan(base, ""); got != "[a/0=new a/1=base a/3=upd b/1=base]" {
		t.Fatalf("after commit: %s", got)
	}
	// Next with after before the prefix starts at the prefix.
	if k, _, ok, _ := base.Next([]byte("b/"), []byte("a/9")); !ok || !bytes.Equal(k, []byte("b/1")) {
		t.Fatalf("Next(b/, a/9) = %q", k)
	}
}

func FuzzDecodeAudience(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{3, 0, 0, 0, 'b', 'o', 'b'})
	f.Add([]byte{9, 0, 0, 0, 'x'})
	f.Fuzz(func(t *testing.T, b []byte) {
		aud, err := DecodeAudience(b)
		if err != nil {
			return
		}
		var re []byte
		for _, a := range aud {
			re = append(re, byte(len(a)), byte(len(a)>>8), byte(len(a)>>16), byte(len(a)>>24))
			re = append(re, a...)
		}
		if !bytes.Equal(re, b) {
			t.Fatalf("round trip %x -> %x", b, re)
		}
	})
}
