package jwt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/turnpike-io/turnpike/dataplane/upstream"
)

// Fetch bounds (AWS: 1,500 ms per request, JWKS at most 150,000 bytes).
const (
	// FetchTimeout bounds each discovery or JWKS request.
	FetchTimeout = 1500 * time.Millisecond
	// MaxDocumentBytes bounds a discovery document or JWKS.
	MaxDocumentBytes = 150_000
	// MaxRedirects bounds the redirects one fetch follows; each hop must pass
	// the same URL rule as the first request.
	MaxRedirects = 3
)

// fetcher downloads discovery documents and key sets. It never follows a
// redirect to a URL that the first request could not have used, never reads
// more than MaxDocumentBytes, and dials through the egress guard.
type fetcher struct {
	client    *http.Client
	allowHTTP bool
}

func newFetcher(deny []netip.Prefix, allowHTTP bool) *fetcher {
	f := &fetcher{allowHTTP: allowHTTP}
	f.client = &http.Client{
		Transport: &http.Transport{
			Proxy:                 nil, // environment proxies must not see key fetches
			DialContext:           upstream.NewDialer(deny).DialContext,
			TLSHandshakeTimeout:   FetchTimeout,
			ResponseHeaderTimeout: FetchTimeout,
			MaxIdleConnsPerHost:   2,
			IdleConnTimeout:       90 * time.Second,
		},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > MaxRedirects {
				return fmt.Errorf("more than %d redirects", MaxRedirects)
			}
			return f.allowed(req.URL)
		},
	}
	return f
}

// allowed is the URL rule: https, or http to a loopback host when the
// gateway runs with --allow-http-jwks (tests, local development).
func (f *fetcher) allowed(u *url.URL) error {
	switch {
	case u.Host == "":
		return fmt.Errorf("%q is not an absolute URL", u.Redacted())
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && f.allowHTTP && isLoopback(u.Hostname()):
		return nil
	case u.Scheme == "http" && f.allowHTTP:
		return fmt.Errorf("%q: --allow-http-jwks permits http:// only on loopback hosts", u.Redacted())
	case u.Scheme == "http":
		return fmt.Errorf("%q is not https (http:// is allowed only on loopback with --allow-http-jwks)", u.Redacted())
	}
	return fmt.Errorf("%q has scheme %q; only https is allowed", u.Redacted(), u.Scheme)
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// getJSON fetches raw and decodes its JSON body into dst.
func (f *fetcher) getJSON(ctx context.Context, raw string, dst any) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("bad URL %q: %w", raw, err)
	}
	if err := f.allowed(u); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, FetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", u.Redacted(), unwrapURLError(err))
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", u.Redacted(), resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxDocumentBytes+1))
	if err != nil {
		return fmt.Errorf("GET %s: %w", u.Redacted(), err)
	}
	if len(body) > MaxDocumentBytes {
		return fmt.Errorf("GET %s: the document is larger than %d bytes", u.Redacted(), MaxDocumentBytes)
	}
	if err := json.Unmarshal(body, dst); err != nil {
		return fmt.Errorf("GET %s: not a JSON document: %w", u.Redacted(), err)
	}
	return nil
}

// unwrapURLError drops the *url.Error wrapper (which repeats the URL) but
// keeps egress and timeout causes recognisable.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		var ne net.Error
		if errors.As(ue.Err, &ne) && ne.Timeout() {
			return errors.New("timed out")
		}
		return ue.Err
	}
	return err
}

// discovery is the part of an OpenID Provider configuration we use.
type discovery struct {
	Issuer  string `json:"issuer"`
	JWKSURI string `json:"jwks_uri"`
}

// discover returns the jwks_uri of issuer from its OIDC discovery document.
// The document's issuer must equal the configured one (OpenID Connect
// Discovery 1.0, section 4.3), so a document served for another issuer is
// never trusted.
func (f *fetcher) discover(ctx context.Context, issuer string) (string, error) {
	var d discovery
	if err := f.getJSON(ctx, strings.TrimSuffix(issuer, "/")+"/.well-known/openid-configuration", &d); err != nil {
		return "", err
	}
	if d.Issuer != issuer {
		return "", fmt.Errorf("the discovery document names issuer %q, not %q", d.Issuer, issuer)
	}
	if d.JWKSURI == "" {
		return "", errors.New("the discovery document has no jwks_uri")
	}
	return d.JWKSURI, nil
}
