package proxy

import (
	"errors"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"strings"

	"github.com/turnpike-io/turnpike/dataplane/urlpath"
)

// rewrite is the ReverseProxy Rewrite hook. By the time it runs, ReverseProxy
// has removed hop-by-hop headers (including those a client named in
// Connection) and the client's Forwarded and X-Forwarded-For/Host/Proto from
// pr.Out; what is set here therefore reaches the backend.
func (f *Forwarder) rewrite(pr *httputil.ProxyRequest) {
	c, _ := pr.Out.Context().Value(callKey{}).(*call)
	if c == nil {
		return
	}
	u := new(url.URL)
	*u = c.url
	pr.Out.URL = u
	if c.host != "" {
		pr.Out.Host = c.host
	}
	f.setForwarded(pr.In, pr.Out.Header)
	stripH2C(pr.Out.Header)
}

// setForwarded sets X-Forwarded-For/Proto/Host. A client's values are
// believed only when the socket peer is a trusted proxy: then its
// X-Forwarded-For is kept and the peer appended, and its Proto/Host are
// passed on. From any other peer every X-Forwarded-* header (and X-Real-Ip)
// is dropped and the values are derived from the connection itself.
func (f *Forwarder) setForwarded(in *http.Request, h http.Header) {
	peer := peerAddr(in.RemoteAddr)
	proto := "http"
	if in.TLS != nil {
		proto = "https"
	}
	host, prior := in.Host, ""
	if peer.IsValid() && f.trusts(peer) {
		if v := in.Header["X-Forwarded-For"]; len(v) > 0 {
			prior = strings.Join(v, ", ") + ", "
		}
		if v := in.Header.Get("X-Forwarded-Proto"); v != "" {
			proto = v
		}
		if v := in.Header.Get("X-Forwarded-Host"); v != "" {
			host = v
		}
	} else {
		for k := range h {
			if strings.HasPrefix(k, "X-Forwarded-") || k == "X-Real-Ip" {
				delete(h, k)
			}
		}
	}
	if peer.IsValid() {
		h["X-Forwarded-For"] = []string{prior + peer.String()}
	}
	h["X-Forwarded-Proto"] = []string{proto}
	if host != "" {
		h["X-Forwarded-Host"] = []string{host}
	}
}

func (f *Forwarder) trusts(a netip.Addr) bool {
	for _, p := range f.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// peerAddr parses the socket peer of a server request ("ip:port"); IPv4-mapped
// addresses are unmapped so they match IPv4 trusted ranges.
func peerAddr(remote string) netip.Addr {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap().WithZone("")
}

// stripH2C removes an h2c upgrade (a cleartext HTTP/2 tunnel to the backend
// would bypass every check of the gateway for the requests sent through it)
// and HTTP2-Settings. Other upgrades, which ReverseProxy re-adds after its
// hop-by-hop removal, are left alone.
func stripH2C(h http.Header) {
	delete(h, "Http2-Settings")
	for _, v := range h["Upgrade"] {
		if hasToken(v, "h2c") {
			delete(h, "Upgrade")
			delete(h, "Connection")
			return
		}
	}
}

// proxyURL builds the HTTP_PROXY target: {name} (or {name+}) placeholders in
// the URI's path and query are replaced by the decoded parameters, escaped
// again (path: per segment, so a greedy value keeps its slashes; query: as a
// query value), and the request's query is appended to the URI's own.
// Placeholders in the scheme or authority are not substituted: request data
// must never choose the host.
func proxyURL(uri string, params urlpath.Params, rawQuery string) (*url.URL, error) {
	i := strings.Index(uri, "://")
	if i < 0 {
		return nil, errors.New("not an absolute URI: " + uri)
	}
	authEnd := len(uri)
	if j := strings.IndexAny(uri[i+3:], "/?#"); j >= 0 {
		authEnd = i + 3 + j
	}
	rest := uri[authEnd:]
	if k := strings.IndexByte(rest, '#'); k >= 0 {
		rest = rest[:k]
	}
	path, query, hasQuery := strings.Cut(rest, "?")
	var b strings.Builder
	b.WriteString(uri[:authEnd])
	substitute(&b, path, params, urlpath.EscapeSegments)
	if hasQuery {
		b.WriteByte('?')
		substitute(&b, query, params, url.QueryEscape)
	}
	u, err := url.Parse(b.String())
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, errors.New("scheme must be http or https: " + uri)
	}
	if u.Host == "" {
		return nil, errors.New("no host: " + uri)
	}
	if rawQuery != "" {
		if u.RawQuery != "" {
			u.RawQuery += "&"
		}
		u.RawQuery += rawQuery
	}
	return u, nil
}

// substitute appends s to b with every {name} or {name+} whose name is a
// parameter replaced by escape(value); unknown placeholders stay as written.
func substitute(b *strings.Builder, s string, params urlpath.Params, escape func(string) string) {
	for {
		open := strings.IndexByte(s, '{')
		if open < 0 {
			break
		}
		end := strings.IndexByte(s[open:], '}')
		if end < 0 {
			break
		}
		end += open
		name := strings.TrimSuffix(s[open+1:end], "+")
		b.WriteString(s[:open])
		if v, ok := params.Get(name); ok {
			b.WriteString(escape(v))
		} else {
			b.WriteString(s[open : end+1])
		}
		s = s[end+1:]
	}
	b.WriteString(s)
}
