package main

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	ct "github.com/phala-go/phala/contracts/internal/contracttest"
	"github.com/phala-go/phala/vm"
)

func TestMain(m *testing.M) { ct.Main(m) }

func TestPredict(t *testing.T) {
	c := ct.Deploy(t)
	tests := []struct {
		name     string
		features []int64
		class    int
		err      string
	}{
		{"good applicant", []int64{2000, 100, 1500, 0}, 1, ""},
		{"risky applicant", []int64{200, 1800, 100, 2000}, 0, ""},
		{"zeros", []int64{0, 0, 0, 0}, 0, ""},
		{"too few", []int64{1, 2, 3}, 0, "want 4 features"},
		{"out of range", []int64{1, 2, 3, 1 << 40}, 0, "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := c.Query("user", "predict", PredictArgs{tt.features})
			if tt.err != "" {
				if !errors.Is(err, vm.ErrReverted) || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var p Prediction
			if err := json.Unmarshal(res.Output, &p); err != nil {
				t.Fatal(err)
			}
			// The VM computes what the same Go code computes natively.
			if want := Score(tt.features); p.Score != want || p.Class != tt.class {
				t.Fatalf("score %d class %d, want %d class %d", p.Score, p.Class, want, tt.class)
			}
			if !ed25519.Verify(p.PublicKey, SignedBytes(tt.features, p.Score), p.Signature) {
				t.Fatal("signature does not verify")
			}
		})
	}
}

func TestSigmoid(t *testing.T) {
	prev := int64(-1)
	for x := int64(-50_000); x <= 50_000; x += 250 {
		s := Sigmoid(x)
		if s < 0 || s > Scale || s < prev {
			t.Fatalf("Sigmoid(%d) = %d after %d", x, s, prev)
		}
		prev = s
	}
	if Sigmoid(0) != Scale/2 {
		t.Fatal("Sigmoid(0) != 0.5")
	}
}
