package address_test

import (
	"fmt"

	"github.com/phala-go/phala/crypto/address"
)

func ExampleModule() {
	pool := address.Module("mining-reward")
	fmt.Println(pool)
	// Output: pha1np6mes76gft828g4lzwd0anyhmtu9x8crlfq2f
}

func ExampleParse() {
	_, err := address.Parse("pha1np6mes76gft828g4lzwd0anyhmtu9x8crlfq2q")
	fmt.Println(err)
	// Output: invalid address "pha1np6mes76gft828g4lzwd0anyhmtu9x8crlfq2q": checksum mismatch
}
