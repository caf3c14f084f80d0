package abi

// Regenerates the SDK's import stubs and vm/ABI.md's function table.
//go:generate go run ./abigen -root ../..

// Functions is the host module "phala". To add a host function: a row
// here, its implementation in package vm (phalaImpls), then
// `go generate ./...`. Tests fail until all three agree.
//
// The gas values are consensus: every worker charges them, so changing
// one changes the gas of existing contracts.
var Functions = []Func{
	{Name: "input_len", GoName: "hostInputLen", Result: Int32,
		Doc: "length of the call's input"},
	{Name: "input_read", GoName: "hostInputRead", Params: []Param{{"ptr", Ptr}},
		Doc: "copy the input to ptr"},
	{Name: "register_len", GoName: "hostRegisterLen", Result: Int32,
		Doc: "length of the register"},
	{Name: "register_read", GoName: "hostRegisterRead", Params: []Param{{"ptr", Ptr}},
		Doc: "copy the register to ptr"},
	{Name: "storage_get", GoName: "hostStorageGet", Params: ranges("k"), Result: Int32, Gas: 500,
		Doc: "value to register, or -1"},
	{Name: "storage_set", GoName: "hostStorageSet", Params: ranges("k", "v"), Gas: 2000,
		Doc: "write (key ≤ `MaxKeyBytes`, value ≤ `MaxValueBytes`), plus `HostCosts.StoreByte` gas per byte of key and value"},
	{Name: "storage_delete", GoName: "hostStorageDelete", Params: ranges("k"), Gas: 2000,
		Doc: "delete"},
	{Name: "storage_next", GoName: "hostStorageNext", Params: ranges("p", "a"), Result: Int32, Gas: 500,
		Doc: "first entry with prefix p and key > a (a empty: the first with p), to register as `[u32 LE key length][key][value]`; -1 at the end"},
	{Name: "caller", GoName: "hostCaller", Result: Int32,
		Doc: "the authenticated caller's address, to register"},
	{Name: "contract_id", GoName: "hostContractID", Result: Int32,
		Doc: "this contract's id, to register"},
	{Name: "block_height", GoName: "hostBlockHeight", Result: Int64,
		Doc: "block height (queries: the snapshot's)"},
	{Name: "block_time", GoName: "hostBlockTime", Result: Int64,
		Doc: "block time, unix nanoseconds"},
	{Name: "emit", GoName: "hostEmit", Params: ranges("t", "d", "a"), Gas: 2000,
		Doc: "event (topic, data, audience); audience empty = public, else `[u32 LE length][address]`... (sealed to those accounts by the worker)"},
	{Name: "random", GoName: "hostRandom", Params: []Param{{"ptr", Ptr}, {"len", Len}},
		Doc: "fill from the call's deterministic stream"},
	{Name: "public_key", GoName: "hostPublicKey", Params: ranges("p"), Result: Int32, Gas: 20_000,
		Doc: "ed25519 public key (32 bytes) of the contract's key for purpose p, to register"},
	{Name: "sign", GoName: "hostSign", Params: ranges("p", "m"), Result: Int32, Gas: 50_000,
		Doc: "ed25519 signature (64 bytes) of m with that key, to register"},
	{Name: "return_data", GoName: "hostReturn", Params: []Param{{"ptr", Ptr}, {"len", Len}},
		Doc: "the call's output (last call wins)"},
	{Name: "revert", GoName: "hostRevert", Params: []Param{{"ptr", Ptr}, {"len", Len}},
		Doc: "mark the call failed with this message; takes effect when the entry point returns (the Go runtime stays intact): writes and events are dropped, the host returns `vm/4` with the message as output"},
	{Name: "http_get", GoName: "hostHTTPGet", Params: ranges("u"), Result: Int32, Gas: 100_000, Avail: QueryOnly,
		Doc: "GET through the host allow-list; HTTP status with body in register, or -1 in a command (always, on every worker), -2 URL/host not allowed, -3 response over `HTTPConfig.MaxBytes`, -4 fetch failed (message in register)"},
	{Name: "value", GoName: "hostValue", Params: []Param{{"ptr", Ptr}},
		Doc: "write the call's value (what the command moved to the contract's account) at ptr as an amount; 0 in queries"},
	{Name: "balance", GoName: "hostBalance", Params: []Param{{"ptr", Ptr}},
		Doc: "write the contract's balance at ptr as an amount: the host's figure before the call, plus the command's value, less what the call paid so far"},
	{Name: "pay", GoName: "hostPay", Params: []Param{{"tptr", Ptr}, {"tlen", Len}, {"aptr", Ptr}}, Gas: 5_000, Avail: CommandOnly,
		Doc: "pay the amount at aptr from the contract's account to the account t (`AddressBytes` bytes); more than `balance` ends the call with `vm/14`; takes effect only if the call succeeds (at most `MaxPayouts` per call)"},
	{Name: "send", GoName: "hostSend", Params: ranges("c", "m"), Gas: 5_000, Avail: CommandOnly,
		Doc: "queue message m (a call input) for contract c, run as a command after this one, in the same block, with this contract's account as caller; takes effect only if the call succeeds (at most `MaxSends` per call)"},
	{Name: "query_contract", GoName: "hostQueryContract", Params: ranges("c", "m"), Result: Int32, Gas: 10_000, Avail: QueryOnly,
		Doc: "run message m as a query of contract c, with this contract's account as caller and the gas left as its limit (the gas it uses is this call's); its output in register and its length, or -1 in a command (always), -2 no such contract here, -3 too deep (`MaxCallDepth`) or already in the chain of calls, -4 the query failed (its message in register)"},
}

// ranges is one (xptr, xlen) pair per prefix: how bytes cross the ABI.
func ranges(prefixes ...string) []Param {
	var ps []Param
	for _, p := range prefixes {
		ps = append(ps, Param{p + "ptr", Ptr}, Param{p + "len", Len})
	}
	return ps
}
