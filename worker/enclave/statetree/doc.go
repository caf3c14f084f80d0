// Package statetree keeps one contract's key/value state outside the
// enclave's memory: an authenticated, encrypted, copy-on-write Merkle
// B+-tree over a store of opaque pages (PageStore: get, put, delete and
// list blobs by id), which the worker keeps in files it cannot trust.
//
// Pages. Every node of the tree is one page, encoded in canonical CBOR.
// Its id is HMAC-SHA256 of that encoding under the contract's state MAC
// key, and a parent names each child by that id, so the root id
// authenticates the whole tree: a page that was edited, swapped with
// another, rolled back to an older version or deleted is refused on read
// with ErrTampered or ErrMissing, naming the page. The blob stored is the
// encoding sealed with AES-256-GCM under the contract's state encryption
// key, with the page id as additional data and its first 12 bytes as the
// nonce. Both keys derive from the contract key (crypto/derive,
// ContractKey.StateKeys), so keys and values are unreadable outside the
// enclave, and the root a worker publishes in its results reveals nothing
// about the contents (a guess of the state cannot be checked against it
// without the key).
//
// Determinism. The tree's shape is a function of the operations applied
// (same operations in the same order give the same pages) and sealing is
// deterministic (the nonce comes from the page's keyed hash: a synthetic
// IV; equal plaintexts give equal ciphertexts, which is the point), so
// every worker of a cluster holds byte-identical page files and publishes
// identical roots. Equal pages getting equal ids also shares unchanged
// subtrees between versions: a new version writes only the pages on the
// paths it changed.
//
// Writes. Set and Delete change private copies of the nodes on their
// paths in memory; Commit (at the end of a block) seals and puts each
// changed page once, children before parents, and returns the new root. A
// committed root is an immutable snapshot: Snapshot reads it safely from
// any number of goroutines, while the tree goes on changing.
//
// Memory. Clean nodes are read through a Cache bounded in bytes (an LRU
// shared by the trees of a worker), so memory does not grow with the
// state: only the pages one block changes are held until its Commit.
//
// Garbage. A new version leaves the pages only older versions reached.
// Those the tree created since the last checkpoint (Checkpointed) are in
// no checkpoint: Commit deletes them as soon as a version replaces them,
// so the versions between two checkpoints leave nothing behind. The rest
// wait for Sweep, which deletes every page that neither the committed
// root, the roots the caller still needs (the checkpoints kept on disk)
// nor an open snapshot reaches. Marking reads only internal pages (a
// level-1 node names its leaves), so a sweep costs a listing of the store
// and a read of about one page in fifty.
//
// What the host still sees: the number and sizes of pages, and which
// pages a block reads and writes (access patterns), not their contents.
package statetree
