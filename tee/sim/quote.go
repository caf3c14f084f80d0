package sim

import "github.com/phala-go/phala/attest"

// signQuote makes the development quote: the sim quote format of package
// attest, signed by its public development attestation key. Tests replace it.
var signQuote = attest.SignSimQuote
