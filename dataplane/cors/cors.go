// Package cors is the HTTP side of an Api's cross-origin policy (api.md, Api
// "cors"): it answers preflights and puts the CORS headers on every other
// response of an Api that configures cors, whoever wrote that response (the
// backend, a MOCK integration, or the gateway's own error).
//
// The policy itself (origin patterns, method and header sets, the constant
// header values) is compiled once per table into *table.CORS; this package
// only reads request headers and writes response headers, so a request costs
// a few map lookups.
//
// Invariants:
//   - A preflight (OPTIONS with Origin and Access-Control-Request-Method) is
//     always answered 204 by the gateway. Access-Control-Allow-Origin is sent
//     only when origin, method and every requested header are allowed; any
//     refusal is an answer without it, which the browser turns into a CORS
//     failure for the page.
//   - An unlisted origin is never echoed; "null" is echoed only when listed;
//     a literal "*" is never sent together with credentials.
//   - Vary: Origin is on every answer except one whose Access-Control-Allow-
//     Origin is the literal "*" (that answer does not depend on the origin),
//     so a shared cache never hands one origin's answer to another.
//   - On other responses, CORS headers from the backend (or a MOCK) are
//     removed and replaced by the policy's, so the backend can neither widen
//     nor break the policy.
//   - The package does not import api/v1alpha1 or controllers.
package cors

import (
	"net/http"
	"slices"
	"strings"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

// Canonical names of the headers this package reads and writes.
const (
	hOrigin          = "Origin"
	hRequestMethod   = "Access-Control-Request-Method"
	hRequestHeaders  = "Access-Control-Request-Headers"
	hAllowOrigin     = "Access-Control-Allow-Origin"
	hAllowCreds      = "Access-Control-Allow-Credentials"
	hAllowMethods    = "Access-Control-Allow-Methods"
	hAllowHeaders    = "Access-Control-Allow-Headers"
	hExposeHeaders   = "Access-Control-Expose-Headers"
	hMaxAge          = "Access-Control-Max-Age"
	hAllowPrivateNet = "Access-Control-Allow-Private-Network"
	hVary            = "Vary"
)

// backendHeaders are the response headers a backend may not set once the Api
// configures cors: they are removed before the policy's own are added.
var backendHeaders = [...]string{
	hAllowOrigin, hAllowCreds, hAllowMethods, hAllowHeaders, hExposeHeaders, hMaxAge, hAllowPrivateNet,
}

// Constant header values. Each has len == cap, so a later Header.Add on the
// same name appends to a copy and never to the shared array.
var (
	valStar          = []string{"*"}
	valTrue          = []string{"true"}
	valVaryPreflight = []string{"Origin, Access-Control-Request-Method, Access-Control-Request-Headers"}
)

// IsPreflight reports whether r is a CORS preflight: OPTIONS carrying both
// Origin and Access-Control-Request-Method. Any other OPTIONS request is an
// ordinary request that goes on to route lookup.
func IsPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && len(r.Header[hOrigin]) > 0 && len(r.Header[hRequestMethod]) > 0
}

// Preflight answers the preflight r according to c with 204 and no body.
// Headers already on w (request id) are kept.
func Preflight(w http.ResponseWriter, r *http.Request, c *table.CORS) {
	h := w.Header()
	origin := first(r.Header[hOrigin])
	method := first(r.Header[hRequestMethod])
	requested := strings.Join(r.Header[hRequestHeaders], ",")
	if !c.AllowOrigin(origin) || !allowMethod(c, method) || !c.AllowRequestHeaders(requested) {
		h[hVary] = valVaryPreflight
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if c.LiteralStar() {
		h[hAllowOrigin] = valStar
	} else {
		h[hAllowOrigin] = []string{origin}
		h[hVary] = valVaryPreflight
	}
	if c.AllowCredentials {
		h[hAllowCreds] = valTrue
	}
	switch {
	case !c.AnyMethod():
		setIf(h, hAllowMethods, c.MethodsValue())
	case c.AllowCredentials:
		// With credentials a "*" is a method name to the browser: echo.
		h[hAllowMethods] = []string{method}
	default:
		h[hAllowMethods] = valStar
	}
	switch {
	case !c.AnyHeader():
		setIf(h, hAllowHeaders, c.HeadersValue())
	case requested == "":
		if !c.AllowCredentials {
			h[hAllowHeaders] = valStar
		}
	case c.AllowCredentials || hasToken(requested, "authorization"):
		// A "*" means every header only without credentials, and never
		// covers Authorization (Fetch standard): echo what was asked.
		h[hAllowHeaders] = []string{requested}
	default:
		h[hAllowHeaders] = valStar
	}
	setIf(h, hMaxAge, c.MaxAgeValue())
	w.WriteHeader(http.StatusNoContent)
}

// allowMethod admits the configured methods and always the CORS-safelisted
// GET, HEAD and POST: browsers send those cross-origin whatever a preflight
// answers, so refusing them in a preflight would protect nothing and only
// break requests that need a preflight for a custom header.
func allowMethod(c *table.CORS, m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodPost || c.AllowMethod(m)
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

func setIf(h http.Header, k string, v []string) {
	if v != nil {
		h[k] = v
	}
}

// hasToken reports whether the comma-separated list has tok (lower-case),
// ignoring case and spaces.
func hasToken(list, tok string) bool {
	for v := range strings.SplitSeq(list, ",") {
		if strings.EqualFold(strings.TrimSpace(v), tok) {
			return true
		}
	}
	return false
}

// Apply puts policy c's CORS headers on a response's header h, once its
// final status is known, replacing every CORS header already there (a
// backend's): it covers every kind of answer alike, integration, MOCK or a
// gateway error. origin is the request's Origin when c allows it, else ""
// (the response then gets no Allow-Origin, only Vary).
func Apply(h http.Header, c *table.CORS, origin string) {
	for _, k := range backendHeaders {
		delete(h, k)
	}
	if origin == "" {
		addVaryOrigin(h)
		return
	}
	if c.LiteralStar() {
		h[hAllowOrigin] = valStar
	} else {
		h[hAllowOrigin] = []string{origin}
		addVaryOrigin(h)
	}
	if c.AllowCredentials {
		h[hAllowCreds] = valTrue
	}
	if c.AnyExpose() && c.AllowCredentials {
		// With credentials "*" is a header name to the browser: list the
		// names this response actually has.
		h[hExposeHeaders] = []string{exposeAll(h)}
		return
	}
	setIf(h, hExposeHeaders, c.ExposeValue())
}

// addVaryOrigin adds Origin to Vary unless the backend already listed it or "*".
func addVaryOrigin(h http.Header) {
	old := h[hVary]
	for _, v := range old {
		if hasToken(v, "origin") || hasToken(v, "*") {
			return
		}
	}
	h[hVary] = append(slices.Clip(old), "Origin")
}

// exposeAll lists the response's header names, sorted, for an exposeHeaders
// "*" with credentials.
func exposeAll(h http.Header) string {
	names := make([]string, 0, len(h))
	for k := range h {
		if k != hVary && !strings.HasPrefix(k, "Access-Control-") && k != "Set-Cookie" {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}
