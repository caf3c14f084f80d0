package vm

// HostCosts is the gas charged by host functions, in the same unit as the
// meter's per-instruction cost. One table, deterministic integers.
type HostCosts struct {
	Base         uint64 // every host call
	PerByte      uint64 // every byte copied between host and contract
	StorageRead  uint64 // storage_get, storage_next
	StorageWrite uint64 // storage_set, storage_delete
	StoreByte    uint64 // per byte of key+value written
	Emit         uint64
	Sign         uint64
	DeriveKey    uint64 // public_key
	HTTP         uint64
}

// DefaultHostCosts prices a host call at a few hundred instructions, storage
// writes and signatures more, since they cost the host real work.
func DefaultHostCosts() HostCosts {
	return HostCosts{
		Base:         100,
		PerByte:      1,
		StorageRead:  500,
		StorageWrite: 2000,
		StoreByte:    10,
		Emit:         2000,
		Sign:         50_000,
		DeriveKey:    20_000,
		HTTP:         100_000,
	}
}
