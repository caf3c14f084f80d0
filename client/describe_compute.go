package client

import (
	"github.com/phala-go/phala/chain/compute/computeapi"
)

// The compute module's transactions, described for display.
func init() {
	for method, describe := range map[string]func([]byte) (Fields, error){
		computeapi.MethodStart: describeBody(func(b computeapi.Start) Fields {
			return append(Fields{hexField("worker", b.Worker)}, amountFields("stake", b.Stake)...)
		}),
		computeapi.MethodStop: describeBody(func(b computeapi.Stop) Fields { return Fields{hexField("worker", b.Worker)} }),
	} {
		bodyDescribers[method] = describe
	}
}
