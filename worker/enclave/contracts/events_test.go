package contracts_test

import (
	"testing"

	"github.com/phala-go/phala/chain/contracts/contractsapi"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/worker/enclave/contracts"
)

// TestAccountEvents: the token's transfer events name both parties; each
// reads its own, by contract, in pages after a cursor; a stranger reads
// none; failed commands leave none; the events survive a checkpoint.
func TestAccountEvents(t *testing.T) {
	w := newWorld(t)
	bob, carol := address.Module("bob"), address.Module("carol")
	const gas = 200_000_000
	dir := pageDir(t)
	m := contracts.New(w.vm, dir)
	w.block(m, 1, registryapi.RoleWorker, w.setup(`{"supply":1000}`)...)
	w.block(m, 2, registryapi.RoleWorker,
		w.command(1, w.deployer, "transfer", transfer(bob, 10), gas),
		w.command(2, bob, "transfer", transfer(carol, 1_000_000), gas), // reverts: no event
		w.command(3, w.deployer, "transfer", transfer(carol, 5), gas),
		w.command(4, bob, "transfer", transfer(carol, 2), gas),
	)
	seqs := func(r []uint64) []uint64 { return r }
	for _, tc := range []struct {
		name     string
		account  address.Address
		contract contractsapi.Hash
		after    uint64
		limit    int
		want     []uint64 // command seqs
		more     bool
	}{
		{"deployer", w.deployer, contractsapi.Hash{}, 0, 0, seqs([]uint64{1, 3}), false},
		{"bob", bob, contractsapi.Hash{}, 0, 0, seqs([]uint64{1, 4}), false},
		{"carol, this contract", carol, w.id, 0, 0, seqs([]uint64{3, 4}), false},
		{"carol, another contract", carol, contractsapi.Hash{1}, 0, 0, nil, false},
		{"a page of one", carol, contractsapi.Hash{}, 0, 1, seqs([]uint64{3}), true},
		{"stranger", address.Module("mallory"), contractsapi.Hash{}, 0, 0, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := m.EventsFor(tc.account, tc.contract, tc.after, tc.limit)
			var got []uint64
			for _, e := range r.Events {
				if e.Contract != w.id || e.Topic != "token.transfer" || e.Height != 2 || len(e.Data) == 0 {
					t.Fatalf("event %+v", e)
				}
				got = append(got, e.Seq)
			}
			if len(got) != len(tc.want) || r.More != tc.more || r.Oldest != 1 {
				t.Fatalf("events of seqs %v (more %v, oldest %d), want %v (more %v)", got, r.More, r.Oldest, tc.want, tc.more)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("events of seqs %v, want %v", got, tc.want)
				}
			}
		})
	}
	// The next page starts after the cursor.
	first := m.EventsFor(carol, contractsapi.Hash{}, 0, 1)
	next := m.EventsFor(carol, contractsapi.Hash{}, first.Events[0].Index, 1)
	if len(next.Events) != 1 || next.Events[0].Seq != 4 || next.More {
		t.Fatalf("second page %+v", next)
	}
	restored := contracts.New(w.vm, dir)
	if err := restored.UnmarshalState(m.MarshalState()); err != nil {
		t.Fatal(err)
	}
	if r := restored.EventsFor(bob, contractsapi.Hash{}, 0, 0); len(r.Events) != 2 {
		t.Fatalf("after a checkpoint: %+v", r)
	}
}

// TestUploadDropped: when the chain drops an unfinished upload, the
// worker forgets its chunks.
func TestUploadDropped(t *testing.T) {
	w := newWorld(t)
	up := address.Module("uploader")
	m := newModule(w)
	chunk := contractsapi.CodeChunk{Uploader: up, CodeHash: w.codeHash, Size: uint64(len(w.code)), Chunk: w.code[:100]}
	w.block(m, 1, registryapi.RoleWorker, msg(contractsapi.TopicCode, chunk))
	var st contracts.State
	if err := codec.Unmarshal(m.MarshalState(), &st); err != nil || len(st.Uploads) != 1 {
		t.Fatalf("uploads %d (%v)", len(st.Uploads), err)
	}
	w.block(m, 2, registryapi.RoleWorker, msg(contractsapi.TopicUploadDropped, contractsapi.UploadDropped{Uploader: up, CodeHash: contractsapi.Hash{9}}))
	if err := codec.Unmarshal(m.MarshalState(), &st); err != nil || len(st.Uploads) != 1 {
		t.Fatalf("another upload's drop: uploads %d (%v)", len(st.Uploads), err)
	}
	w.block(m, 3, registryapi.RoleWorker, msg(contractsapi.TopicUploadDropped, contractsapi.UploadDropped{Uploader: up, CodeHash: w.codeHash}))
	if err := codec.Unmarshal(m.MarshalState(), &st); err != nil || len(st.Uploads) != 0 {
		t.Fatalf("after the drop: uploads %d (%v)", len(st.Uploads), err)
	}
}
