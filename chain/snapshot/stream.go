package snapshot

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/klauspost/compress/zstd"

	"github.com/phala-go/phala/chain/store"
	"github.com/phala-go/phala/codec"
)

// Stats say what a snapshot cost: the tree nodes, the encoded records
// before compression and the chunks written.
type Stats struct {
	Nodes    int64
	RawBytes int64
	Bytes    int64
	Chunks   int
}

// chunkWriter cuts a byte stream into files of ChunkSize bytes in dir,
// hashing each.
type chunkWriter struct {
	dir    string
	f      *os.File
	buf    *bufio.Writer
	n      int
	hashes [][]byte
	total  int64
	hasher interface {
		io.Writer
		Sum([]byte) []byte
		Reset()
	}
}

func newChunkWriter(dir string) *chunkWriter {
	return &chunkWriter{dir: dir, hasher: sha256.New()}
}

// ChunkFile names chunk i in a snapshot directory.
func ChunkFile(dir string, i int) string { return filepath.Join(dir, fmt.Sprintf("chunk-%06d", i)) }

func (w *chunkWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		if w.f == nil {
			if err := w.open(); err != nil {
				return written, err
			}
		}
		k := min(len(p), ChunkSize-w.n)
		if _, err := w.buf.Write(p[:k]); err != nil {
			return written, err
		}
		w.hasher.Write(p[:k])
		w.n += k
		written += k
		p = p[k:]
		if w.n == ChunkSize {
			if err := w.closeChunk(); err != nil {
				return written, err
			}
		}
	}
	return written, nil
}

func (w *chunkWriter) open() error {
	f, err := os.Create(ChunkFile(w.dir, len(w.hashes)))
	if err != nil {
		return fmt.Errorf("snapshot chunk: %w", err)
	}
	w.f, w.buf, w.n = f, bufio.NewWriterSize(f, 1<<20), 0
	w.hasher.Reset()
	return nil
}

func (w *chunkWriter) closeChunk() error {
	if w.f == nil {
		return nil
	}
	err := errors.Join(w.buf.Flush(), w.f.Close())
	w.hashes = append(w.hashes, w.hasher.Sum(nil))
	w.total += int64(w.n)
	w.f = nil
	if err != nil {
		return fmt.Errorf("snapshot chunk: %w", err)
	}
	return nil
}

// abort closes an open chunk file after a failure.
func (w *chunkWriter) abort() {
	if w.f != nil {
		w.f.Close()
		w.f = nil
	}
}

// writeChunks writes exp's nodes as compressed chunks into dir and returns
// their hashes.
func writeChunks(ctx context.Context, dir string, exp *store.Export) ([][]byte, Stats, error) {
	var st Stats
	cw := newChunkWriter(dir)
	defer cw.abort()
	// One goroutine, a fixed level: the output is the same on every node.
	zw, err := zstd.NewWriter(cw, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedDefault))
	if err != nil {
		return nil, st, fmt.Errorf("snapshot compressor: %w", err)
	}
	var lenBuf [binary.MaxVarintLen64]byte
	err = exp.Each(ctx, func(n store.Node) error {
		rec, err := codec.Marshal(n)
		if err != nil {
			return fmt.Errorf("encode tree node: %w", err)
		}
		k := binary.PutUvarint(lenBuf[:], uint64(len(rec)))
		if _, err := zw.Write(lenBuf[:k]); err != nil {
			return err
		}
		if _, err := zw.Write(rec); err != nil {
			return err
		}
		st.Nodes++
		st.RawBytes += int64(k + len(rec))
		return nil
	})
	if err = errors.Join(err, zw.Close()); err != nil {
		return nil, st, err
	}
	if err := cw.closeChunk(); err != nil {
		return nil, st, err
	}
	st.Bytes, st.Chunks = cw.total, len(cw.hashes)
	return cw.hashes, st, nil
}

// readNodes decodes the record stream of a snapshot's concatenated chunks
// and hands each node to add. It trusts nothing: every record is bounded
// and must be canonical, and a stream that ends inside a record fails.
func readNodes(ctx context.Context, chunks io.Reader, add func(store.Node) error) (int64, error) {
	zr, err := zstd.NewReader(chunks, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(64<<20))
	if err != nil {
		return 0, fmt.Errorf("snapshot decompressor: %w", err)
	}
	defer zr.Close()
	br := bufio.NewReaderSize(zr, 1<<20)
	var count int64
	var rec []byte
	for {
		if err := ctx.Err(); err != nil {
			return count, err
		}
		size, err := binary.ReadUvarint(br)
		if errors.Is(err, io.EOF) {
			return count, nil
		}
		if err != nil {
			return count, fmt.Errorf("record %d: %w", count, err)
		}
		if size == 0 || size > MaxRecord {
			return count, fmt.Errorf("record %d: size %d outside 1..%d", count, size, MaxRecord)
		}
		if uint64(cap(rec)) < size {
			rec = make([]byte, size)
		}
		rec = rec[:size]
		if _, err := io.ReadFull(br, rec); err != nil {
			return count, fmt.Errorf("record %d: %w", count, err)
		}
		var n store.Node
		if err := codec.UnmarshalCanonical(rec, &n); err != nil {
			return count, fmt.Errorf("record %d: %w", count, err)
		}
		if err := add(n); err != nil {
			return count, err
		}
		count++
	}
}
