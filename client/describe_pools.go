package client

import (
	"github.com/phala-go/phala/chain/pools/poolsapi"
)

// The stake pools' transactions, described for display.
func init() {
	for method, describe := range map[string]func([]byte) (Fields, error){
		poolsapi.MethodCreate: describeBody(func(b poolsapi.Create) Fields {
			return append(Fields{textField("commission", b.Commission.String())}, amountFields("capacity", b.Capacity)...)
		}),
		poolsapi.MethodAddWorker:    describeBody(poolWorkerFields),
		poolsapi.MethodRemoveWorker: describeBody(poolWorkerFields),
		poolsapi.MethodSetCommission: describeBody(func(b poolsapi.SetCommission) Fields {
			return Fields{textField("pool", uint64(b.Pool)), textField("commission", b.Commission.String())}
		}),
		poolsapi.MethodSetCapacity: describeBody(func(b poolsapi.SetCapacity) Fields {
			return append(Fields{textField("pool", uint64(b.Pool))}, amountFields("capacity", b.Capacity)...)
		}),
		poolsapi.MethodDelegate: describeBody(func(b poolsapi.Delegate) Fields {
			return append(Fields{textField("pool", uint64(b.Pool))}, amountFields("amount", b.Amount)...)
		}),
		poolsapi.MethodUndelegate: describeBody(func(b poolsapi.Undelegate) Fields {
			return Fields{textField("pool", uint64(b.Pool)), textField("shares", b.Shares.String())}
		}),
		poolsapi.MethodWithdraw: describeBody(func(b poolsapi.Withdraw) Fields {
			return append(Fields{textField("pool", uint64(b.Pool))}, amountFields("amount", b.Amount)...)
		}),
	} {
		bodyDescribers[method] = describe
	}
}

func poolWorkerFields(b poolsapi.WorkerBody) Fields {
	return Fields{textField("pool", uint64(b.Pool)), hexField("worker", b.Worker)}
}
