package websocket

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// Peers lists the other replicas of the gateway: the host:port each
// advertises (its HTTP listener). Serve mode reads them from the replica
// Leases (controllers/cluster), standalone mode from --websocket-peers.
type Peers interface {
	Addresses(ctx context.Context) ([]string, error)
}

// StaticPeers is a fixed list of peer addresses.
type StaticPeers []string

// Addresses returns the list.
func (p StaticPeers) Addresses(context.Context) ([]string, error) { return p, nil }

// ForwardedHeader marks an @connections call a replica forwarded to the
// connection's owner. The owner never forwards such a call again; a client
// that sends it only gives up forwarding for itself.
const ForwardedHeader = "X-Turnpike-Forwarded-Connection"

// peerSet finds the replica that owns a tag among the peers.
type peerSet struct {
	src  Peers
	self string

	mu   sync.Mutex
	tags map[string]tag // address -> tag, memoised
}

func newPeerSet(src Peers, self string) *peerSet {
	return &peerSet{src: src, self: self, tags: map[string]tag{}}
}

// lookup returns the address of the peer whose tag is t.
func (p *peerSet) lookup(ctx context.Context, t tag) (string, bool) {
	if p.src == nil {
		return "", false
	}
	addrs, err := p.src.Addresses(ctx)
	if err != nil {
		return "", false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, a := range addrs {
		if a == p.self {
			continue
		}
		at, ok := p.tags[a]
		if !ok {
			at = tagOf(a)
			p.tags[a] = at
		}
		if at == t {
			return a, true
		}
	}
	return "", false
}

// forwardingClient is the HTTP client of forwarded calls: no proxy from the
// environment, bounded time, its own small pool.
func forwardingClient() *http.Client {
	return &http.Client{
		Timeout: 15 * time.Second,
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			MaxIdleConnsPerHost: 8,
			IdleConnTimeout:     90 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// forward sends the @connections call r (whose body was read into body) to
// the replica at addr unchanged, so that replica verifies the caller's own
// signature, and copies its answer to w. It returns the owner's status, or
// false when the owner could not be reached (the caller answers 410: the
// owner is gone).
func (h *Hub) forward(w http.ResponseWriter, r *http.Request, body []byte, addr string) (int, bool) {
	u := *r.URL
	u.Scheme, u.Host = "http", addr
	// addr comes from the peer list (Leases or --websocket-peers), never from
	// the request: the caller only chose among known replicas.
	out, err := http.NewRequestWithContext(r.Context(), r.Method, u.String(), bytes.NewReader(body)) //nolint:gosec // G704: see above
	if err != nil {
		return 0, false
	}
	for k, v := range r.Header {
		if k != "Connection" && k != "Keep-Alive" && k != "Te" && k != "Transfer-Encoding" && k != "Upgrade" {
			out.Header[k] = v
		}
	}
	out.Header.Set(ForwardedHeader, "1")
	out.Host = r.Host
	resp, err := h.client.Do(out) //nolint:gosec // G704: a known replica's address
	if err != nil {
		h.log.V(1).Info("forwarding an @connections call to the owner replica failed", "peer", addr, "error", err.Error())
		return 0, false
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, false
	}
	for _, k := range []string{"Content-Type", "X-Amzn-Errortype", "X-Amzn-Requestid"} {
		if v := resp.Header.Values(k); len(v) > 0 {
			w.Header()[k] = v
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(b)
	return resp.StatusCode, true
}
