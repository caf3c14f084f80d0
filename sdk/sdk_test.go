package sdk

import (
	"bytes"
	"encoding/json"
	"errors"
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

func TestAmount(t *testing.T) {
	max := Amount{^uint64(0), ^uint64(0)}
	tests := []struct {
		text string
		a    Amount
	}{
		{"0", Amount{}},
		{"1", NewAmount(1)},
		{"1000000000000", PHA(1)},
		{"18446744073709551615", NewAmount(^uint64(0))},
		{"18446744073709551616", Amount{1, 0}},
		{"1000000000000000000000", PHA(1_000_000_000)},
		{"340282366920938463463374607431768211455", max},
	}
	for _, tt := range tests {
		if got := tt.a.String(); got != tt.text {
			t.Errorf("String(%v) = %s, want %s", tt.a, got, tt.text)
		}
		if got, err := ParseAmount(tt.text); err != nil || got != tt.a {
			t.Errorf("ParseAmount(%s) = %v, %v", tt.text, got, err)
		}
		if got := amountFrom(tt.a.bytes()); got != tt.a {
			t.Errorf("ABI bytes of %s read back as %s", tt.a, got)
		}
	}
	for s, want := range map[string]error{"": ErrAmountSyntax, "-1": ErrAmountSyntax, "1.5": ErrAmountSyntax, " 1": ErrAmountSyntax,
		"340282366920938463463374607431768211456": ErrAmountOverflow, "3402823669209384634633746074317682114550": ErrAmountOverflow} {
		if _, err := ParseAmount(s); !errors.Is(err, want) {
			t.Errorf("ParseAmount(%q): %v, want %v", s, err, want)
		}
	}
	if _, err := max.Add(NewAmount(1)); !errors.Is(err, ErrAmountOverflow) {
		t.Errorf("max+1: %v", err)
	}
	if _, err := NewAmount(1).Sub(NewAmount(2)); !errors.Is(err, ErrAmountUnderflow) {
		t.Errorf("1-2: %v", err)
	}
	sum, err := NewAmount(^uint64(0)).Add(NewAmount(2))
	if err != nil || sum != (Amount{1, 1}) || sum.Cmp(NewAmount(^uint64(0))) != 1 || NewAmount(3).Cmp(sum) != -1 || sum.Cmp(sum) != 0 {
		t.Errorf("carry: %v %v", sum, err)
	}
	if back, err := sum.Sub(NewAmount(2)); err != nil || back != NewAmount(^uint64(0)) {
		t.Errorf("borrow: %v %v", back, err)
	}
	var v struct {
		Price Amount `json:"price"`
	}
	if err := json.Unmarshal([]byte(`{"price":"1500000000000"}`), &v); err != nil || v.Price != (NewAmount(1_500_000_000_000)) {
		t.Fatalf("JSON: %v %v", v, err)
	}
	if b, _ := json.Marshal(v); string(b) != `{"price":"1500000000000"}` {
		t.Fatalf("JSON: %s", b)
	}
	if err := json.Unmarshal([]byte(`{"price":15}`), &v); err == nil {
		t.Fatal("a JSON number accepted as an amount")
	}
}

func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"0", "1", "18446744073709551616", "340282366920938463463374607431768211455", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAmount(s)
		if err != nil {
			return
		}
		if back, err := ParseAmount(a.String()); err != nil || back != a {
			t.Fatalf("%q -> %s -> %v %v", s, a, back, err)
		}
	})
}
