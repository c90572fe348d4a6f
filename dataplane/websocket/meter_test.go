package websocket

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// frameBytes encodes a frame header (masked or not) and payload.
func frameBytes(opcode byte, n int, masked bool) []byte {
	b := []byte{0x80 | opcode}
	m := byte(0)
	if masked {
		m = 0x80
	}
	switch {
	case n < 126:
		b = append(b, m|byte(n))
	case n <= 0xffff:
		b = append(b, m|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, m|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	if masked {
		b = append(b, 9, 8, 7, 6)
	}
	return append(b, make([]byte, n)...)
}

// The meter finds every frame boundary however the stream is split into
// reads, and stops before the payload of the first data frame over the
// limit (its header may have passed in part, in an earlier read); control
// frames and frames at the limit pass.
func TestFrameMeterStopsBeforeTheFirstOversizedFrame(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	const limit = 300
	for round := range 300 {
		var stream []byte
		want := -1
		for i := range 1 + rng.IntN(12) {
			n := []int{0, 1, 125, 126, 127, 299, 300, 65535, 65536}[rng.IntN(9)]
			op := []byte{1, 2, 0, 9, 10}[rng.IntN(5)]
			if op >= 8 {
				n = min(n, 125)
			}
			if want < 0 && op < 8 && n > limit {
				want = len(stream)
			}
			stream = append(stream, frameBytes(op, n, i%2 == 0)...)
		}
		m := frameMeter{limit: limit}
		passed := 0
		for rest := stream; len(rest) > 0 && !m.tripped.Load(); {
			k := 1 + rng.IntN(min(len(rest), 700))
			passed += m.scan(rest[:k])
			rest = rest[k:]
		}
		switch {
		case want < 0 && (m.tripped.Load() || passed != len(stream)):
			t.Fatalf("round %d: tripped on a stream without an oversized frame (passed %d of %d)", round, passed, len(stream))
		case want >= 0 && (!m.tripped.Load() || passed >= want+14): // a header split across reads may have passed in part; never its payload
			t.Fatalf("round %d: passed %d bytes, the oversized frame starts at %d (tripped %v)", round, passed, want, m.tripped.Load())
		}
	}
}
