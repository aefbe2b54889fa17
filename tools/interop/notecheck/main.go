// Command notecheck checks the ledger's signed artefacts with Go's own
// golang.org/x/mod/sumdb packages, i.e. with software the firm did not get
// from the ledger's authors. It is built in GOPATH mode against Debian's
// golang-golang-x-mod-dev (see ../build.sh); it needs no network and no go.mod.
//
// Usage:
//
//	notecheck note VERIFIER_KEY_FILE NOTE_FILE
//	notecheck VERIFIER_KEY_FILE NOTE_FILE          (same as "note")
//	notecheck bundle VERIFIER_KEY_FILE BUNDLE_ZIP
//	notecheck receipt VERIFIER_KEY_FILE RECEIPT_FILE   (c2sp.org/tlog-proof; receipt.go)
//	notecheck tiles VERIFIER_KEY_FILE DIR [--old OLD_CHECKPOINT_FILE] [--leaves] [all | INDEX...]   (tiles.go)
//
// "note" verifies a C2SP signed note with note.NewVerifier + note.Open, then
// parses its body as a C2SP tlog-checkpoint (origin, size, base64 root) and
// prints
//
//	ok origin=<origin> size=<n> root=<base64>
//
// Exit status: 0 when everything checks, 1 on any failure (message on
// stderr), 2 on usage errors.
//
// "bundle" reads an export bundle (zip): it verifies checkpoint.txt as above,
// then checks every line of entries.jsonl with tlog.CheckRecord (leaf hash =
// tlog.RecordHash(leaf bytes), proof = inclusionProof, at index against the
// checkpoint's size and root), and that each leaf names its own index. It prints
//
//	ok origin=<origin> size=<n> root=<base64> entries=<count>
//
// Further modes are added as new entries in the commands table.
package main

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// command is one notecheck mode: it gets its own arguments and returns the
// line to print on success.
type command struct {
	usage string
	nargs int
	more  bool // nargs is a minimum: further arguments allowed
	run   func(args []string) (string, error)
}

var commands = map[string]command{
	"note":    {usage: "note VERIFIER_KEY_FILE NOTE_FILE", nargs: 2, run: runNote},
	"bundle":  {usage: "bundle VERIFIER_KEY_FILE BUNDLE_ZIP", nargs: 2, run: runBundle},
	"receipt": {usage: "receipt VERIFIER_KEY_FILE RECEIPT_FILE", nargs: 2, run: runReceipt}, // receipt.go
	"tiles":   {usage: "tiles VERIFIER_KEY_FILE DIR [--old OLD_CHECKPOINT_FILE] [--leaves] [all | INDEX...]", nargs: 2, more: true, run: runTiles},
}

func main() {
	args := os.Args[1:]
	name := "note" // default mode: `notecheck VERIFIER_KEY_FILE NOTE_FILE`
	if len(args) > 0 {
		if _, ok := commands[args[0]]; ok {
			name, args = args[0], args[1:]
		}
	}
	cmd := commands[name]
	if len(args) < cmd.nargs || (!cmd.more && len(args) != cmd.nargs) {
		usage()
	}
	out, err := cmd.run(args)
	if err != nil {
		fmt.Fprintf(os.Stderr, "notecheck %s: %v\n", name, err)
		os.Exit(1)
	}
	fmt.Println(out)
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage:")
	for _, c := range commands {
		fmt.Fprintf(os.Stderr, "  notecheck %s\n", c.usage)
	}
	os.Exit(2)
}

// runNote verifies a signed checkpoint note against one verifier key.
func runNote(args []string) (string, error) {
	verifier, err := loadVerifier(args[0])
	if err != nil {
		return "", err
	}
	msg, err := os.ReadFile(args[1])
	if err != nil {
		return "", err
	}
	n, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		return "", fmt.Errorf("note %s: %v", args[1], err)
	}
	cp, err := parseCheckpoint(n.Text)
	if err != nil {
		return "", fmt.Errorf("note %s: %v", args[1], err)
	}
	// The ledger signs with its origin as the key name; a mismatch means the
	// key or the note belongs to another log.
	if cp.origin != verifier.Name() {
		return "", fmt.Errorf("checkpoint origin %q differs from the verifier key name %q", cp.origin, verifier.Name())
	}
	return fmt.Sprintf("ok origin=%s size=%d root=%s", cp.origin, cp.size, base64.StdEncoding.EncodeToString(cp.root)), nil
}

// readVerifierKey reads a verifier key file: one line, optional trailing newline.
func readVerifierKey(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	data = bytes.TrimSuffix(data, []byte("\n"))
	if len(data) == 0 || bytes.ContainsAny(data, "\n\r") {
		return "", fmt.Errorf("verifier key %s: must hold exactly one line", path)
	}
	return string(data), nil
}

// loadVerifier reads the one-line verifier key file at path and makes its
// note.Verifier.
func loadVerifier(path string) (note.Verifier, error) {
	vkey, err := readVerifierKey(path)
	if err != nil {
		return nil, err
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, fmt.Errorf("verifier key %s: %v", path, err)
	}
	return verifier, nil
}

type checkpoint struct {
	origin string
	size   uint64
	root   []byte
}

// parseCheckpoint parses a C2SP tlog-checkpoint body:
//
//	<origin>\n<decimal size>\n<base64 32-byte root>\n[<extension line>\n]...
func parseCheckpoint(text string) (checkpoint, error) {
	if !strings.HasSuffix(text, "\n") {
		return checkpoint{}, errors.New("checkpoint body does not end with a newline")
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 {
		return checkpoint{}, fmt.Errorf("checkpoint body has %d lines, want at least 3 (origin, size, root)", len(lines))
	}
	for i, l := range lines[3:] {
		if l == "" {
			return checkpoint{}, fmt.Errorf("checkpoint extension line %d is empty", i+1)
		}
	}
	origin := lines[0]
	if origin == "" {
		return checkpoint{}, errors.New("checkpoint origin line is empty")
	}
	size, err := strconv.ParseUint(lines[1], 10, 64)
	if err != nil || lines[1] != strconv.FormatUint(size, 10) {
		return checkpoint{}, fmt.Errorf("checkpoint size %q is not a canonical decimal number", lines[1])
	}
	root, err := base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil || len(root) != 32 {
		return checkpoint{}, fmt.Errorf("checkpoint root %q is not base64 of 32 bytes", lines[2])
	}
	return checkpoint{origin: origin, size: size, root: root}, nil
}

// maxBundleFile caps what is read of any one file in a bundle (as the ledger's own verifier does).
const maxBundleFile = 64 << 20

// readBundleFile returns the single file called name in the zip; duplicates are an error.
func readBundleFile(r *zip.Reader, name string) ([]byte, error) {
	var found *zip.File
	for _, f := range r.File {
		if f.Name == name {
			if found != nil {
				return nil, fmt.Errorf("bundle holds %s twice", name)
			}
			found = f
		}
	}
	if found == nil {
		return nil, fmt.Errorf("bundle has no %s", name)
	}
	if found.UncompressedSize64 > maxBundleFile {
		return nil, fmt.Errorf("%s declares %d bytes, over the limit", name, found.UncompressedSize64)
	}
	rc, err := found.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxBundleFile+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	if len(data) > maxBundleFile {
		return nil, fmt.Errorf("%s is over the limit", name)
	}
	return data, nil
}

type bundleEntry struct {
	Index          *int64   `json:"index"`
	Leaf           string   `json:"leaf"`
	InclusionProof []string `json:"inclusionProof"`
}

// runBundle checks every inclusion proof of an export bundle with tlog.CheckRecord.
func runBundle(args []string) (string, error) {
	verifier, err := loadVerifier(args[0])
	if err != nil {
		return "", err
	}
	zr, err := zip.OpenReader(args[1])
	if err != nil {
		return "", fmt.Errorf("bundle %s: %v", args[1], err)
	}
	defer zr.Close()
	msg, err := readBundleFile(&zr.Reader, "checkpoint.txt")
	if err != nil {
		return "", err
	}
	n, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		return "", fmt.Errorf("checkpoint.txt: %v", err)
	}
	cp, err := parseCheckpoint(n.Text)
	if err != nil {
		return "", fmt.Errorf("checkpoint.txt: %v", err)
	}
	if cp.origin != verifier.Name() {
		return "", fmt.Errorf("checkpoint origin %q differs from the verifier key name %q", cp.origin, verifier.Name())
	}
	var root tlog.Hash
	copy(root[:], cp.root)
	lines, err := readBundleFile(&zr.Reader, "entries.jsonl")
	if err != nil {
		return "", err
	}
	count := 0
	for i, line := range bytes.Split(bytes.TrimSuffix(lines, []byte("\n")), []byte("\n")) {
		var e bundleEntry
		if err := json.Unmarshal(line, &e); err != nil || e.Index == nil {
			return "", fmt.Errorf("entries.jsonl line %d: not an entry object", i+1)
		}
		leaf, err := base64.StdEncoding.Strict().DecodeString(e.Leaf)
		if err != nil || len(leaf) < 25 {
			return "", fmt.Errorf("entry %d: leaf is not base64 of a leaf", *e.Index)
		}
		if seq := binary.BigEndian.Uint64(leaf[17:25]); *e.Index < 0 || seq != uint64(*e.Index) {
			return "", fmt.Errorf("entry %d: the leaf names seq %d", *e.Index, seq)
		}
		proof := make(tlog.RecordProof, len(e.InclusionProof))
		for j, p := range e.InclusionProof {
			h, err := base64.StdEncoding.Strict().DecodeString(p)
			if err != nil || len(h) != tlog.HashSize {
				return "", fmt.Errorf("entry %d: proof hash %d is not base64 of 32 bytes", *e.Index, j)
			}
			copy(proof[j][:], h)
		}
		if err := tlog.CheckRecord(proof, int64(cp.size), root, *e.Index, tlog.RecordHash(leaf)); err != nil {
			return "", fmt.Errorf("entry %d: tlog.CheckRecord: %v", *e.Index, err)
		}
		count++
	}
	if count == 0 {
		return "", errors.New("entries.jsonl holds no entries")
	}
	return fmt.Sprintf("ok origin=%s size=%d root=%s entries=%d", cp.origin, cp.size, base64.StdEncoding.EncodeToString(cp.root), count), nil
}
