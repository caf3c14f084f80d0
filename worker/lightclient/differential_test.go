package lightclient

import (
	"bytes"
	"testing"
	"time"

	cmtproto "github.com/cometbft/cometbft/api/cometbft/types/v1"

	"github.com/phala-go/phala/internal/chaingen"
	"github.com/phala-go/phala/mq"
	"github.com/phala-go/phala/relaywire"
)

// genBatch is chaingen's batch from..to.
func genBatch(t testing.TB, c *chaingen.Chain, from, to int64) relaywire.Batch {
	t.Helper()
	b, err := c.Batch(from, to)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// editHeader decodes block i's header, lets edit change it and encodes it
// back: a forgery a relay without keys can make.
func editHeader(t testing.TB, b *relaywire.Batch, i int, edit func(h *cmtproto.Header)) {
	t.Helper()
	var h cmtproto.Header
	if err := h.Unmarshal(b.Blocks[i].Header); err != nil {
		t.Fatal(err)
	}
	edit(&h)
	raw, err := h.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	b.Blocks[i].Header = raw
}

// editCommit does the same to the batch's commit.
func editCommit(t testing.TB, b *relaywire.Batch, edit func(c *cmtproto.Commit)) {
	t.Helper()
	var c cmtproto.Commit
	if err := c.Unmarshal(b.Commit); err != nil {
		t.Fatal(err)
	}
	edit(&c)
	raw, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	b.Commit = raw
}

func absent(s *cmtproto.CommitSig) {
	*s = cmtproto.CommitSig{BlockIdFlag: cmtproto.BlockIDFlagAbsent}
}

// forgeryClasses are the ways a relay can change an honest batch 11..20 of
// a 4-validator chain, each applied to a fresh copy. Some are harmless
// (a signature past the 2/3 mark is never checked, by CometBFT either);
// the test only requires both verifiers to agree.
var forgeryClasses = map[string]func(t testing.TB, b *relaywire.Batch){
	"honest": func(testing.TB, *relaywire.Batch) {},
	// Signatures and power.
	"first signature flipped": func(t testing.TB, b *relaywire.Batch) {
		editCommit(t, b, func(c *cmtproto.Commit) { c.Signatures[0].Signature[5] ^= 1 })
	},
	"last signature flipped (past 2/3)": func(t testing.TB, b *relaywire.Batch) {
		editCommit(t, b, func(c *cmtproto.Commit) { c.Signatures[3].Signature[5] ^= 1 })
	},
	"signature truncated": func(t testing.TB, b *relaywire.Batch) {
		editCommit(t, b, func(c *cmtproto.Commit) { c.Signatures[0].Signature = c.Signatures[0].Signature[:63] })
	},
	"signature too long": func(t testing.TB, b *relaywire.Batch) {
		editCommit(t, b, func(c *cmtproto.Commit) { c.Signatures[1].Signature = make([]byte, 97) })
	},
	"one absent (3/4 left)": func(t testing.TB, b *relaywire.Batch) {
		editCommit(t, b, func(c *cmtproto.Commit) { absent(&c.Signatures[2]) })
	},
	"two absent (below 2/3)": func(t testing.TB, b *relaywire.Batch) {
		editCommit(t, b, func(c *cmtproto.Commit) { absent(&c.Signatures[0]); absent(&c.Signatures[3]) })
	},
	"absent vote with a signature": func(t testing.TB, b *relaywire.Batch) {
		editCommit(t, b, func(c *cmtproto.Commit) { c.Signatures[0].BlockIdFlag = cmtproto.BlockIDFlagAbsent })
	},
	"vote relabelled nil": func(t testing.TB, b *relaywire.Batch) {
		editCommit(t, b, func(c *cmtproto.Commit) { c.Signatures[0].BlockIdFlag = cmtproto.BlockIDFlagNil })
	},
	"two votes relabelled nil": func(t testing.TB, b *relaywire.Batch) {
		editCommit(t, b, func(c *cmtproto.Commit) {
			c.Signatures[0].BlockIdFlag, c.Signatures[1].BlockIdFlag = cmtproto.BlockIDFlagNil, cmtproto.BlockIDFlagNil
		})
	},
	"unknown flag": func(t testing.TB, b *relaywire.Batch) {
		editCommit(t, b, func(c *cmtproto.Commit) { c.Signatures[0].BlockIdFlag = 7 })
	},
	"signatures swapped": func(t testing.TB, b *relaywire.Batch) {
		editCommit(t, b, func(c *cmtproto.Commit) { c.Signatures[0], c.Signatures[1] = c.Signatures[1], c.Signatures[0] })
	},
	"addresses swapped (not signed)": func(t testing.TB, b *relaywire.Batch) {
		editCommit(t, b, func(c *cmtproto.Commit) {
			s := c.Signatures
			s[0].ValidatorAddress, s[1].ValidatorAddress = s[1].ValidatorAddress, s[0].ValidatorAddress
		})
	},
	"signature missing": func(t testing.TB, b *relaywire.Batch) {
		editCommit(t, b, func(c *cmtproto.Commit) { c.Signatures = c.Signatures[:3] })
	},
	"extra signature": func(t testing.TB, b *relaywire.Batch) {
		editCommit(t, b, func(c *cmtproto.Commit) { c.Signatures = append(c.Signatures, c.Signatures[0]) })
	},
	"vote time moved": func(t testing.TB, b *relaywire.Batch) {
		editCommit(t, b, func(c *cmtproto.Commit) { c.Signatures[1].Timestamp = c.Signatures[1].Timestamp.Add(time.Nanosecond) })
	},
	"other round": func(t testing.TB, b *relaywire.Batch) { editCommit(t, b, func(c *cmtproto.Commit) { c.Round = 1 }) },
	"negative round": func(t testing.TB, b *relaywire.Batch) {
		editCommit(t, b, func(c *cmtproto.Commit) { c.Round = -1 })
	},
	"commit height": func(t testing.TB, b *relaywire.Batch) { editCommit(t, b, func(c *cmtproto.Commit) { c.Height-- }) },
	"commit part set": func(t testing.TB, b *relaywire.Batch) {
		editCommit(t, b, func(c *cmtproto.Commit) { c.BlockID.PartSetHeader.Total++ })
	},
	"commit for no block": func(t testing.TB, b *relaywire.Batch) {
		editCommit(t, b, func(c *cmtproto.Commit) { c.BlockID = cmtproto.BlockID{} })
	},
	"no signatures": func(t testing.TB, b *relaywire.Batch) {
		editCommit(t, b, func(c *cmtproto.Commit) { c.Signatures = nil })
	},
	"garbage commit":     func(_ testing.TB, b *relaywire.Batch) { b.Commit = []byte{0xff, 0xff} },
	"no commit":          func(_ testing.TB, b *relaywire.Batch) { b.Commit = nil },
	"commit of block 19": func(t testing.TB, b *relaywire.Batch) { b.Blocks = b.Blocks[:len(b.Blocks)-1] },
	// Chain id and validator sets.
	"chain id mid-batch": func(t testing.TB, b *relaywire.Batch) {
		editHeader(t, b, 3, func(h *cmtproto.Header) { h.ChainID = "other-chain" })
	},
	"chain id at the end": func(t testing.TB, b *relaywire.Batch) {
		editHeader(t, b, 9, func(h *cmtproto.Header) { h.ChainID = "other-chain" })
	},
	"validators hash": func(t testing.TB, b *relaywire.Batch) {
		editHeader(t, b, 9, func(h *cmtproto.Header) { h.ValidatorsHash = bytes.Repeat([]byte{1}, 32) })
	},
	"set change mid-batch": func(t testing.TB, b *relaywire.Batch) {
		editHeader(t, b, 4, func(h *cmtproto.Header) { h.NextValidatorsHash = bytes.Repeat([]byte{1}, 32) })
	},
	"set change at the end without the set": func(t testing.TB, b *relaywire.Batch) {
		editHeader(t, b, 9, func(h *cmtproto.Header) { h.NextValidatorsHash = bytes.Repeat([]byte{1}, 32) })
	},
	"next validators without a change": func(t testing.TB, b *relaywire.Batch) { b.NextValidators = []byte{0x0a, 0x00} },
	// Links, heights, times and ordering.
	"parent link": func(t testing.TB, b *relaywire.Batch) {
		editHeader(t, b, 5, func(h *cmtproto.Header) { h.LastBlockId.Hash[0] ^= 1 })
	},
	"time mid-batch": func(t testing.TB, b *relaywire.Batch) {
		editHeader(t, b, 2, func(h *cmtproto.Header) { h.Time = h.Time.Add(time.Millisecond) })
	},
	"time at the end": func(t testing.TB, b *relaywire.Batch) {
		editHeader(t, b, 9, func(h *cmtproto.Header) { h.Time = h.Time.Add(time.Millisecond) })
	},
	"height": func(t testing.TB, b *relaywire.Batch) { editHeader(t, b, 9, func(h *cmtproto.Header) { h.Height++ }) },
	"block protocol": func(t testing.TB, b *relaywire.Batch) {
		editHeader(t, b, 9, func(h *cmtproto.Header) { h.Version.Block++ })
	},
	"app version": func(t testing.TB, b *relaywire.Batch) {
		editHeader(t, b, 9, func(h *cmtproto.Header) { h.Version.App++ })
	},
	"proposer": func(t testing.TB, b *relaywire.Batch) {
		editHeader(t, b, 9, func(h *cmtproto.Header) { h.ProposerAddress = h.ProposerAddress[:19] })
	},
	"short data hash": func(t testing.TB, b *relaywire.Batch) {
		editHeader(t, b, 0, func(h *cmtproto.Header) { h.DataHash = h.DataHash[:31] })
	},
	"evidence hash": func(t testing.TB, b *relaywire.Batch) {
		editHeader(t, b, 9, func(h *cmtproto.Header) { h.EvidenceHash = nil })
	},
	"blocks reordered":    func(_ testing.TB, b *relaywire.Batch) { b.Blocks[3], b.Blocks[4] = b.Blocks[4], b.Blocks[3] },
	"first block dropped": func(_ testing.TB, b *relaywire.Batch) { b.Blocks = b.Blocks[1:] },
	"middle block dropped": func(_ testing.TB, b *relaywire.Batch) {
		b.Blocks = append(b.Blocks[:4:4], b.Blocks[5:]...)
	},
	"block repeated": func(_ testing.TB, b *relaywire.Batch) {
		b.Blocks = append(b.Blocks[:4:4], b.Blocks[3:]...)
	},
	"garbage header": func(_ testing.TB, b *relaywire.Batch) { b.Blocks[2].Header = []byte{0x0a} },
	"no blocks":      func(_ testing.TB, b *relaywire.Batch) { b.Blocks = nil },
	"version":        func(_ testing.TB, b *relaywire.Batch) { b.Version++ },
	// App hashes and message lists.
	"app hash": func(t testing.TB, b *relaywire.Batch) {
		editHeader(t, b, 9, func(h *cmtproto.Header) { h.AppHash = append(h.AppHash, 0) })
	},
	"message dropped": func(_ testing.TB, b *relaywire.Batch) {
		for i := range b.Blocks {
			if len(b.Blocks[i].Parent.Messages) > 0 {
				b.Blocks[i].Parent.Messages = b.Blocks[i].Parent.Messages[1:]
				return
			}
		}
	},
	"message added": func(_ testing.TB, b *relaywire.Batch) {
		b.Blocks[6].Parent.Messages = append(b.Blocks[6].Parent.Messages, mq.Message{Topic: "forged"})
	},
	"writes hash":   func(_ testing.TB, b *relaywire.Batch) { b.Blocks[6].Parent.StateRoot = nil },
	"digest height": func(_ testing.TB, b *relaywire.Batch) { b.Blocks[6].Parent.Height++ },
}

// TestDifferentialGeneratedChains runs every forgery class, and honest
// batches of every shape, through the light client and the CometBFT
// reference on chaingen chains and requires the same verdicts.
func TestDifferentialGeneratedChains(t *testing.T) {
	c := generatedChain(t, "diff-chain", 4, 30)
	genesis := genesisFromDoc(t, c.Genesis)
	st0, err := GenesisState(genesis)
	if err != nil {
		t.Fatal(err)
	}
	st10, _, err := verifyBoth(t, st0, genBatch(t, c, 1, 10))
	if err != nil {
		t.Fatal(err)
	}
	var refused int
	for name, forge := range forgeryClasses {
		t.Run(name, func(t *testing.T) {
			b := cloneBatch(genBatch(t, c, 11, 20))
			forge(t, &b)
			if _, _, err := verifyBoth(t, st10, b); err != nil {
				refused++
				t.Logf("both refuse: %v", err)
			}
		})
	}
	if refused < len(forgeryClasses)-5 {
		t.Fatalf("only %d of %d forgery classes refused", refused, len(forgeryClasses))
	}
	// Honest batches of every split, replays and gaps from several states.
	states := []State{st0, st10}
	for _, r := range [][2]int64{{1, 1}, {1, 30}, {2, 9}, {10, 10}, {11, 11}, {11, 30}, {12, 20}, {5, 15}} {
		b := genBatch(t, c, r[0], r[1])
		for _, st := range states {
			if _, _, err := verifyBoth(t, st, b); (err == nil) != (r[0] == st.Height+1) {
				t.Fatalf("batch %d..%d from %d: %v", r[0], r[1], st.Height, err)
			}
		}
	}
	// A chain with one validator, whose commits have a single signature.
	one := generatedChain(t, "diff-one", 1, 5)
	st, err := GenesisState(genesisFromDoc(t, one.Genesis))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := verifyBoth(t, st, genBatch(t, one, 1, 5)); err != nil {
		t.Fatal(err)
	}
	b := genBatch(t, one, 1, 5)
	editCommit(t, &b, func(c *cmtproto.Commit) { c.Signatures[0].Signature[0] ^= 1 })
	if _, _, err := verifyBoth(t, st, b); err == nil {
		t.Fatal("forged single signature accepted")
	}
}

// FuzzDifferential mutates honest batches of a generated chain, either
// byte-wise on the encoded header, commit or validator set, or field-wise
// on the decoded commit (where byte flips rarely reach), and requires the
// light client and the CometBFT reference to agree on every result.
func FuzzDifferential(f *testing.F) {
	c := generatedChain(f, "fuzz-diff", 4, 12)
	st0, err := GenesisState(genesisFromDoc(f, c.Genesis))
	if err != nil {
		f.Fatal(err)
	}
	st4, _, err := Verify(st0, genBatch(f, c, 1, 4))
	if err != nil {
		f.Fatal(err)
	}
	var batches []relaywire.Batch
	for _, r := range [][2]int64{{5, 8}, {1, 3}, {5, 5}, {5, 12}} {
		batches = append(batches, genBatch(f, c, r[0], r[1]))
	}
	for mode := range uint8(8) {
		f.Add(uint8(0), mode, uint8(1), uint16(40), uint8(1), []byte{})
		f.Add(uint8(3), mode, uint8(0), uint16(7), uint8(0x80), []byte{0x0a, 0x00})
	}
	f.Fuzz(func(t *testing.T, which, mode, index uint8, pos uint16, value uint8, data []byte) {
		b := cloneBatch(batches[int(which)%len(batches)])
		st := st4
		if which%uint8(len(batches)) == 1 {
			st = st0
		}
		mutateBatch(&b, mode, int(index), int(pos), value, data)
		_, _, _ = verifyBoth(t, st, b)
	})
}

// mutateBatch applies one fuzzer-chosen change to b.
func mutateBatch(b *relaywire.Batch, mode uint8, index, pos int, value uint8, data []byte) {
	blk := &b.Blocks[index%len(b.Blocks)]
	switch mode % 8 {
	case 0:
		flipByte(blk.Header, pos, value)
	case 1:
		flipByte(b.Commit, pos, value)
	case 2:
		blk.Header = splice(blk.Header, pos, data)
	case 3:
		b.Commit = splice(b.Commit, pos, data)
	case 4:
		b.NextValidators = data
	case 5:
		mutateCommitSig(b, index, pos, value, data)
	case 6:
		mutateCommitFields(b, pos, value)
	case 7:
		blk.Parent.Height += int64(int8(value))
		if len(data) > 0 {
			blk.Parent.StateRoot = data
		}
	}
}

func flipByte(b []byte, pos int, value uint8) {
	if len(b) > 0 {
		b[pos%len(b)] ^= max(value, 1)
	}
}

// splice replaces b from pos on with data.
func splice(b []byte, pos int, data []byte) []byte {
	cut := pos % (len(b) + 1)
	return append(b[:cut:cut], data...)
}

// recommit decodes the commit, lets edit change it and encodes it back,
// leaving the batch alone if the commit is not decodable to begin with.
func recommit(b *relaywire.Batch, edit func(c *cmtproto.Commit)) {
	var c cmtproto.Commit
	if c.Unmarshal(b.Commit) != nil {
		return
	}
	edit(&c)
	if raw, err := c.Marshal(); err == nil {
		b.Commit = raw
	}
}

// mutateCommitSig changes one field of one commit signature.
func mutateCommitSig(b *relaywire.Batch, index, pos int, value uint8, data []byte) {
	recommit(b, func(c *cmtproto.Commit) {
		if len(c.Signatures) == 0 {
			return
		}
		s := &c.Signatures[index%len(c.Signatures)]
		switch value % 6 {
		case 0:
			s.BlockIdFlag = cmtproto.BlockIDFlag(pos % 5)
		case 1:
			s.Signature = data
		case 2:
			s.ValidatorAddress = data
		case 3:
			s.Timestamp = s.Timestamp.Add(time.Duration(pos))
		case 4:
			*s = cmtproto.CommitSig{BlockIdFlag: cmtproto.BlockIDFlagAbsent}
		case 5:
			flipByte(s.Signature, pos, uint8(pos>>8))
		}
	})
}

// mutateCommitFields changes the commit's height, round, block id or
// signature count.
func mutateCommitFields(b *relaywire.Batch, pos int, value uint8) {
	recommit(b, func(c *cmtproto.Commit) {
		switch value % 5 {
		case 0:
			c.Height += int64(int8(pos))
		case 1:
			c.Round = int32(int8(pos))
		case 2:
			c.BlockID.PartSetHeader.Total = uint32(pos)
		case 3:
			flipByte(c.BlockID.Hash, pos, uint8(pos>>8))
		case 4:
			if n := pos % (len(c.Signatures) + 2); n <= len(c.Signatures) {
				c.Signatures = c.Signatures[:n]
			} else if len(c.Signatures) > 0 {
				c.Signatures = append(c.Signatures, c.Signatures[0])
			}
		}
	})
}
