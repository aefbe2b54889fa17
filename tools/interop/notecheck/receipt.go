package main

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// runReceipt checks a c2sp.org/tlog-proof@v1 receipt (docs/FORMAT.md,
// "Receipts") with Go's note.Open and tlog.CheckRecord: the checkpoint note is
// signed by the verifier key (witnesses' cosignature lines are unknown keys to
// note.Open, which ignores them), the extra line holds the leaf, the leaf names
// the index as its seq, and the proof leads from tlog.RecordHash(leaf) at the
// index to the checkpoint's root. It prints
//
//	ok origin=<origin> size=<n> index=<i> other-signatures=<count>
func runReceipt(args []string) (string, error) {
	verifier, err := loadVerifier(args[0])
	if err != nil {
		return "", err
	}
	data, err := os.ReadFile(args[1])
	if err != nil {
		return "", err
	}
	blank := bytes.Index(data, []byte("\n\n"))
	if blank < 0 {
		return "", errors.New("receipt: no empty line before the checkpoint")
	}
	lines := strings.Split(string(data[:blank]), "\n")
	if lines[0] != "c2sp.org/tlog-proof@v1" || len(lines) < 3 || !strings.HasPrefix(lines[1], "extra ") {
		return "", errors.New("receipt: not c2sp.org/tlog-proof@v1 with an extra line")
	}
	leaf, err := base64.StdEncoding.Strict().DecodeString(strings.TrimPrefix(lines[1], "extra "))
	if err != nil || len(leaf) < 25 {
		return "", errors.New("receipt: the extra data is not base64 of a leaf")
	}
	indexText := strings.TrimPrefix(lines[2], "index ")
	index, err := strconv.ParseInt(indexText, 10, 64)
	if !strings.HasPrefix(lines[2], "index ") || err != nil || index < 0 || strconv.FormatInt(index, 10) != indexText {
		return "", errors.New("receipt: line 3 is not index <decimal>")
	}
	if seq := binary.BigEndian.Uint64(leaf[17:25]); seq != uint64(index) {
		return "", fmt.Errorf("receipt: the leaf names seq %d, the index is %d", seq, index)
	}
	proof := make(tlog.RecordProof, len(lines)-3)
	for j, line := range lines[3:] {
		h, err := base64.StdEncoding.Strict().DecodeString(line)
		if err != nil || len(h) != tlog.HashSize {
			return "", fmt.Errorf("receipt: proof line %d is not base64 of 32 bytes", j+1)
		}
		copy(proof[j][:], h)
	}
	n, err := note.Open(data[blank+2:], note.VerifierList(verifier))
	if err != nil {
		return "", fmt.Errorf("receipt checkpoint: %v", err)
	}
	cp, err := parseCheckpoint(n.Text)
	if err != nil {
		return "", fmt.Errorf("receipt checkpoint: %v", err)
	}
	if cp.origin != verifier.Name() {
		return "", fmt.Errorf("checkpoint origin %q differs from the verifier key name %q", cp.origin, verifier.Name())
	}
	var root tlog.Hash
	copy(root[:], cp.root)
	if err := tlog.CheckRecord(proof, int64(cp.size), root, index, tlog.RecordHash(leaf)); err != nil {
		return "", fmt.Errorf("receipt: tlog.CheckRecord: %v", err)
	}
	return fmt.Sprintf("ok origin=%s size=%d index=%d other-signatures=%d", cp.origin, cp.size, index,
		len(n.UnverifiedSigs)), nil
}
