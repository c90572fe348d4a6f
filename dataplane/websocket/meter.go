package websocket

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// The frame limit. coder/websocket limits whole messages (SetReadLimit) but
// not single frames, and AWS limits both (32 KB frames, 128 KB messages).
// frameMeter watches the bytes the WebSocket library reads from the socket
// and stops at the first data frame whose header announces more than the
// limit. It only reads the frame headers (RFC 6455 §5.2: two bytes, an
// optional 2- or 8-byte length, an optional 4-byte mask key) to know where
// the next header starts; it never changes a byte, and the library still
// parses every frame itself.

// errFrameTooBig is returned by the meter's Read once a frame over the
// limit was announced.
var errFrameTooBig = errors.New("frame too big")

// frameMeter counts its way through the frames of a byte stream.
type frameMeter struct {
	limit int64
	// hdr collects a frame header that spans reads; need is its full size
	// once known (0 while the first two bytes are missing).
	hdr  [14]byte
	have int
	need int
	// skip is what remains of the current frame's payload.
	skip int64
	// tripped is set once a frame over the limit was seen; announced is
	// that frame's length.
	tripped   atomic.Bool
	announced int64
}

// scan consumes p and returns how many bytes of it come before the header
// of a frame over the limit (len(p) when there is none; 0 when that
// header began in an earlier read, which then passed in part: the library
// gets an incomplete header and never a byte of the payload).
func (m *frameMeter) scan(p []byte) int {
	i := 0
	for i < len(p) {
		if m.skip > 0 {
			n := int(min(m.skip, int64(len(p)-i)))
			m.skip -= int64(n)
			i += n
			continue
		}
		start := i - m.have // where this header began (negative: in an earlier read)
		m.hdr[m.have] = p[i]
		m.have++
		i++
		if m.have == 2 {
			m.need = headerSize(m.hdr[0], m.hdr[1])
		}
		if m.have < 2 || m.have < m.need {
			continue
		}
		length := payloadLength(m.hdr[:m.have])
		data := m.hdr[0]&0x0f < 8 // text, binary, continuation; control frames are <= 125 bytes
		m.have, m.need = 0, 0
		if data && m.limit > 0 && length > m.limit {
			m.tripped.Store(true)
			m.announced = length
			return max(start, 0)
		}
		m.skip = length
	}
	return len(p)
}

// headerSize is the size of a frame header from its first two bytes.
func headerSize(_, b1 byte) int {
	n := 2
	switch b1 & 0x7f {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if b1&0x80 != 0 {
		n += 4 // mask key
	}
	return n
}

// payloadLength reads the payload length of a complete header.
func payloadLength(h []byte) int64 {
	switch l := h[1] & 0x7f; l {
	case 126:
		return int64(binary.BigEndian.Uint16(h[2:4]))
	case 127:
		return int64(binary.BigEndian.Uint64(h[2:10]) & (1<<63 - 1))
	default:
		return int64(l)
	}
}

// meteredConn is the hijacked connection as the WebSocket library sees it:
// reads pass through the meter.
type meteredConn struct {
	net.Conn
	// pending are bytes the HTTP server had buffered past the handshake.
	pending []byte
	meter   frameMeter
	// cut is set when a Read stopped before an oversized frame: the next
	// Read fails.
	cut bool
}

func (c *meteredConn) Read(p []byte) (int, error) {
	if c.cut || c.meter.tripped.Load() {
		return 0, fmt.Errorf("%w: %d bytes announced, the limit is %d", errFrameTooBig, c.meter.announced, c.meter.limit)
	}
	var n int
	var err error
	if len(c.pending) > 0 {
		n = copy(p, c.pending)
		c.pending = c.pending[n:]
	} else {
		n, err = c.Conn.Read(p)
	}
	if ok := c.meter.scan(p[:n]); ok < n {
		c.cut = true
		return ok, nil
	}
	return n, err
}

// meteredWriter hands coder/websocket a hijacked connection that reads
// through a frameMeter. Everything else is the wrapped writer's.
type meteredWriter struct {
	http.ResponseWriter
	limit int64
	conn  *meteredConn
}

// Hijack takes the connection over from the HTTP server, moves the bytes
// the server had buffered behind the meter, and clears the deadlines the
// server set for reading the request.
func (w *meteredWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	_ = nc.SetDeadline(time.Time{})
	buffered, _ := brw.Peek(brw.Reader.Buffered())
	mc := &meteredConn{Conn: nc, pending: bytes.Clone(buffered), meter: frameMeter{limit: w.limit}}
	brw.Reader.Reset(io.MultiReader()) // nothing left buffered: the library reads through mc
	w.conn = mc
	return mc, brw, nil
}
