package websocket

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
)

// Connection ids: base64url (no padding) of a 6-byte replica tag followed
// by 9 random bytes, 20 characters. The tag names the owner replica: it is
// the first bytes of the SHA-256 of the address the replica advertises to
// its peers, so any replica that knows the peers' addresses can tell where
// a connection lives without asking anyone. The random part makes ids
// unguessable (72 bits); knowing an id still gives nothing without a
// signature.
const (
	tagBytes    = 6
	randomBytes = 9
	idBytes     = tagBytes + randomBytes
	// IDLength is the length of a connection id.
	IDLength = (idBytes*8 + 5) / 6
)

var idEncoding = base64.RawURLEncoding

// tag is a replica tag.
type tag [tagBytes]byte

// tagOf is the tag of the replica that advertises addr; "" gets a random
// tag (a replica without peers).
func tagOf(addr string) tag {
	var t tag
	if addr == "" {
		_, _ = rand.Read(t[:]) // crypto/rand.Read never fails (Go 1.24+)
		return t
	}
	sum := sha256.Sum256([]byte(addr))
	copy(t[:], sum[:])
	return t
}

// newID returns a new connection id owned by t.
func newID(t tag) string {
	var raw [idBytes]byte
	copy(raw[:], t[:])
	_, _ = rand.Read(raw[tagBytes:])
	return idEncoding.EncodeToString(raw[:])
}

// ownerOf returns the tag inside id; ok is false for a string that is not
// a connection id of ours.
func ownerOf(id string) (t tag, ok bool) {
	if len(id) != IDLength {
		return t, false
	}
	var raw [idBytes]byte
	if n, err := idEncoding.Decode(raw[:], []byte(id)); err != nil || n != idBytes {
		return t, false
	}
	copy(t[:], raw[:tagBytes])
	return t, true
}

// newMessageID returns an id for one message (AWS messageId).
func newMessageID() string {
	var raw [12]byte
	_, _ = rand.Read(raw[:])
	return idEncoding.EncodeToString(raw[:])
}
