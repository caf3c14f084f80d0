// Command voting runs private ballots: each account votes once, individual
// votes are never readable, and the tally is revealed only once the ballot
// has closed (at its closing height, or earlier by its creator).
package main

import (
	"errors"

	"github.com/phala-go/phala/sdk"
)

// Ballot is a ballot's public definition.
type Ballot struct {
	Creator     sdk.Address `json:"creator"`
	Options     []string    `json:"options"`
	CloseHeight int64       `json:"close_height"`
	Closed      bool        `json:"closed"`
}

var (
	ballots = sdk.NewMap[Ballot]("ballot")
	voted   = sdk.NewMap[bool]("voted")   // ballot+0+voter
	counts  = sdk.NewMap[uint64]("count") // ballot+0+option index
)

// CreateArgs opens ballot ID.
type CreateArgs struct {
	ID          string   `json:"id"`
	Options     []string `json:"options"`
	CloseHeight int64    `json:"close_height"`
}

// VoteArgs casts the caller's vote for Options[Option].
type VoteArgs struct {
	ID     string `json:"id"`
	Option int    `json:"option"`
}

// IDArgs names a ballot.
type IDArgs struct {
	ID string `json:"id"`
}

// Tally is the result once closed.
type Tally struct {
	Options []string `json:"options"`
	Votes   []uint64 `json:"votes"`
}

func init() {
	sdk.Command("create", create)
	sdk.Command("vote", vote)
	sdk.Command("close", closeBallot)
	sdk.Query("tally", tally)
	sdk.Query("ballot", func(a IDArgs) (Ballot, error) { return load(a.ID) })
}

func load(id string) (Ballot, error) {
	b, ok, err := ballots.Get(id)
	if err == nil && !ok {
		err = errors.New("no such ballot")
	}
	return b, err
}

func closed(b Ballot) bool { return b.Closed || sdk.Block().Height >= b.CloseHeight }

func create(a CreateArgs) (sdk.Empty, error) {
	if a.ID == "" || len(a.Options) < 2 || len(a.Options) > 64 {
		return sdk.Empty{}, errors.New("a ballot needs an id and 2 to 64 options")
	}
	if a.CloseHeight <= sdk.Block().Height {
		return sdk.Empty{}, errors.New("close height must be in the future")
	}
	if _, ok, _ := ballots.Get(a.ID); ok {
		return sdk.Empty{}, errors.New("ballot exists")
	}
	return sdk.Empty{}, ballots.Set(a.ID, Ballot{Creator: sdk.CallerAddress(), Options: a.Options, CloseHeight: a.CloseHeight})
}

func vote(a VoteArgs) (sdk.Empty, error) {
	b, err := load(a.ID)
	if err != nil {
		return sdk.Empty{}, err
	}
	if closed(b) {
		return sdk.Empty{}, errors.New("ballot closed")
	}
	if a.Option < 0 || a.Option >= len(b.Options) {
		return sdk.Empty{}, errors.New("no such option")
	}
	vk := a.ID + "\x00" + sdk.CallerAddress().Key()
	if done, _, _ := voted.Get(vk); done {
		return sdk.Empty{}, errors.New("already voted")
	}
	ck := a.ID + "\x00" + string(rune(a.Option))
	n, _, err := counts.Get(ck)
	if err != nil {
		return sdk.Empty{}, err
	}
	if err := counts.Set(ck, n+1); err != nil {
		return sdk.Empty{}, err
	}
	return sdk.Empty{}, voted.Set(vk, true)
}

func closeBallot(a IDArgs) (sdk.Empty, error) {
	b, err := load(a.ID)
	if err != nil {
		return sdk.Empty{}, err
	}
	if string(b.Creator) != string(sdk.Caller()) {
		return sdk.Empty{}, errors.New("only the creator closes early")
	}
	b.Closed = true
	return sdk.Empty{}, ballots.Set(a.ID, b)
}

func tally(a IDArgs) (Tally, error) {
	b, err := load(a.ID)
	if err != nil {
		return Tally{}, err
	}
	if !closed(b) {
		return Tally{}, errors.New("ballot still open")
	}
	t := Tally{Options: b.Options, Votes: make([]uint64, len(b.Options))}
	for i := range b.Options {
		if t.Votes[i], _, err = counts.Get(a.ID + "\x00" + string(rune(i))); err != nil {
			return Tally{}, err
		}
	}
	return t, nil
}

func main() {}
