package dataplane

import (
	"encoding/hex"
	"math/rand/v2"
)

// assignRequestID is the request id step: the gateway's own id replaces
// any x-request-id a client sent, and the backend sees the same id.
func (x *exchange) assignRequestID() bool {
	x.id = newRequestID()
	id := []string{x.id} // shared read-only by both maps; len = cap, so an append copies
	x.w.Header()["X-Request-Id"] = id
	x.r.Header["X-Request-Id"] = id // the backend sees the same id
	return true
}

// newRequestID returns 32 hex characters of randomness. It uses the
// runtime's per-thread ChaCha8 generator (seeded from the OS), which is
// unpredictable enough for correlation ids and costs no system call or lock
// on the hot path, unlike reading crypto/rand for every request.
func newRequestID() string {
	var raw [16]byte
	a, b := rand.Uint64(), rand.Uint64() //nolint:gosec // G404: an id for correlation, not a secret
	for i := range 8 {
		raw[i] = byte(a >> (8 * i))
		raw[8+i] = byte(b >> (8 * i))
	}
	var out [32]byte
	hex.Encode(out[:], raw[:])
	return string(out[:])
}
