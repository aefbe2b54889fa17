// The "tiles" mode: reads a c2sp.org/tlog-tiles directory written by
// `ledger publish --tiles DIR` the way a remote reader would, with Go's
// tlog.TileHashReader (which authenticates every tile it reads against the
// checkpoint's root), and checks inclusion and consistency proofs built from it.
//
//	notecheck tiles VERIFIER_KEY_FILE DIR [--old OLD_CHECKPOINT_FILE] [--leaves] [all | INDEX...]
//
// Without indexes it checks a sample: the first, middle and last records and
// a few pseudo-random ones. "all" checks every record. --old checks that the
// tree of DIR/checkpoint contains the tree of an older checkpoint
// (tlog.ProveTree + tlog.CheckTree). With --leaves (or whenever
// DIR/tile/entries exists) each checked record's entry bundle is read too:
// every entry in it must hash (tlog.RecordHash) to its level-0 tile hash.
//
// Go's tiles are the same as C2SP's (height 8, a level-L tile holds the
// tree hashes of level 8·L); only the paths differ: Go's tile/8/L/N[.p/W] is
// C2SP's tile/L/N[.p/W], and Go's data tiles (tile/8/data/N) are C2SP's
// entry bundles (tile/entries/N), which are big-endian uint16 length-prefixed
// entries rather than Go's newline-separated records.
//
// notecheck does not rely on TileHashReader's authentication alone: in
// golang.org/x/mod v0.7.0 (Debian's) its "authenticate full tiles against
// their parents" loop starts at len(stx), the number of right-edge subtrees,
// instead of the number of distinct tiles those need, so some fetched tiles
// are returned unchecked (a flipped byte in tile/0/001 of a 1,100-record tree
// comes back as data). Every checked record's proof therefore goes through
// tlog.CheckRecord against the checkpoint's root, which covers every hash of
// the tile the record is in (they all feed the siblings on its path); entry
// bundles are compared only with tiles checked that way.
package main

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const tileHeight = 8

// dirTiles is a tlog.TileReader over a C2SP tile directory on disk.
type dirTiles struct {
	dir   string
	read  int               // distinct tile files read from disk
	cache map[string][]byte // raw file bytes: TileHashReader re-authenticates them on every use
}

func (d *dirTiles) Height() int { return tileHeight }

// c2spPath maps Go's tile path (tile/8/L/... or tile/8/data/...) to C2SP's.
func c2spPath(t tlog.Tile) string {
	p := strings.TrimPrefix(t.Path(), fmt.Sprintf("tile/%d/", tileHeight))
	if t.L == -1 {
		p = "entries/" + strings.TrimPrefix(p, "data/")
	}
	return "tile/" + p
}

func (d *dirTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	data := make([][]byte, len(tiles))
	for i, t := range tiles {
		p := c2spPath(t)
		b, ok := d.cache[p]
		if !ok {
			var err error
			if b, err = os.ReadFile(filepath.Join(d.dir, filepath.FromSlash(p))); err != nil {
				return nil, err
			}
			d.cache[p] = b
			d.read++
		}
		data[i] = b
	}
	return data, nil
}

func (d *dirTiles) SaveTiles([]tlog.Tile, [][]byte) {}

// tilesArgs are the parsed arguments of the tiles mode.
type tilesArgs struct {
	keyFile, dir, old string
	leaves, all       bool
	indexes           []int64
}

func parseTilesArgs(args []string) (tilesArgs, error) {
	a := tilesArgs{keyFile: args[0], dir: args[1]}
	for i := 2; i < len(args); i++ {
		switch arg := args[i]; {
		case arg == "--old" && i+1 < len(args):
			a.old = args[i+1]
			i++
		case arg == "--leaves":
			a.leaves = true
		case arg == "all":
			a.all = true
		default:
			n, err := strconv.ParseInt(arg, 10, 64)
			if err != nil || n < 0 {
				return a, fmt.Errorf("%q is not a record index", arg)
			}
			a.indexes = append(a.indexes, n)
		}
	}
	return a, nil
}

// openTreeNote verifies a checkpoint file with the key and returns its tree.
func openTreeNote(verifier note.Verifier, path string) (checkpoint, tlog.Tree, error) {
	msg, err := os.ReadFile(path)
	if err != nil {
		return checkpoint{}, tlog.Tree{}, err
	}
	n, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		return checkpoint{}, tlog.Tree{}, fmt.Errorf("%s: %v", path, err)
	}
	cp, err := parseCheckpoint(n.Text)
	if err != nil {
		return checkpoint{}, tlog.Tree{}, fmt.Errorf("%s: %v", path, err)
	}
	if cp.origin != verifier.Name() {
		return checkpoint{}, tlog.Tree{}, fmt.Errorf("%s: origin %q is not the key's %q", path, cp.origin, verifier.Name())
	}
	tree := tlog.Tree{N: int64(cp.size)}
	copy(tree.Hash[:], cp.root)
	return cp, tree, nil
}

func runTiles(args []string) (string, error) {
	a, err := parseTilesArgs(args)
	if err != nil {
		return "", err
	}
	verifier, err := loadVerifier(a.keyFile)
	if err != nil {
		return "", err
	}
	cp, tree, err := openTreeNote(verifier, filepath.Join(a.dir, "checkpoint"))
	if err != nil {
		return "", err
	}
	if tree.N == 0 {
		return fmt.Sprintf("ok origin=%s size=0 (nothing to prove)", cp.origin), nil
	}
	tiles := &dirTiles{dir: a.dir, cache: map[string][]byte{}}
	hashes := tlog.TileHashReader(tree, tiles)
	indexes := a.indexes
	if a.all {
		indexes = nil
		for i := int64(0); i < tree.N; i++ {
			indexes = append(indexes, i)
		}
	} else if len(indexes) == 0 {
		indexes = sampleIndexes(tree.N)
	}
	leaves := a.leaves
	if _, err := os.Stat(filepath.Join(a.dir, "tile", "entries")); err == nil {
		leaves = true
	}
	bundles := map[int64]bool{}
	for _, i := range indexes {
		if err := checkRecordFromTiles(hashes, tree, i); err != nil {
			return "", err
		}
		if leaves && !bundles[i>>tileHeight] {
			if err := checkBundle(a.dir, hashes, tree, i>>tileHeight); err != nil {
				return "", err
			}
			bundles[i>>tileHeight] = true
		}
	}
	out := fmt.Sprintf("ok origin=%s size=%d root=%s records=%d bundles=%d tiles-read=%d", cp.origin, tree.N,
		base64.StdEncoding.EncodeToString(tree.Hash[:]), len(indexes), len(bundles), tiles.read)
	if a.old != "" {
		oldSize, err := checkConsistency(verifier, a.old, hashes, tree)
		if err != nil {
			return "", err
		}
		out += fmt.Sprintf(" consistent-with=%d", oldSize)
	}
	return out, nil
}

// sampleIndexes: first, middle, last and five pseudo-random records (seeded by the size: reproducible).
func sampleIndexes(n int64) []int64 {
	r := rand.New(rand.NewSource(n))
	out := []int64{0, n / 2, n - 1}
	for i := 0; i < 5; i++ {
		out = append(out, r.Int63n(n))
	}
	return out
}

// checkRecordFromTiles proves record i from the tiles and checks the proof against the checkpoint.
func checkRecordFromTiles(hashes tlog.HashReader, tree tlog.Tree, i int64) error {
	if i >= tree.N {
		return fmt.Errorf("record %d is not in the tree of size %d", i, tree.N)
	}
	proof, err := tlog.ProveRecord(tree.N, i, hashes)
	if err != nil {
		return fmt.Errorf("record %d: tlog.ProveRecord: %v", i, err)
	}
	leaf, err := hashes.ReadHashes([]int64{tlog.StoredHashIndex(0, i)})
	if err != nil {
		return fmt.Errorf("record %d: reading its hash: %v", i, err)
	}
	if err := tlog.CheckRecord(proof, tree.N, tree.Hash, i, leaf[0]); err != nil {
		return fmt.Errorf("record %d: tlog.CheckRecord: %v", i, err)
	}
	return nil
}

// checkBundle reads entry bundle n and checks that every entry hashes to its (authenticated) level-0 tile hash.
func checkBundle(dir string, hashes tlog.HashReader, tree tlog.Tree, n int64) error {
	start := n << tileHeight
	width := tree.N - start
	if width > 1<<tileHeight {
		width = 1 << tileHeight
	}
	t := tlog.Tile{H: tileHeight, L: -1, N: n, W: int(width)}
	data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(c2spPath(t))))
	if err != nil {
		return fmt.Errorf("entry bundle: %v", err)
	}
	entries, err := splitBundle(data)
	if err != nil {
		return fmt.Errorf("entry bundle %s: %v", c2spPath(t), err)
	}
	if int64(len(entries)) != width {
		return fmt.Errorf("entry bundle %s holds %d entries, want %d", c2spPath(t), len(entries), width)
	}
	indexes := make([]int64, width)
	for i := range indexes {
		indexes[i] = tlog.StoredHashIndex(0, start+int64(i))
	}
	want, err := hashes.ReadHashes(indexes)
	if err != nil {
		return fmt.Errorf("entry bundle %s: reading tile hashes: %v", c2spPath(t), err)
	}
	for i, e := range entries {
		if tlog.RecordHash(e) != want[i] {
			return fmt.Errorf("entry bundle %s: entry %d does not hash to record %d's tile hash", c2spPath(t), i, start+int64(i))
		}
	}
	return nil
}

// splitBundle splits big-endian uint16 length-prefixed entries; trailing bytes are an error.
func splitBundle(data []byte) ([][]byte, error) {
	var out [][]byte
	for len(data) > 0 {
		if len(data) < 2 {
			return nil, errors.New("truncated length prefix")
		}
		n := int(binary.BigEndian.Uint16(data))
		if len(data) < 2+n {
			return nil, errors.New("truncated entry")
		}
		out = append(out, data[2:2+n])
		data = data[2+n:]
	}
	return out, nil
}

// checkConsistency proves from the tiles that the published tree contains the older checkpoint's tree.
func checkConsistency(verifier note.Verifier, oldPath string, hashes tlog.HashReader, tree tlog.Tree) (int64, error) {
	_, old, err := openTreeNote(verifier, oldPath)
	if err != nil {
		return 0, err
	}
	if old.N > tree.N {
		return 0, fmt.Errorf("old checkpoint (size %d) is larger than the published one (%d)", old.N, tree.N)
	}
	if old.N == 0 {
		return 0, nil
	}
	proof, err := tlog.ProveTree(tree.N, old.N, hashes)
	if err != nil {
		return 0, fmt.Errorf("tlog.ProveTree %d -> %d: %v", old.N, tree.N, err)
	}
	if err := tlog.CheckTree(proof, tree.N, tree.Hash, old.N, old.Hash); err != nil {
		return 0, fmt.Errorf("tlog.CheckTree %d -> %d: %v", old.N, tree.N, err)
	}
	return old.N, nil
}
