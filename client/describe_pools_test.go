package client

import (
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/phala-go/phala/chain/pools/poolsapi"
	"github.com/phala-go/phala/token"
)

func TestDescribePoolTxs(t *testing.T) {
	id := make([]byte, 32)
	id[0] = 0xab
	cases := []struct {
		method string
		body   any
		want   map[string]any
	}{
		{poolsapi.MethodCreate, poolsapi.Create{Commission: 125_000, Capacity: token.PHA(3)},
			map[string]any{"commission": "12.5%", "capacity": "3000000000000", "capacity_pha": "3 PHA"}},
		{poolsapi.MethodAddWorker, poolsapi.WorkerBody{Pool: 2, Worker: id}, map[string]any{"pool": 2.0, "worker": hex.EncodeToString(id)}},
		{poolsapi.MethodRemoveWorker, poolsapi.WorkerBody{Pool: 2, Worker: id}, map[string]any{"pool": 2.0, "worker": hex.EncodeToString(id)}},
		{poolsapi.MethodSetCommission, poolsapi.SetCommission{Pool: 1, Commission: 1}, map[string]any{"pool": 1.0, "commission": "0.0001%"}},
		{poolsapi.MethodSetCapacity, poolsapi.SetCapacity{Pool: 1}, map[string]any{"pool": 1.0, "capacity": "0", "capacity_pha": "0 PHA"}},
		{poolsapi.MethodDelegate, poolsapi.Delegate{Pool: 1, Amount: token.PHA(5)}, map[string]any{"pool": 1.0, "amount": "5000000000000", "amount_pha": "5 PHA"}},
		{poolsapi.MethodUndelegate, poolsapi.Undelegate{Pool: 1, Shares: token.FromUint64(9)}, map[string]any{"pool": 1.0, "shares": "9"}},
		{poolsapi.MethodWithdraw, poolsapi.Withdraw{Pool: 1}, map[string]any{"pool": 1.0, "amount": "0", "amount_pha": "0 PHA"}},
	}
	for _, tc := range cases {
		t.Run(tc.method, func(t *testing.T) {
			d := DescribeTx(signTestTx(t, tc.method, tc.body))
			if d.Undecodable != "" || d.BodyError != "" || !d.KnownMethod() {
				t.Fatalf("described as %+v", d)
			}
			got := bodyJSON(t, d)
			if len(got) != len(tc.want) {
				t.Errorf("body %v, want %v", got, tc.want)
			}
			for k, want := range tc.want {
				g, _ := json.Marshal(got[k])
				w, _ := json.Marshal(want)
				if string(g) != string(w) {
					t.Errorf("%s = %s, want %s", k, g, w)
				}
			}
		})
	}
}
