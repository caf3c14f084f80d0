//go:build !wasip1

package sdk

import "unsafe"

// Outside the VM there is no host: these stand-ins let contract packages
// build and vet natively; calling one is a programming error.

func noHost() { panic("sdk: contracts run only inside the phala VM (GOOS=wasip1)") }

func hostInputLen() int32                                         { noHost(); return 0 }
func hostInputRead(unsafe.Pointer)                                { noHost() }
func hostRegisterLen() int32                                      { noHost(); return 0 }
func hostRegisterRead(unsafe.Pointer)                             { noHost() }
func hostStorageGet(unsafe.Pointer, int32) int32                  { noHost(); return 0 }
func hostStorageSet(unsafe.Pointer, int32, unsafe.Pointer, int32) { noHost() }
func hostStorageDelete(unsafe.Pointer, int32)                     { noHost() }
func hostStorageNext(unsafe.Pointer, int32, unsafe.Pointer, int32) int32 {
	noHost()
	return 0
}
func hostCaller() int32     { noHost(); return 0 }
func hostContractID() int32 { noHost(); return 0 }
func hostBlockHeight() int64 {
	noHost()
	return 0
}
func hostBlockTime() int64 { noHost(); return 0 }
func hostEmit(unsafe.Pointer, int32, unsafe.Pointer, int32, unsafe.Pointer, int32) {
	noHost()
}
func hostRandom(unsafe.Pointer, int32)          { noHost() }
func hostPublicKey(unsafe.Pointer, int32) int32 { noHost(); return 0 }
func hostSign(unsafe.Pointer, int32, unsafe.Pointer, int32) int32 {
	noHost()
	return 0
}
func hostReturn(unsafe.Pointer, int32)        { noHost() }
func hostRevert(unsafe.Pointer, int32)        { noHost() }
func hostHTTPGet(unsafe.Pointer, int32) int32 { noHost(); return 0 }
