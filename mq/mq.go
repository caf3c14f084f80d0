// Package mq holds the wire form of the message queue shared by the chain
// and the enclaves: the messages of a block's ingress list and the root that
// commits to their order. The chain puts the root in its app hash; an enclave
// recomputes it from the list its relay hands over, so a relay cannot add,
// drop or reorder a message unnoticed.
package mq

import (
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/sigctx"
)

// Message is one event for enclaves, published by a chain module.
type Message struct {
	_       struct{} `cbor:",toarray"`
	Topic   string   // the owning module's topic, e.g. "registry.worker"
	Payload []byte   // the topic's canonical CBOR payload
}

// Root is a binary Merkle root over the encoded messages in order. Leaves and
// inner nodes hash under different contexts, and the list length is bound
// into the root, so no two different lists share a root.
func Root(chainID string, msgs []Message) [32]byte {
	level := make([][32]byte, len(msgs))
	for i, m := range msgs {
		level[i] = sigctx.MessageLeaf.Hash(chainID, codec.MustMarshal(m))
	}
	for len(level) > 1 {
		next := make([][32]byte, 0, (len(level)+1)/2)
		for i := 0; i < len(level); i += 2 {
			if i+1 == len(level) {
				next = append(next, level[i]) // an odd node is promoted unchanged
				continue
			}
			next = append(next, sigctx.MessageRoot.Hash(chainID, []byte{1}, level[i][:], level[i+1][:]))
		}
		level = next
	}
	var top []byte
	if len(level) == 1 {
		top = level[0][:]
	}
	return sigctx.MessageRoot.Hash(chainID, []byte{0}, uint64Bytes(uint64(len(msgs))), top)
}

func uint64Bytes(n uint64) []byte {
	b := make([]byte, 8)
	for i := range b {
		b[i] = byte(n >> (56 - 8*i))
	}
	return b
}
