package apptest

import (
	"github.com/phala-go/phala/chain/tx"
	"github.com/phala-go/phala/token"
)

// signedGasLimit is enough for any module's transaction, so that a test's
// refusal is never an accident of gas.
const signedGasLimit = 10_000_000

// Signed is a transaction of from at nonce, calling method with body, with
// a fee of 1 PHA.
func (c *Chain) Signed(from Account, nonce uint64, method string, body any) []byte {
	c.T.Helper()
	env, err := tx.New(ChainID, from.PublicKey(), nonce, token.PHA(1), signedGasLimit, method, body)
	if err != nil {
		c.T.Fatal(err)
	}
	b, err := env.Sign(from.Key)
	if err != nil {
		c.T.Fatal(err)
	}
	return b
}

// Tx is Signed at from's committed nonce, for tests that run each step in
// a block of its own.
func (c *Chain) Tx(from Account, method string, body any) []byte {
	c.T.Helper()
	return c.Signed(from, c.Account(from.Addr).Nonce, method, body)
}

// MustSucceed runs raw in a block of its own and fails the test unless it
// succeeded.
func (c *Chain) MustSucceed(raw []byte) {
	c.T.Helper()
	if r := c.Block(raw).TxResults[0]; r.Code != 0 {
		c.T.Fatalf("transaction failed: %s", r.Log)
	}
}
