package identity

import (
	"testing"

	"github.com/phala-go/phala/crypto/address"
)

func TestReportDataBindsEveryField(t *testing.T) {
	base := Binding{ChainID: "c", AnchorHash: []byte{1}, IdentityKey: []byte{2}, EncryptionKey: []byte{3}, Operator: address.Module("op")}
	variants := map[string]func(*Binding){
		"chain":      func(b *Binding) { b.ChainID = "d" },
		"anchor":     func(b *Binding) { b.AnchorHash = []byte{9} },
		"identity":   func(b *Binding) { b.IdentityKey = []byte{9} },
		"encryption": func(b *Binding) { b.EncryptionKey = []byte{9} },
		"operator":   func(b *Binding) { b.Operator = address.Module("other") },
	}
	want := base.ReportData()
	if want[32] != 0 || want[63] != 0 {
		t.Fatal("tail of report data is not zero")
	}
	for name, mutate := range variants {
		b := base
		mutate(&b)
		if b.ReportData() == want {
			t.Errorf("report data ignores the %s", name)
		}
	}
}
