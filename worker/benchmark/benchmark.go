// Package benchmark is the worker's performance benchmark: a fixed,
// deterministic workload run and timed inside the enclave, whose rate is
// the performance score P the worker reports to the chain (egress
// compute.benchmark) and the economy scales stakes and rewards by.
//
// The workload is the same on every machine: from a fixed seed it walks a
// 1 MiB table, hashing a 4 KiB chunk chosen by the previous digest with
// SHA-256, mixing integers and writing the result back, so each step
// depends on the last (no step can be skipped or run in parallel) and
// touches memory, the hash unit and the integer pipeline. Its digest after
// n steps is fixed (the tests pin it): the code measured is the code that
// runs. Only its duration depends on the machine, which is the point.
package benchmark

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"hash"
	"math/bits"
	"time"
)

const (
	tableSize = 1 << 20
	chunkSize = 4 << 10
	chunks    = tableSize / chunkSize
	// unitsPerScore: a score of 1 is this many steps a second. One core of
	// a 2020s server does about 400,000 steps a second, a score near
	// 2,800, of the order of Phala's; the economy's least score (50) is
	// a machine fifty times slower.
	unitsPerScore = 150
)

// seed starts every workload alike.
var seed = sha256.Sum256([]byte("phala/benchmark/v1"))

// Workload is the benchmark's state; the zero value is not usable: New.
type Workload struct {
	hash  hash.Hash
	table []byte
	state [32]byte
	steps uint64
}

// New is the workload at its start: the table filled from the seed.
func New() *Workload {
	w := &Workload{hash: sha256.New(), table: make([]byte, tableSize), state: seed}
	block := seed
	for off := 0; off < tableSize; off += len(block) {
		block = sha256.Sum256(block[:])
		copy(w.table[off:], block[:])
	}
	return w
}

// Step runs one unit of work.
func (w *Workload) Step() {
	x := binary.LittleEndian.Uint64(w.state[0:])
	y := binary.LittleEndian.Uint64(w.state[8:])
	read := int(x%chunks) * chunkSize
	h := w.hash
	h.Reset()
	h.Write(w.state[:])
	h.Write(w.table[read : read+chunkSize])
	h.Sum(w.state[:0])
	// Integer mixing (a 64-bit LCG and rotations), written back into
	// another chunk: the next steps read what this one wrote.
	a := binary.LittleEndian.Uint64(w.state[16:])
	for i := range 64 {
		a = a*6364136223846793005 + y
		y = bits.RotateLeft64(y^a, 17+i%13)
	}
	write := int(y%chunks)*chunkSize + int(a%(chunkSize/8))*8
	binary.LittleEndian.PutUint64(w.table[write:], a^x)
	binary.LittleEndian.PutUint64(w.state[24:], a)
	w.steps++
}

// Steps is how many steps have run.
func (w *Workload) Steps() uint64 { return w.steps }

// Digest is the workload's state: the same after the same number of steps
// on every machine.
func (w *Workload) Digest() [32]byte { return w.state }

// Result is one measurement.
type Result struct {
	Score   uint64
	Steps   uint64
	Elapsed time.Duration
}

// ErrClock reports a clock that did not move forward during a measurement.
var ErrClock = errors.New("benchmark: the clock did not advance")

// batch is how many steps run between readings of the clock.
const batch = 256

// stalled is how many batches (tens of milliseconds) a clock may stand
// still before the measurement gives up.
const stalled = 64

// windows is how many slices a measurement is cut into; the fastest
// counts, so a burst of another process on the machine costs the worker
// one slice, not its score.
const windows = 5

// Measure runs the workload for at least d, reading the clock now between
// batches, and returns the score of its fastest fifth: steps per second
// over unitsPerScore, rounded down.
func Measure(d time.Duration, now func() time.Time) (Result, error) {
	w := New()
	var best Result
	for range windows {
		start, steps := now(), w.Steps()
		var elapsed time.Duration
		for n := 0; n == 0 || elapsed < d/windows; n++ {
			if n == stalled && elapsed <= 0 {
				return Result{}, ErrClock
			}
			for range batch {
				w.Step()
			}
			elapsed = now().Sub(start)
		}
		if elapsed <= 0 {
			return Result{}, ErrClock
		}
		r := Result{Score: score(w.Steps()-steps, elapsed), Steps: w.Steps() - steps, Elapsed: elapsed}
		if r.Score >= best.Score {
			best = r
		}
	}
	return best, nil
}

// score is steps/elapsed in steps a second, over unitsPerScore.
func score(steps uint64, elapsed time.Duration) uint64 {
	hi, lo := bits.Mul64(steps, uint64(time.Second))
	if hi >= uint64(elapsed) {
		return ^uint64(0)
	}
	perSecond, _ := bits.Div64(hi, lo, uint64(elapsed))
	return perSecond / unitsPerScore
}
