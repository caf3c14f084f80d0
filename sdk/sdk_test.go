package sdk

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestMessageRoundTrip(t *testing.T) {
	tests := []struct {
		method string
		args   any
		want   string
	}{
		{"noop", nil, "noop\x00"},
		{"transfer", map[string]int{"amount": 3}, "transfer\x00{\"amount\":3}"},
		{"", Empty{}, "\x00{}"},
	}
	for _, tt := range tests {
		b, err := EncodeMessage(tt.method, tt.args)
		if err != nil || string(b) != tt.want {
			t.Fatalf("EncodeMessage(%q) = %q, %v", tt.method, b, err)
		}
		m, args, err := DecodeMessage(b)
		if err != nil || m != tt.method || string(args) != tt.want[len(tt.method)+1:] {
			t.Fatalf("DecodeMessage(%q) = %q %q %v", b, m, args, err)
		}
	}
	if _, err := EncodeMessage("a\x00b", nil); err == nil {
		t.Fatal("method with a zero byte accepted")
	}
	if _, _, err := DecodeMessage([]byte("no separator")); err == nil {
		t.Fatal("message without separator accepted")
	}
}

func TestDecodeArgs(t *testing.T) {
	type A struct {
		X int `json:"x"`
	}
	tests := []struct {
		raw string
		ok  bool
	}{
		{`{"x":1}`, true},
		{``, true},
		{`{"x":1,"y":2}`, false},
		{`{"x":1} {}`, false},
		{`[`, false},
	}
	for _, tt := range tests {
		var a A
		if err := decodeArgs([]byte(tt.raw), &a); (err == nil) != tt.ok {
			t.Errorf("decodeArgs(%q): %v", tt.raw, err)
		}
	}
	var e Empty
	for raw, ok := range map[string]bool{"": true, "{}": true, "null": true, `{"a":1}`: false} {
		if err := decodeArgs([]byte(raw), &e); (err == nil) != ok {
			t.Errorf("decodeArgs(Empty, %q): %v", raw, err)
		}
	}
}

func TestAddressJSON(t *testing.T) {
	a := Address{0xab, 0x01}
	b, err := json.Marshal(a)
	if err != nil || string(b) != `"ab01"` {
		t.Fatalf("%s %v", b, err)
	}
	var back Address
	if err := json.Unmarshal(b, &back); err != nil || !bytes.Equal(back, a) {
		t.Fatalf("%x %v", back, err)
	}
	if err := json.Unmarshal([]byte(`"zz"`), &back); err == nil {
		t.Fatal("bad hex accepted")
	}
}

func FuzzDecodeMessage(f *testing.F) {
	f.Add([]byte("noop\x00"))
	f.Add([]byte("m\x00{\"a\":1}"))
	f.Add([]byte("junk"))
	f.Fuzz(func(t *testing.T, in []byte) {
		m, args, err := DecodeMessage(in)
		if err != nil {
			return
		}
		if re := append(append([]byte(m), 0), args...); !bytes.Equal(re, in) {
			t.Fatalf("round trip %q -> %q", in, re)
		}
	})
}
