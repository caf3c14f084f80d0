// Package apptest runs the real chain application in process and drives it
// through ABCI as CometBFT would, so that the tests of the application and
// of each of its modules share one way to build blocks, sign transactions
// and admit sim TEE nodes.
//
// It is test support: only _test.go files may import it. It links the whole
// application, which no module's production code may depend on.
package apptest
