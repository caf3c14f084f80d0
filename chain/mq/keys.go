package mq

import "github.com/phala-go/phala/chain/state"

// Stored items of the mq module.
var (
	seqKey     = state.NewKeyFormat(state.ModuleMQ, 0x01) // sender identity key → last accepted sequence (8 bytes, big endian)
	contentKey = state.NewKeyFormat(state.ModuleMQ, 0x02) // sha256 of a gatekeeper's (topic, payload) → nothing
)
