//go:build wasip1

package sdk

// Entry points (vm/ABI.md): the host calls one per message. The imports
// they use are generated from vm/abi into host_wasip1.go.

//go:wasmexport phala_command
func phalaCommand() { dispatch(commands) }

//go:wasmexport phala_query
func phalaQuery() { dispatch(queries) }
