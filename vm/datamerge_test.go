package vm

import (
	"bytes"
	"testing"
)

func dataSection(segs ...dataSeg) []byte { return section(11, encodeData(segs)) }

func withData(data []byte, extra ...[]byte) []byte {
	m := rawModule(bodyNop)
	for _, e := range extra {
		m = append(m, e...)
	}
	return append(m, data...)
}

func TestMergeData(t *testing.T) {
	a, b := []byte("hello"), []byte("world")
	tests := []struct {
		name string
		in   []byte
		want []dataSeg // nil: unchanged
	}{
		{"adjacent", withData(dataSection(dataSeg{0, a}, dataSeg{5, b})), []dataSeg{{0, []byte("helloworld")}}},
		{"small gap, unsorted", withData(dataSection(dataSeg{10, b}, dataSeg{0, a})), []dataSeg{{0, append(append(append([]byte{}, a...), make([]byte, 5)...), b...)}}},
		{"large gap kept", withData(dataSection(dataSeg{0, a}, dataSeg{10000, b})), []dataSeg{{0, a}, {10000, b}}},
		{"overlap untouched", withData(dataSection(dataSeg{0, a}, dataSeg{3, b})), nil},
		{"datacount untouched", withData(dataSection(dataSeg{0, a}, dataSeg{5, b}), section(12, []byte{2})), nil},
		{"no data", rawModule(bodyNop), nil},
		{"garbage", []byte("\x00asm\x01\x00\x00\x00\x0b\x05\x01\x01"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := mergeData(tt.in)
			if tt.want == nil {
				if !bytes.Equal(out, tt.in) {
					t.Fatal("module changed")
				}
				return
			}
			if want := withData(dataSection(tt.want...)); !bytes.Equal(out, want) {
				t.Fatalf("got % x\nwant % x", out, want)
			}
		})
	}
}

func FuzzMergeData(f *testing.F) {
	f.Add(withData(dataSection(dataSeg{0, []byte("a")}, dataSeg{3, []byte("b")})))
	f.Add(rawModule(bodyNop))
	f.Fuzz(func(t *testing.T, code []byte) {
		out := mergeData(code)
		if bytes.Equal(out, code) {
			return
		}
		// A rewrite happens only for well-formed data; doing it again is a no-op
		// apart from already-merged segments staying merged.
		if again := mergeData(out); !bytes.Equal(again, out) {
			t.Fatalf("not idempotent")
		}
	})
}
