package gov

import (
	"github.com/phala-go/phala/chain/gov/govapi"
	"github.com/phala-go/phala/codec"
)

// The transaction bodies come from anyone: each decodes strictly and only
// from its canonical encoding, so one body has one byte form.

func decodePropose(b []byte) (govapi.Propose, error) {
	var p govapi.Propose
	if err := codec.UnmarshalCanonical(b, &p); err != nil {
		return p, govapi.ErrInvalid.Wrapf("propose body: %v", err)
	}
	return p, nil
}

func decodeDeposit(b []byte) (govapi.Deposit, error) {
	var d govapi.Deposit
	if err := codec.UnmarshalCanonical(b, &d); err != nil {
		return d, govapi.ErrInvalid.Wrapf("deposit body: %v", err)
	}
	return d, nil
}

func decodeVote(b []byte) (govapi.Vote, error) {
	var v govapi.Vote
	if err := codec.UnmarshalCanonical(b, &v); err != nil {
		return v, govapi.ErrInvalid.Wrapf("vote body: %v", err)
	}
	return v, nil
}
