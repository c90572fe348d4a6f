package websocket

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	ws "github.com/coder/websocket"

	"github.com/turnpike-io/turnpike/dataplane/auth"
	"github.com/turnpike-io/turnpike/dataplane/table"
)

// Close codes the gateway sends (RFC 6455 §7.4.1).
const (
	CloseNormal      = 1000
	CloseGoingAway   = 1001
	CloseTooBig      = 1009
	closeNoStatus    = 1005
	closeAbnormal    = 1006
	reasonGoingAway  = "Going away"
	reasonDeleted    = "Connection deleted"
	reasonIdle       = "Idle timeout"
	reasonLifetime   = "Connection lifetime exceeded"
	reasonShutdown   = "Server shutting down"
	reasonApiRemoved = "Api or stage no longer served"
)

// Conn is one WebSocket connection of a WEBSOCKET Api: what its events need
// to know about the upgrade request, fixed once accepted, and its state.
type Conn struct {
	// ID is the connection id (ids.go).
	ID string
	// ConnectedAt is when the upgrade request arrived.
	ConnectedAt time.Time
	// Namespace, Api and Stage name the Api and stage the connection opened
	// on; an event whose request resolves elsewhere closes the connection.
	Namespace, Api, Stage string
	// Host, Path, RawPath (as in url.URL: the path with the stage prefix or
	// base path) and RawQuery of the upgrade request; events are requests to
	// the same place.
	Host, Path, RawPath, RawQuery string
	// Header is the upgrade request's header without the WebSocket
	// handshake fields (CONNECT and DISCONNECT events carry it).
	Header http.Header
	// RemoteAddr, UserAgent and SourceIP identify the client; TLS is the
	// upgrade's TLS state (nil on plain HTTP).
	RemoteAddr, UserAgent, SourceIP string
	TLS                             *tls.ConnectionState
	// Authz is the $connect authorizer's answer (nil without one): every
	// later event carries its principal and context.
	Authz *auth.Result
	// APIKeyID is the $connect request's API key id ("" without one).
	APIKeyID string
	// Canary is the canary pick of the upgrade request; later events keep it.
	Canary bool

	hub *Hub
	// handshaken is closed once Accept wrote the 101 answer (or failed to).
	handshaken chan struct{}
	ws         *ws.Conn
	meter      *meteredConn
	lastActive atomic.Int64 // unix nanoseconds

	// retired is the last table that served the connection's Api, set when
	// a swap removed it: its $disconnect runs there.
	retired atomic.Pointer[table.Table]

	closeOnce   sync.Once
	closing     atomic.Bool
	closeCode   int
	closeReason string
}

// LastActiveAt is when the client last sent a message or ping.
func (c *Conn) LastActiveAt() time.Time { return time.Unix(0, c.lastActive.Load()) }

func (c *Conn) touch(now time.Time) { c.lastActive.Store(now.UnixNano()) }

// shut starts a close the gateway decided on: the code and reason are
// recorded for $disconnect, the close handshake runs in the background (it
// waits up to 5 s for the client), and the reader then ends. Only the first
// close of a connection counts.
func (c *Conn) shut(code int, reason string) {
	if c.markClosing(code, reason) {
		go func() { _ = c.ws.Close(ws.StatusCode(code), reason) }()
	}
}

// markClosing records why the connection closes and takes it out of the
// registry; it reports false when that happened before.
func (c *Conn) markClosing(code int, reason string) bool {
	first := false
	c.closeOnce.Do(func() {
		c.closeCode, c.closeReason = code, reason
		c.closing.Store(true)
		c.hub.unregister(c)
		first = true
	})
	return first
}

// serve is the connection's reader: it reads messages one at a time and
// dispatches each, until the connection ends; then $disconnect runs.
func (c *Conn) serve() {
	h := c.hub
	defer h.readers.Done()
	var err error
	for {
		var typ ws.MessageType
		var data []byte
		typ, data, err = c.ws.Read(context.Background())
		if err != nil {
			break
		}
		now := time.Now()
		c.touch(now)
		c.message(data, typ == ws.MessageBinary)
	}
	c.finish(err)
}

// message dispatches one message and answers the client: the integration's
// answer when the route returns it, an error frame when the gateway could
// not deliver the message, nothing otherwise.
func (c *Conn) message(data []byte, binary bool) {
	h := c.hub
	ev := &Event{Conn: c, Type: Message, MessageID: newMessageID(), Body: data, Binary: binary}
	out := h.dispatch(ev)
	switch {
	case out.Gone:
		c.shut(CloseGoingAway, reasonApiRemoved)
	case out.Error != "":
		c.reply(errorMessage(c.ID, &out))
	case out.Reply && len(out.Body) > 0:
		c.reply(out.Body)
	}
}

// reply sends a message to the client; one that cannot be written within
// the write timeout (a client that does not read) closes the connection.
func (c *Conn) reply(b []byte) {
	if err := c.send(b, !isText(b)); err != nil {
		c.shut(CloseGoingAway, reasonGoingAway)
	}
}

// send writes one message to the client, bounded by the write timeout.
func (c *Conn) send(b []byte, binary bool) error {
	typ := ws.MessageText
	if binary {
		typ = ws.MessageBinary
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.hub.limits.WriteTimeout)
	defer cancel()
	return c.ws.Write(ctx, typ, b)
}

// finish runs once the reader stopped: it completes the close, leaves the
// registry and runs $disconnect with how the connection ended.
func (c *Conn) finish(err error) {
	h := c.hub
	c.markClosing(c.endCause(err)) // unless the gateway closed it first
	_ = c.ws.CloseNow()
	h.dispatch(&Event{Conn: c, Type: Disconnect, DisconnectStatus: c.closeCode, DisconnectReason: c.closeReason, Table: c.retired.Load()})
}

// endCause says how a connection ended from the reader's last error, unless
// the gateway closed it (shut recorded why), and closes oversized ones with
// 1009 first.
func (c *Conn) endCause(err error) (int, string) {
	switch {
	case c.meter != nil && c.meter.meter.tripped.Load():
		if c.markClosing(CloseTooBig, "Frame too big") {
			_ = c.ws.Close(CloseTooBig, "Frame too big")
		}
	case errors.Is(err, ws.ErrMessageTooBig):
		c.markClosing(CloseTooBig, "Message too big") // the library sent the close frame already
	}
	if c.closing.Load() {
		return c.closeCode, c.closeReason
	}
	if ce, ok := errors.AsType[ws.CloseError](err); ok {
		code := int(ce.Code)
		if code == int(ws.StatusNoStatusRcvd) {
			code = closeNoStatus
		}
		return code, ce.Reason
	}
	return closeAbnormal, ""
}
