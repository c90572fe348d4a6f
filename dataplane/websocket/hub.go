package websocket

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	ws "github.com/coder/websocket"
	"github.com/go-logr/logr"

	"github.com/turnpike-io/turnpike/dataplane/reqctx"
	"github.com/turnpike-io/turnpike/dataplane/table"
)

// Limits of connections (AWS's quotas by default).
type Limits struct {
	// MaxFrameBytes and MaxMessageBytes: a larger frame or message closes
	// the connection with 1009. Also the bound of an @connections POST.
	MaxFrameBytes, MaxMessageBytes int64
	// IdleTimeout closes a connection whose client sent nothing (no message,
	// no ping) for this long; MaxLifetime closes any connection this old.
	IdleTimeout, MaxLifetime time.Duration
	// WriteTimeout bounds one message to a client (a client that does not
	// read loses its connection).
	WriteTimeout time.Duration
}

// AWS's defaults.
const (
	DefaultMaxFrameBytes   = 32 << 10
	DefaultMaxMessageBytes = 128 << 10
	DefaultIdleTimeout     = 10 * time.Minute
	DefaultMaxLifetime     = 2 * time.Hour
	DefaultWriteTimeout    = 10 * time.Second
)

func (l Limits) withDefaults() Limits {
	if l.MaxFrameBytes <= 0 {
		l.MaxFrameBytes = DefaultMaxFrameBytes
	}
	if l.MaxMessageBytes <= 0 {
		l.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = DefaultIdleTimeout
	}
	if l.MaxLifetime <= 0 {
		l.MaxLifetime = DefaultMaxLifetime
	}
	if l.WriteTimeout <= 0 {
		l.WriteTimeout = DefaultWriteTimeout
	}
	return l
}

// Options configure a Hub.
type Options struct {
	Limits Limits
	// Dispatcher runs events through the request chain.
	Dispatcher Dispatcher
	// Advertise is the address (host:port of the HTTP listener) other
	// replicas reach this one at; its hash is the tag in this replica's
	// connection ids. Empty: a random tag (no peers).
	Advertise string
	// Peers lists the other replicas (nil: none; every foreign id is 410).
	Peers Peers
	// Observer receives connection and event metrics (nil: none).
	Observer Observer
	Logger   logr.Logger
	// Now is the clock of signature checks (nil: time.Now); tests move it.
	Now func() time.Time
}

// Observer receives the WebSocket metrics (dataplane/metrics implements it).
type Observer interface {
	// Opened and Closed count open connections per Api.
	Opened(namespace, api string)
	Closed(namespace, api string)
	// Event counts one event of a connection: its type and outcome ("ok",
	// "client_error", "integration_error").
	Event(namespace, api, stage, eventType, outcome string)
	// Management counts one @connections call by operation and status.
	Management(op string, status int)
}

// Hub holds the open connections of this replica.
type Hub struct {
	limits   Limits
	dispatch func(*Event) Outcome
	self     tag
	peers    *peerSet
	obs      Observer
	log      logr.Logger
	now      func() time.Time
	client   *http.Client

	mu    sync.RWMutex
	conns map[string]*Conn
	// handshaking holds the connections whose $connect allowed them while
	// their 101 answer is written: the client may call @connections as soon
	// as it reads the 101, before Accept registered the connection, so get
	// waits for the handshake to end instead of answering 410.
	handshaking map[string]*Conn
	// stopping is set by Shutdown: no connection is accepted after it.
	stopping atomic.Bool
	// readers counts the connections' reader goroutines (Shutdown waits).
	readers sync.WaitGroup
	stop    chan struct{}
	swept   sync.WaitGroup
	// sweeping starts the sweeper with the first connection.
	sweeping sync.Once
}

// NewHub returns a Hub. Its idle and lifetime sweeper starts with the
// first connection; Shutdown stops it.
func NewHub(o Options) *Hub {
	h := &Hub{
		limits: o.Limits.withDefaults(),
		self:   tagOf(o.Advertise),
		obs:    o.Observer,
		log:    o.Logger,
		now:    o.Now,
		conns:  map[string]*Conn{},
		stop:   make(chan struct{}),

		handshaking: map[string]*Conn{},
		client:      forwardingClient(),
	}
	if h.now == nil {
		h.now = time.Now
	}
	h.peers = newPeerSet(o.Peers, o.Advertise)
	h.dispatch = func(ev *Event) Outcome {
		o.Dispatcher.Dispatch(context.Background(), ev)
		h.observe(ev, &ev.Outcome)
		return ev.Outcome
	}
	return h
}

// Limits returns the limits in force.
func (h *Hub) Limits() Limits { return h.limits }

// Open returns how many connections are open.
func (h *Hub) Open() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.conns)
}

// Connecting starts the CONNECT event of an upgrade request: a connection
// with a new id that is not in the registry yet (so @connections answers
// 410 for it until Accept). The caller fills the chain's facts (Namespace,
// Api, Stage, Path, Authz, ...) before Accept.
func (h *Hub) Connecting(r *http.Request) *Event {
	c := &Conn{
		ID:          newID(h.self),
		ConnectedAt: h.now(),
		Host:        r.Host,
		Path:        r.URL.Path,
		RawPath:     r.URL.RawPath,
		RawQuery:    r.URL.RawQuery,
		Header:      handshakeless(r.Header),
		RemoteAddr:  r.RemoteAddr,
		SourceIP:    reqctx.SourceIP(r.RemoteAddr),
		UserAgent:   r.UserAgent(),
		TLS:         r.TLS,
		hub:         h,
		handshaken:  make(chan struct{}),
	}
	return &Event{Conn: c, Type: Connect}
}

// ErrStopping refuses an upgrade while the gateway shuts down.
var ErrStopping = errors.New("the gateway is shutting down")

// Accept completes the upgrade of ev's connection after $connect allowed
// it: the handshake answer (with subprotocol when the client offered it),
// then the connection is registered and its reader started. On an error
// the client got an HTTP answer (or its connection is gone) and nothing was
// registered.
func (h *Hub) Accept(w http.ResponseWriter, r *http.Request, ev *Event, subprotocol string) error {
	if h.stopping.Load() {
		return ErrStopping
	}
	c := ev.Conn
	mw := &meteredWriter{ResponseWriter: w, limit: h.limits.MaxFrameBytes}
	opts := &ws.AcceptOptions{
		InsecureSkipVerify: true, // like AWS: any Origin; $connect's authorizer decides
		CompressionMode:    ws.CompressionDisabled,
		OnPingReceived: func(context.Context, []byte) bool {
			c.touch(time.Now())
			return true
		},
	}
	if subprotocol != "" {
		opts.Subprotocols = []string{subprotocol}
	}
	h.mu.Lock()
	h.handshaking[c.ID] = c
	h.mu.Unlock()
	conn, err := ws.Accept(mw, r, opts)
	if err != nil {
		h.handshaken(c, false)
		return err
	}
	conn.SetReadLimit(h.limits.MaxMessageBytes)
	c.ws, c.meter = conn, mw.conn
	c.touch(h.now())
	stopping := h.handshaken(c, true)
	if stopping { // Shutdown ran while $connect did: close at once
		c.markClosing(CloseGoingAway, reasonShutdown)
		_ = conn.Close(CloseGoingAway, reasonShutdown)
		h.dispatch(&Event{Conn: c, Type: Disconnect, DisconnectStatus: CloseGoingAway, DisconnectReason: reasonShutdown})
		return nil
	}
	if h.obs != nil {
		h.obs.Opened(c.Namespace, c.Api)
	}
	h.sweeping.Do(func() {
		h.swept.Add(1)
		go h.sweep()
	})
	go c.serve()
	return nil
}

// handshaken ends c's handshake: registered when it succeeded and the hub
// is not stopping (then its reader counts for Shutdown), and anyone waiting
// in get is released. It reports whether the hub was stopping.
func (h *Hub) handshaken(c *Conn, ok bool) (stopping bool) {
	h.mu.Lock()
	delete(h.handshaking, c.ID)
	stopping = h.stopping.Load() // read under mu: Shutdown waits only for readers added before it
	if ok && !stopping {
		h.conns[c.ID] = c
		h.readers.Add(1)
	}
	h.mu.Unlock()
	close(c.handshaken)
	return stopping
}

// handshakeWait bounds how long an @connections call waits for a
// connection whose 101 answer is being written.
const handshakeWait = 5 * time.Second

// get returns the open connection id, or nil. A connection in its
// handshake is waited for (at most handshakeWait).
func (h *Hub) get(id string) *Conn {
	h.mu.RLock()
	c, pending := h.conns[id], h.handshaking[id]
	h.mu.RUnlock()
	if c != nil || pending == nil {
		return c
	}
	select {
	case <-pending.handshaken:
	case <-time.After(handshakeWait):
		return nil
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.conns[id]
}

// unregister takes c out of the registry (once it starts closing).
func (h *Hub) unregister(c *Conn) {
	h.mu.Lock()
	_, ok := h.conns[c.ID]
	delete(h.conns, c.ID)
	h.mu.Unlock()
	if ok && h.obs != nil {
		h.obs.Closed(c.Namespace, c.Api)
	}
}

// snapshot lists the open connections.
func (h *Hub) snapshot() []*Conn {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]*Conn, 0, len(h.conns))
	for _, c := range h.conns {
		out = append(out, c)
	}
	return out
}

// Swapped closes (1001, then $disconnect on prev, the table that served
// them) the connections whose Api or stage t no longer serves as a
// WEBSOCKET Api; the others carry on and route their next message with t.
// It never blocks on a client.
func (h *Hub) Swapped(prev, t *table.Table) {
	for _, c := range h.snapshot() {
		a := t.ApiNamed(c.Namespace, c.Api)
		if a == nil || a.Protocol != table.ProtocolWebSocket || a.Stage(c.Stage) == nil {
			if prev != nil {
				c.retired.CompareAndSwap(nil, prev)
			}
			c.shut(CloseGoingAway, reasonApiRemoved)
		}
	}
}

// Shutdown closes every connection with 1001 and waits, at most until ctx
// is done, for their $disconnect to run. No connection is accepted after.
func (h *Hub) Shutdown(ctx context.Context) error {
	h.mu.Lock()
	already := h.stopping.Swap(true)
	h.mu.Unlock()
	if already {
		return nil
	}
	h.sweeping.Do(func() {}) // a sweeper that never started never will
	close(h.stop)
	h.swept.Wait()
	for _, c := range h.snapshot() {
		c.shut(CloseGoingAway, reasonShutdown)
	}
	done := make(chan struct{})
	go func() { h.readers.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return errors.New("websocket: connections still closing when the drain timeout passed")
	}
}

// sweep closes idle and too old connections until Shutdown.
func (h *Hub) sweep() {
	defer h.swept.Done()
	every := min(h.limits.IdleTimeout, h.limits.MaxLifetime) / 4
	every = max(min(every, 30*time.Second), 20*time.Millisecond)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
		}
		now := h.now()
		for _, c := range h.snapshot() {
			switch {
			case now.Sub(c.ConnectedAt) >= h.limits.MaxLifetime:
				c.shut(CloseGoingAway, reasonLifetime)
			case now.Sub(c.LastActiveAt()) >= h.limits.IdleTimeout:
				c.shut(CloseGoingAway, reasonIdle)
			}
		}
	}
}

// Observe counts a CONNECT event once $connect decided (other events are
// counted as they are dispatched).
func (h *Hub) Observe(ev *Event) { h.observe(ev, &ev.Outcome) }

// observe counts an event's outcome.
func (h *Hub) observe(ev *Event, out *Outcome) {
	if h.obs == nil {
		return
	}
	outcome := "ok"
	switch {
	case out.Error != "" && out.Status >= 500:
		outcome = "integration_error"
	case out.Error != "" || out.Gone:
		outcome = "client_error"
	}
	c := ev.Conn
	h.obs.Event(c.Namespace, c.Api, c.Stage, string(ev.Type), outcome)
}

// handshakeless copies h without the fields of the WebSocket handshake,
// which are the gateway's business, not the integration's.
func handshakeless(h http.Header) http.Header {
	out := h.Clone()
	for _, k := range HandshakeHeaders {
		delete(out, k)
	}
	return out
}

// HandshakeHeaders are the request fields of the WebSocket handshake that
// integrations never see (Sec-WebSocket-Protocol is not among them: $connect
// chooses the subprotocol).
var HandshakeHeaders = []string{"Connection", "Upgrade", "Sec-Websocket-Key", "Sec-Websocket-Version", "Sec-Websocket-Extensions"}

// CheckUpgrade says why r is not a WebSocket opening handshake (RFC 6455
// §4.2.1), nil when it is one: checked before $connect runs, so $connect
// never sees a connection that cannot open.
func CheckUpgrade(r *http.Request) error {
	switch {
	case r.Method != http.MethodGet:
		return errors.New("open a connection with a GET WebSocket handshake (Upgrade: websocket)")
	case !hasToken(r.Header, "Upgrade", "websocket"):
		return errors.New("the request has no Upgrade: websocket header; use a WebSocket client (ws:// or wss://)")
	case !hasToken(r.Header, "Connection", "upgrade"):
		return errors.New("the request's Connection header does not contain Upgrade")
	case r.Header.Get("Sec-Websocket-Version") != "13":
		return errors.New("the handshake needs Sec-WebSocket-Version: 13")
	case r.Header.Get("Sec-Websocket-Key") == "":
		return errors.New("the handshake has no Sec-WebSocket-Key")
	}
	return nil
}

// hasToken reports whether a comma-separated header holds token (any case).
func hasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for tok := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), token) {
				return true
			}
		}
	}
	return false
}

// IDs lists the ids of the open connections (admin and tests).
func (h *Hub) IDs() []string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]string, 0, len(h.conns))
	for id := range h.conns {
		out = append(out, id)
	}
	return out
}
