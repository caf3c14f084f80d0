//go:build wasip1

package sdk

import "unsafe"

// Host imports, module "phala" (vm/ABI.md).

//go:wasmimport phala input_len
func hostInputLen() int32

//go:wasmimport phala input_read
func hostInputRead(p unsafe.Pointer)

//go:wasmimport phala register_len
func hostRegisterLen() int32

//go:wasmimport phala register_read
func hostRegisterRead(p unsafe.Pointer)

//go:wasmimport phala storage_get
func hostStorageGet(kp unsafe.Pointer, kl int32) int32

//go:wasmimport phala storage_set
func hostStorageSet(kp unsafe.Pointer, kl int32, vp unsafe.Pointer, vl int32)

//go:wasmimport phala storage_delete
func hostStorageDelete(kp unsafe.Pointer, kl int32)

//go:wasmimport phala storage_next
func hostStorageNext(pp unsafe.Pointer, pl int32, ap unsafe.Pointer, al int32) int32

//go:wasmimport phala caller
func hostCaller() int32

//go:wasmimport phala contract_id
func hostContractID() int32

//go:wasmimport phala block_height
func hostBlockHeight() int64

//go:wasmimport phala block_time
func hostBlockTime() int64

//go:wasmimport phala emit
func hostEmit(tp unsafe.Pointer, tl int32, dp unsafe.Pointer, dl int32, ap unsafe.Pointer, al int32)

//go:wasmimport phala random
func hostRandom(p unsafe.Pointer, n int32)

//go:wasmimport phala public_key
func hostPublicKey(pp unsafe.Pointer, pl int32) int32

//go:wasmimport phala sign
func hostSign(pp unsafe.Pointer, pl int32, mp unsafe.Pointer, ml int32) int32

//go:wasmimport phala return_data
func hostReturn(p unsafe.Pointer, n int32)

//go:wasmimport phala revert
func hostRevert(p unsafe.Pointer, n int32)

//go:wasmimport phala http_get
func hostHTTPGet(up unsafe.Pointer, ul int32) int32

// Entry points (vm/ABI.md): the host calls one per message.

//go:wasmexport phala_command
func phalaCommand() { dispatch(commands) }

//go:wasmexport phala_query
func phalaQuery() { dispatch(queries) }
