package cometrpc

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
)

// HexBytes is how CometBFT writes hashes and addresses in JSON: a string
// of hex digits (upper case; either case is read). Empty reads as nil.
type HexBytes []byte

// String is upper-case hex, as CometBFT prints it.
func (h HexBytes) String() string { return strings.ToUpper(hex.EncodeToString(h)) }

// MarshalJSON writes upper-case hex.
func (h HexBytes) MarshalJSON() ([]byte, error) { return json.Marshal(h.String()) }

// UnmarshalJSON reads a hex string; null reads as nil.
func (h *HexBytes) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*h = nil
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("hex bytes: %v", err)
	}
	if s == "" {
		*h = nil
		return nil
	}
	v, err := hex.DecodeString(s)
	if err != nil {
		return fmt.Errorf("hex bytes: %v", err)
	}
	*h = v
	return nil
}
