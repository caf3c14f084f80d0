package main

import (
	"testing"

	ct "github.com/phala-go/phala/contracts/internal/contracttest"
)

func TestMain(m *testing.M) { ct.Main(m) }

func TestVoting(t *testing.T) {
	c := ct.Deploy(t) // height 1; each command advances one block
	id := IDArgs{"q1"}
	steps := []ct.Step{
		ct.S("create", "chair", "create", CreateArgs{"q1", []string{"yes", "no"}, 11}, false, "", ""),
		ct.S("duplicate", "chair", "create", CreateArgs{"q1", []string{"yes", "no"}, 11}, false, "", "ballot exists"),
		ct.S("one option", "chair", "create", CreateArgs{"q2", []string{"yes"}, 9}, false, "", "2 to 64 options"),
		ct.S("alice", "alice", "vote", VoteArgs{"q1", 0}, false, "", ""),
		ct.S("alice again", "alice", "vote", VoteArgs{"q1", 1}, false, "", "already voted"),
		ct.S("bad option", "bob", "vote", VoteArgs{"q1", 2}, false, "", "no such option"),
		ct.S("tally while open", "alice", "tally", id, true, "", "still open"),
		ct.S("bob", "bob", "vote", VoteArgs{"q1", 0}, false, "", ""),
		ct.S("carol", "carol", "vote", VoteArgs{"q1", 1}, false, "", ""),
		ct.S("only creator closes", "bob", "close", id, false, "", "only the creator"),
		ct.S("too late", "dave", "vote", VoteArgs{"q1", 1}, false, "", "ballot closed"), // height 11
		ct.S("tally", "anyone", "tally", id, true, `{"options":["yes","no"],"votes":[2,1]}`, ""),
	}
	c.Run(t, steps, nil)
}

func TestCloseEarly(t *testing.T) {
	c := ct.Deploy(t)
	if _, err := c.Command("chair", "create", CreateArgs{"q", []string{"a", "b", "c"}, 1000}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Command("x", "vote", VoteArgs{"q", 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Command("chair", "close", IDArgs{"q"}); err != nil {
		t.Fatal(err)
	}
	res, err := c.Query("x", "tally", IDArgs{"q"})
	if err != nil || string(res.Output) != `{"options":["a","b","c"],"votes":[0,0,1]}` {
		t.Fatalf("tally: %s %v", res.Output, err)
	}
}
