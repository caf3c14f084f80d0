package vm

// HostCosts is the gas host calls charge whatever the function, in the
// same unit as the meter's per-instruction cost. Each function's own fixed
// cost is in its row of the ABI table (vm/abi.Functions), beside its
// signature, so the price is declared where the function is.
type HostCosts struct {
	Base      uint64 // every host call
	PerByte   uint64 // every byte copied between host and contract
	StoreByte uint64 // per byte of key+value written (storage_set)
}

// DefaultHostCosts prices a host call at a few hundred instructions; the
// per-function costs in the table make storage writes and signatures more,
// since they cost the host real work.
func DefaultHostCosts() HostCosts {
	return HostCosts{
		Base:      100,
		PerByte:   1,
		StoreByte: 10,
	}
}
