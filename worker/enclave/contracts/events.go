package contracts

import (
	"bytes"
	"slices"

	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/vm"
	"github.com/phala-go/phala/worker/enclave/module"
	"github.com/phala-go/phala/workerwire"
)

// MaxAccountEvents bounds the events with an audience kept for serving
// (the oldest go first): the retention of the events route. Each is at
// most a contract's event (vm bounds them), so the bound is one of memory
// and checkpoint size.
const MaxAccountEvents = 8192

// EventRecord is an event addressed to some accounts, kept in the
// module's (sealed) state until MaxAccountEvents newer ones push it out.
// The audience is kept to choose who reads it and is never served: an
// account learns its events, not who else got them.
type EventRecord struct {
	_        struct{} `cbor:",toarray"`
	Event    workerwire.AccountEvent
	Audience [][]byte // addresses
}

// keepEvents keeps the events that name an audience of a call of
// contract run for command seq (the command's own call, or a message it
// set off), in the order the contract emitted them. Public events (no
// audience) reach the sender in its receipt and nobody else: there is no
// one to keep them for. A call that fails has no events (the VM drops
// them).
func (m *Module) keepEvents(ctx *module.Context, seq uint64, contract contractsapi.Hash, events []vm.Event) {
	for _, e := range events {
		if len(e.Audience) == 0 {
			continue
		}
		m.st.LastEvent++
		m.st.Events = append(m.st.Events, EventRecord{
			Event:    workerwire.AccountEvent{Index: m.st.LastEvent, Seq: seq, Height: ctx.Height, Contract: contract, Topic: e.Topic, Data: bytes.Clone(e.Data)},
			Audience: slices.Clone(e.Audience),
		})
	}
	if over := len(m.st.Events) - MaxAccountEvents; over > 0 {
		m.st.Events = slices.Delete(m.st.Events, 0, over)
	}
}

// EventsFor answers the events addressed to account with an index above
// after (indexes count from 1, so 0 asks from the oldest kept), of
// contract (zero: any), at most limit (0 or more than
// workerwire.MaxEventsPage: that), oldest first.
func (m *Module) EventsFor(account address.Address, contract contractsapi.Hash, after uint64, limit int) workerwire.EventsResult {
	if limit <= 0 || limit > workerwire.MaxEventsPage {
		limit = workerwire.MaxEventsPage
	}
	out := workerwire.EventsResult{Events: []workerwire.AccountEvent{}, Oldest: m.st.LastEvent + 1}
	if len(m.st.Events) > 0 {
		out.Oldest = m.st.Events[0].Event.Index
	}
	start, _ := slices.BinarySearchFunc(m.st.Events, after, func(r EventRecord, i uint64) int {
		if r.Event.Index <= i {
			return -1
		}
		return 1
	})
	for _, r := range m.st.Events[start:] {
		if contract != (contractsapi.Hash{}) && r.Event.Contract != contract {
			continue
		}
		if !slices.ContainsFunc(r.Audience, func(a []byte) bool { return bytes.Equal(a, account[:]) }) {
			continue
		}
		if len(out.Events) == limit {
			out.More = true
			break
		}
		out.Events = append(out.Events, r.Event)
	}
	return out
}

// dropUpload forgets the chunks assembled for an upload the chain
// dropped (contractsapi.TopicUploadDropped).
func (m *Module) dropUpload(d contractsapi.UploadDropped) {
	m.st.Uploads = slices.DeleteFunc(m.st.Uploads, func(u Upload) bool { return u.Uploader == d.Uploader && u.CodeHash == d.CodeHash })
}
