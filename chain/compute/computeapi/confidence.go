package computeapi

import (
	"github.com/phala-go/phala/attest"
	"github.com/phala-go/phala/tokenomics"
)

// ConfidenceOf is how far the economy trusts a worker's platform, from what
// its attestation proved: the TCB status of real hardware (up to date 1,
// software hardening needed 2, configuration needed 3, out of date but
// accepted by the policy 4); a sim enclave, with no hardware behind it,
// and any other status get the lowest level, 5.
func ConfidenceOf(v attest.Verified) tokenomics.Confidence {
	if v.TEE != attest.KindSGX && v.TEE != attest.KindTDX {
		return tokenomics.ConfidenceSimulated
	}
	switch v.TCBStatus {
	case attest.StatusUpToDate:
		return tokenomics.ConfidenceUpToDate
	case attest.StatusSWHardeningNeeded:
		return tokenomics.ConfidenceSWHardening
	case attest.StatusConfigurationNeeded, attest.StatusConfigurationAndSWHardeningNeeded:
		return tokenomics.ConfidenceConfiguration
	case attest.StatusOutOfDate, attest.StatusOutOfDateConfigurationNeeded:
		return tokenomics.ConfidenceOutOfDate
	}
	return tokenomics.ConfidenceSimulated
}
