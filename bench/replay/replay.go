// Package replay measures how fast a fresh worker runtime catches up with a
// chain: blocks and enclave messages verified and folded per second, and
// the runtime's peak memory at several points of the chain, to show it stays
// flat as the chain grows (Phala's enclaves took days and ran out of memory
// syncing).
//
// The chain is generated (internal/chaingen): real ed25519 validator
// signatures, real header hashes and app hashes, with registry and message
// traffic on every block. Batches go through the relay API's decoder and
// runtime.Apply exactly as a relay's would; generating them is not timed.
package replay

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"time"

	cmtjson "github.com/cometbft/cometbft/libs/json"

	"github.com/phala-go/phala/attest"
	"github.com/phala-go/phala/chain/registry/registryapi"
	"github.com/phala-go/phala/codec"
	"github.com/phala-go/phala/crypto/address"
	"github.com/phala-go/phala/internal/chaingen"
	"github.com/phala-go/phala/mq"
	"github.com/phala-go/phala/network"
	"github.com/phala-go/phala/tee/sim"
	"github.com/phala-go/phala/worker/api"
	wrt "github.com/phala-go/phala/worker/enclave"
	"github.com/phala-go/phala/worker/lightclient"
)

// Options configure a run.
type Options struct {
	Blocks         int // chain length (default 10,000)
	MessagesPerBlk int // egress messages republished per block (default 10)
	Nodes          int // registered nodes sending them (default 100)
	Validators     int // validator set size (default 4)
	Batch          int // headers per batch, one commit each (default 500)
	Home           string
	Progress       io.Writer
}

func (o Options) withDefaults() Options {
	if o.Blocks <= 0 {
		o.Blocks = 10_000
	}
	if o.MessagesPerBlk <= 0 {
		o.MessagesPerBlk = 10
	}
	if o.Nodes <= 0 {
		o.Nodes = 100
	}
	if o.Validators <= 0 {
		o.Validators = 4
	}
	if o.Batch <= 0 {
		o.Batch = 500
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	return o
}

// Sample is what the runtime retains after a number of blocks: the live
// heap above the loaded chain's after a collection, and the size of its
// state (what a checkpoint seals).
type Sample struct {
	Blocks        int    `json:"blocks"`
	LiveHeapBytes uint64 `json:"live_heap_bytes"`
	StateBytes    int    `json:"state_bytes"`
}

// Result is what a run measured.
type Result struct {
	Blocks          int           `json:"blocks"`
	Messages        int           `json:"messages"`
	Elapsed         time.Duration `json:"elapsed_ns"`
	BlocksPerSecond float64       `json:"blocks_per_second"`
	MsgsPerSecond   float64       `json:"messages_per_second"`
	// Memory is sampled at each quarter of the chain (the collections it
	// takes are not timed).
	Memory         []Sample `json:"memory"`
	StateHash      string   `json:"state_hash"`
	CheckpointSize int      `json:"checkpoint_bytes"`
}

// Run generates the chain, then replays it into a fresh runtime.
func Run(o Options) (Result, error) {
	o = o.withDefaults()
	fmt.Fprintf(o.Progress, "generating %d blocks (%d validators, %d messages per block)...\n", o.Blocks, o.Validators, o.MessagesPerBlk)
	bodies, msgs, genesis, err := generate(o)
	if err != nil {
		return Result{}, err
	}
	platform, err := sim.New(sim.WithDir(o.Home), sim.WithWarnings(io.Discard))
	if err != nil {
		return Result{}, err
	}
	rt, err := wrt.Open(wrt.Config{Home: o.Home, Genesis: genesis, Platform: platform, CheckpointEvery: 1000, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		return Result{}, err
	}
	defer rt.Close()

	runtime.GC()
	base := liveHeap()
	res := Result{Messages: msgs}
	quarter := max(1, len(bodies)/4)
	var elapsed time.Duration
	for i, body := range bodies {
		start := time.Now()
		b, err := api.DecodeBatch(body)
		if err != nil {
			return res, err
		}
		if err := rt.Apply(b); err != nil {
			return res, fmt.Errorf("batch %d: %w", i, err)
		}
		elapsed += time.Since(start)
		if (i+1)%quarter == 0 || i == len(bodies)-1 {
			s, err := sample(rt, base)
			if err != nil {
				return res, err
			}
			res.Memory = append(res.Memory, s)
			fmt.Fprintf(o.Progress, "  %6d blocks  %.0f blocks/s  live heap +%.1f MiB  state %d bytes\n", s.Blocks, float64(s.Blocks)/elapsed.Seconds(), float64(s.LiveHeapBytes)/(1<<20), s.StateBytes)
		}
	}
	res.Elapsed = elapsed
	res.Blocks = int(rt.Status().Height)
	res.BlocksPerSecond = float64(res.Blocks) / res.Elapsed.Seconds()
	res.MsgsPerSecond = float64(res.Messages) / res.Elapsed.Seconds()
	res.StateHash = fmt.Sprintf("%x", rt.StateHash())
	res.CheckpointSize = res.Memory[len(res.Memory)-1].StateBytes
	return res, nil
}

func sample(rt *wrt.Runtime, base uint64) (Sample, error) {
	st, err := rt.State()
	if err != nil {
		return Sample{}, err
	}
	runtime.GC()
	live := liveHeap()
	return Sample{Blocks: int(rt.Status().Height), LiveHeapBytes: live - min(base, live), StateBytes: len(codec.MustMarshal(st))}, nil
}

func liveHeap() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// generate builds the chain and encodes its batches as a relay would send
// them. msgs counts the messages the runtime will have folded: every block
// but the last is final after the replay.
func generate(o Options) (bodies [][]byte, msgs int, genesis *lightclient.Genesis, err error) {
	appState, err := network.DevAppState(false)
	if err != nil {
		return nil, 0, nil, err
	}
	c, err := chaingen.New("phala-replay", o.Validators, appState, []byte("genesis app hash"))
	if err != nil {
		return nil, 0, nil, err
	}
	t := newTraffic(c.ChainID, o.Nodes)
	for h := 1; h <= o.Blocks; h++ {
		m := t.block(int64(h), o.MessagesPerBlk)
		if h < o.Blocks {
			msgs += len(m)
		}
		if err := c.Add(m); err != nil {
			return nil, 0, nil, err
		}
	}
	for from := int64(1); from <= c.Height(); from += int64(o.Batch) {
		b, err := c.Batch(from, min(from+int64(o.Batch)-1, c.Height()))
		if err != nil {
			return nil, 0, nil, err
		}
		bodies = append(bodies, codec.MustMarshal(b))
	}
	// The runtime reads the genesis as a worker reads genesis.json.
	raw, err := cmtjson.Marshal(c.Genesis)
	if err != nil {
		return nil, 0, nil, err
	}
	if genesis, err = lightclient.ParseGenesis(raw); err != nil {
		return nil, 0, nil, err
	}
	return bodies, msgs, genesis, nil
}

// traffic makes each block's messages: the first blocks register Nodes
// nodes, then every block carries heartbeats those nodes sent (republished
// egress, signed, accepted), and every 50th block deactivates and
// re-registers one.
type traffic struct {
	chainID string
	keys    []ed25519.PrivateKey
	seqs    []uint64
	next    int
}

func newTraffic(chainID string, nodes int) *traffic {
	t := &traffic{chainID: chainID, seqs: make([]uint64, nodes)}
	for i := range nodes {
		seed := sha256.Sum256(binary.BigEndian.AppendUint64([]byte("replay node"), uint64(i)))
		t.keys = append(t.keys, ed25519.NewKeyFromSeed(seed[:]))
	}
	return t
}

func (t *traffic) block(h int64, perBlock int) []mq.Message {
	var out []mq.Message
	if int(h) <= len(t.keys) {
		return append(out, t.nodeEvent(int(h)-1, "registered"))
	}
	if h%50 == 0 {
		i := int(h/50) % len(t.keys)
		out = append(out, t.nodeEvent(i, "deactivated"), t.nodeEvent(i, "registered"))
	}
	for range perBlock - len(out) {
		i := t.next % len(t.keys)
		t.next++
		t.seqs[i]++
		e := mq.Egress{Version: mq.EgressVersion, Sender: t.keys[i].Public().(ed25519.PublicKey), Seq: t.seqs[i], Topic: registryapi.TopicHeartbeat, Payload: codec.MustMarshal(registryapi.Heartbeat{Height: h - 1})}
		out = append(out, mq.Republish(mq.SignEgress(t.chainID, t.keys[i], e), mq.OutcomeAccepted))
	}
	return out
}

func (t *traffic) nodeEvent(i int, kind string) mq.Message {
	pub := t.keys[i].Public().(ed25519.PublicKey)
	n := registryapi.Node{Role: registryapi.RoleWorker, IdentityKey: pub, EncryptionKey: make([]byte, 1216), Operator: address.FromPublicKey(pub), Attestation: attest.Verified{}, Active: kind == "registered"}
	ev := registryapi.NodeEvent{Kind: kind, Node: n}
	if kind == "deactivated" {
		ev.Reason = "replay traffic"
	}
	return mq.Message{Topic: registryapi.TopicNode, Payload: codec.MustMarshal(ev)}
}
