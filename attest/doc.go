// Package attest verifies TEE attestation quotes for the chain: Intel SGX
// DCAP quotes (version 3, and version 4 with an SGX body) and Intel TDX
// quotes (version 4), ECDSA-P256 with an embedded PCK certificate chain,
// against Intel PCS collateral; and the development TEE's sim quotes.
//
// Everything here is pure and deterministic: no I/O, no clock, no
// randomness. The verification time is an argument (the block time), so
// every node reaches the same verdict. Loading collateral from files lives
// in the subpackage attestfs.
//
// Verify checks, for a DCAP quote:
//   - the PCK certificate chain (leaf, PCK CA, root) chains to the pinned
//     root (Intel's SGX Root CA unless WithRoot), every certificate valid at
//     the time;
//   - the CRLs given (root CA CRL, PCK CRL): signed by their issuers, current,
//     and not listing any certificate in use;
//   - the QE report signature by the PCK key, and the QE report data binding
//     the attestation key and QE authentication data;
//   - the quote signature over header and body by the attestation key;
//   - TCB info and QE identity: signatures over their exact bytes by a TCB
//     signing certificate issued by the root, validity windows, kinds and
//     versions, FMSPC and PCE ID equal to the PCK certificate's;
//   - the quoting enclave against its QE identity (MRSIGNER, ISVPRODID,
//     masked MISCSELECT and ATTRIBUTES, ISVSVN to a TCB level);
//   - for TDX, the TDX module (MRSIGNERSEAM, SEAMATTRIBUTES, module SVN);
//   - the platform TCB (PCK certificate CPU SVN components and PCE SVN, TEE
//     TCB SVN for TDX) against the TCB levels, giving a status;
//
// then applies the Policy (TCB statuses, measurements, debug, freshness).
// Errors wrap the Err* kinds of this package.
package attest
