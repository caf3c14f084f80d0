package attest

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/google/go-tdx-guest/pcs"
)

// TCB statuses, as Intel names them.
const (
	StatusUpToDate                          = "UpToDate"
	StatusSWHardeningNeeded                 = "SWHardeningNeeded"
	StatusConfigurationNeeded               = "ConfigurationNeeded"
	StatusConfigurationAndSWHardeningNeeded = "ConfigurationAndSWHardeningNeeded"
	StatusOutOfDate                         = "OutOfDate"
	StatusOutOfDateConfigurationNeeded      = "OutOfDateConfigurationNeeded"
	StatusRevoked                           = "Revoked"
)

// DefaultAcceptedStatuses are the TCB statuses a policy accepts when it
// names none.
var DefaultAcceptedStatuses = []string{StatusUpToDate, StatusSWHardeningNeeded}

func knownStatus(s string) bool {
	switch s {
	case StatusUpToDate, StatusSWHardeningNeeded, StatusConfigurationNeeded,
		StatusConfigurationAndSWHardeningNeeded, StatusOutOfDate,
		StatusOutOfDateConfigurationNeeded, StatusRevoked:
		return true
	}
	return false
}

// tcbResult is the outcome of TCB evaluation.
type tcbResult struct {
	status     string
	advisories []string
}

func (r *tcbResult) addAdvisories(ids []string) {
	for _, id := range ids {
		dup := false
		for _, have := range r.advisories {
			if have == id {
				dup = true
				break
			}
		}
		if !dup {
			r.advisories = append(r.advisories, id)
		}
	}
}

// converge folds the status of a component with its own identity levels
// (the quoting enclave, the TDX module) into the platform status: such a
// component is UpToDate, OutOfDate or Revoked, and an out-of-date or
// revoked component makes the whole platform so.
func (r *tcbResult) converge(component pcs.TcbComponentStatus, what string) error {
	switch string(component) {
	case StatusUpToDate:
	case StatusOutOfDate:
		switch r.status {
		case StatusUpToDate, StatusSWHardeningNeeded:
			r.status = StatusOutOfDate
		case StatusConfigurationNeeded, StatusConfigurationAndSWHardeningNeeded:
			r.status = StatusOutOfDateConfigurationNeeded
		}
	case StatusRevoked:
		r.status = StatusRevoked
	default:
		return fmt.Errorf("%w: unexpected %s TCB status %q", ErrCollateral, what, component)
	}
	return nil
}

// platformTCB matches the platform's SVNs against the TCB info levels (in
// the order given, which Intel sorts from newest to oldest) and returns the
// first level the platform meets: every SGX TCB component of the PCK
// certificate and its PCE SVN at least the level's, and for TDX every TEE
// TCB SVN component from start on at least the level's TDX component.
func platformTCB(ti *pcs.TcbInfo, cpuSvn []byte, pceSvn uint16, teeTCBSVN []byte, start int) (*pcs.TcbLevel, error) {
	for i := range ti.TcbLevels {
		l := &ti.TcbLevels[i]
		ok := pceSvn >= l.Tcb.Pcesvn
		for j := 0; ok && j < 16; j++ {
			ok = cpuSvn[j] >= l.Tcb.SgxTcbcomponents[j].Svn
		}
		for j := start; ok && teeTCBSVN != nil && j < 16; j++ {
			ok = teeTCBSVN[j] >= l.Tcb.TdxTcbcomponents[j].Svn
		}
		if ok {
			return l, nil
		}
	}
	return nil, fmt.Errorf("%w: the platform TCB (CPU SVN %x, PCE SVN %d%s) is below every TCB level of FMSPC %s: not supported, out of date",
		ErrTCBStatus, cpuSvn, pceSvn, teeSuffix(teeTCBSVN), ti.Fmspc)
}

func teeSuffix(tee []byte) string {
	if tee == nil {
		return ""
	}
	return fmt.Sprintf(", TEE TCB SVN %x", tee)
}

// isvLevel returns the first level whose ISV SVN the given SVN meets.
func isvLevel(levels []pcs.TcbLevel, svn uint32) *pcs.TcbLevel {
	for i := range levels {
		if svn >= levels[i].Tcb.Isvsvn {
			return &levels[i]
		}
	}
	return nil
}

// checkQE matches the QE report against the QE identity and returns the QE
// identity TCB level it meets.
func checkQE(r *EnclaveReport, id *pcs.EnclaveIdentity) (*pcs.TcbLevel, error) {
	if !bytes.Equal(r.MrSigner[:], id.Mrsigner.Bytes) {
		return nil, fmt.Errorf("%w: QE MRSIGNER %x, identity wants %x", ErrQEIdentity, r.MrSigner, id.Mrsigner.Bytes)
	}
	if r.IsvProdID != id.IsvProdID {
		return nil, fmt.Errorf("%w: QE ISVPRODID %d, identity wants %d", ErrQEIdentity, r.IsvProdID, id.IsvProdID)
	}
	misc := binary.BigEndian.Uint32(id.Miscselect.Bytes)
	mask := binary.BigEndian.Uint32(id.MiscselectMask.Bytes)
	if r.MiscSelect&mask != misc {
		return nil, fmt.Errorf("%w: QE MISCSELECT %08x under mask %08x, identity wants %08x", ErrQEIdentity, r.MiscSelect, mask, misc)
	}
	for i := range r.Attributes {
		if r.Attributes[i]&id.AttributesMask.Bytes[i] != id.Attributes.Bytes[i] {
			return nil, fmt.Errorf("%w: QE ATTRIBUTES %x under mask %x, identity wants %x", ErrQEIdentity, r.Attributes, id.AttributesMask.Bytes, id.Attributes.Bytes)
		}
	}
	if r.Debug() {
		return nil, fmt.Errorf("%w: the quoting enclave is a debug enclave", ErrQEIdentity)
	}
	l := isvLevel(id.TcbLevels, uint32(r.IsvSvn))
	if l == nil {
		return nil, fmt.Errorf("%w: QE ISVSVN %d is below every QE identity TCB level", ErrQEIdentity, r.IsvSvn)
	}
	return l, nil
}

// checkTDXModule matches the TD report's TDX module (MRSIGNERSEAM,
// SEAMATTRIBUTES, TEE TCB SVN) against the TCB info. It returns the index
// from which the TEE TCB SVN components are compared against the TDX TCB
// levels, and the TDX module identity level (nil if none applies).
func checkTDXModule(td *TDReport, ti *pcs.TcbInfo) (int, *pcs.TcbLevel, error) {
	matches := func(signer, attrs, mask []byte, what string) error {
		if len(signer) != 48 || len(attrs) != 8 || len(mask) != 8 {
			return fmt.Errorf("%w: TCB info %s field sizes", ErrCollateral, what)
		}
		if !bytes.Equal(td.MrSignerSeam[:], signer) {
			return fmt.Errorf("%w: MRSIGNERSEAM %x, %s wants %x", ErrTDXModule, td.MrSignerSeam, what, signer)
		}
		for i := range attrs {
			if td.SeamAttributes[i]&mask[i] != attrs[i] {
				return fmt.Errorf("%w: SEAMATTRIBUTES %x under mask %x, %s wants %x", ErrTDXModule, td.SeamAttributes, mask, what, attrs)
			}
		}
		return nil
	}
	m := ti.TdxModule
	if err := matches(m.Mrsigner.Bytes, m.Attributes.Bytes, m.AttributesMask.Bytes, "tdxModule"); err != nil {
		return 0, nil, err
	}
	major := td.TEETCBSVN[1]
	if major == 0 {
		return 0, nil, nil
	}
	want := fmt.Sprintf("TDX_%02X", major)
	for i := range ti.TdxModuleIdentities {
		mi := &ti.TdxModuleIdentities[i]
		if mi.ID != want {
			continue
		}
		if err := matches(mi.Mrsigner.Bytes, mi.Attributes.Bytes, mi.AttributesMask.Bytes, "TDX module identity "+want); err != nil {
			return 0, nil, err
		}
		l := isvLevel(mi.TcbLevels, uint32(td.TEETCBSVN[0]))
		if l == nil {
			return 0, nil, fmt.Errorf("%w: TDX module %s SVN %d is below every level of its identity", ErrTCBStatus, want, td.TEETCBSVN[0])
		}
		return 2, l, nil
	}
	return 0, nil, fmt.Errorf("%w: TCB info has no TDX module identity %s (TEE TCB SVN %x)", ErrCollateral, want, td.TEETCBSVN)
}
