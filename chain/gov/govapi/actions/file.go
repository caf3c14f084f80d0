package actions

import (
	"fmt"
	"unicode/utf8"

	"github.com/phala-go/phala/chain/gov/govapi"
	"github.com/phala-go/phala/token"
)

// File is a proposal as people write it (phala tx gov propose --file).
type File struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	// Deposit is in PHA ("1000", "0.5") or base units ("1500u").
	Deposit string   `json:"deposit"`
	Actions []Action `json:"actions"`
}

// ParseFile reads a proposal file strictly: an unknown field anywhere is
// refused with its path.
func ParseFile(data []byte) (File, error) {
	var f File
	if err := DecodeStrict(data, &f); err != nil {
		return File{}, fmt.Errorf("proposal file: %w", err)
	}
	return f, nil
}

// Propose checks the proposal against the limits the chain enforces and
// encodes it as the body of gov.propose.
func (f File) Propose() (govapi.Propose, error) {
	switch {
	case f.Title == "":
		return govapi.Propose{}, fmt.Errorf("title: missing")
	case len(f.Title) > govapi.MaxTitle:
		return govapi.Propose{}, fmt.Errorf("title: %d bytes, at most %d", len(f.Title), govapi.MaxTitle)
	case len(f.Description) > govapi.MaxDescription:
		return govapi.Propose{}, fmt.Errorf("description: %d bytes, at most %d", len(f.Description), govapi.MaxDescription)
	case !utf8.ValidString(f.Title) || !utf8.ValidString(f.Description):
		return govapi.Propose{}, fmt.Errorf("title and description must be UTF-8")
	case f.Deposit == "":
		return govapi.Propose{}, fmt.Errorf("deposit: missing (PHA, at least the min_initial_deposit of phala query gov params)")
	}
	deposit, err := token.ParsePHA(f.Deposit)
	if err != nil {
		return govapi.Propose{}, fmt.Errorf("deposit: %w", err)
	}
	acts, err := EncodeAll(f.Actions)
	if err != nil {
		return govapi.Propose{}, err
	}
	return govapi.Propose{Title: f.Title, Description: f.Description, Actions: acts, Deposit: deposit}, nil
}
