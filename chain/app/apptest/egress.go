package apptest

import (
	"strconv"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/errs"
	"github.com/phala-go/phala/mq"
)

// Egress is n's egress message number seq on topic, signed for ChainID.
func Egress(n TEENode, seq uint64, topic string, payload []byte) mq.SignedEgress {
	return mq.SignEgress(ChainID, n.Identity, mq.Egress{Version: mq.EgressVersion, Sender: n.Pub(), Seq: seq, Topic: topic, Payload: payload})
}

// Heartbeat is a registry heartbeat payload naming the block at height.
func Heartbeat(height int64) []byte {
	return codec.MustMarshal(registryapi.Heartbeat{Height: height})
}

// Submit is a relay's "mq.submit" of msg, paid by relay at its committed
// nonce.
func (c *Chain) Submit(relay Account, msg mq.SignedEgress) []byte {
	c.T.Helper()
	return c.Tx(relay, mq.MethodSubmit, msg)
}

// EgressSeq is the sequence number of n's last accepted egress message.
func (c *Chain) EgressSeq(n TEENode) uint64 {
	c.T.Helper()
	var seq uint64
	if err := c.Query(mq.QuerySequence, n.Pub(), &seq); err != nil {
		c.T.Fatalf("sequence query: %v", err)
	}
	return seq
}

// Republished returns the chain's republications of egress (each with
// its outcome) on the message list of the block at height, strictly
// decoded as an enclave decodes them.
func (c *Chain) Republished(height int64) []mq.Republished {
	c.T.Helper()
	msgs, err := c.App.Messages(height)
	if err != nil {
		c.T.Fatal(err)
	}
	var out []mq.Republished
	for _, m := range msgs {
		if m.Topic != mq.TopicEgress {
			continue
		}
		r, err := mq.DecodeRepublished(m.Payload)
		if err != nil {
			c.T.Fatalf("republished egress does not decode: %v", err)
		}
		out = append(out, r)
	}
	return out
}

// Rejection is the error of the mq.egress_rejected event among events,
// rebuilt from its codespace, code and reason; nil if there is none.
func Rejection(events []abci.Event) error {
	for _, e := range events {
		if e.Type == mq.EventRejected {
			return eventErr(e)
		}
	}
	return nil
}

func eventErr(e abci.Event) error {
	var space, reason string
	var code uint64
	for _, a := range e.Attributes {
		switch a.Key {
		case "codespace":
			space = a.Value
		case "code":
			code, _ = strconv.ParseUint(a.Value, 10, 32)
		case "reason":
			reason = a.Value
		}
	}
	return errs.FromWire(space, uint32(code), reason)
}
