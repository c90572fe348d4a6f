package table

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// CORS is an Api's cross-origin policy (api.md, Api "cors"). The exported
// fields are the configuration as the translator normalised it (origins and
// header names lower-case, duplicates removed, sorted as configured); New
// compiles them once into the unexported lookup structures, so a request
// costs a few map and slice lookups and no allocation for the answer's
// constant header values.
//
// Invariants after New:
//   - Origin matching is anchored: an exact origin matches only itself, a
//     "scheme://*.suffix" pattern only hosts that end in "."+suffix with at
//     least one label before it, "scheme://*" any host of that scheme.
//   - "null" matches only when listed literally; "*" never matches it.
//   - AllowCredentials is never true together with the origin "*" (the CRD's
//     CEL rule rejects it; New refuses such a table as a last guard), so a
//     literal "*" answer never carries credentials.
//   - The precomputed header values are slices with len == cap: a caller that
//     assigns them into a response header map and later appends copies them.
type CORS struct {
	// AllowOrigins: exact origins ("https://app.example.com", "null"), "*",
	// "scheme://*" and "scheme://*.suffix", with an optional ":port".
	AllowOrigins []string `json:"allowOrigins"`
	// AllowMethods: methods, compared case-sensitively as browsers send them,
	// or "*".
	AllowMethods []string `json:"allowMethods,omitempty"`
	// AllowHeaders: lower-case request header names, or "*".
	AllowHeaders []string `json:"allowHeaders,omitempty"`
	// ExposeHeaders: response header names the page may read, or "*".
	ExposeHeaders []string `json:"exposeHeaders,omitempty"`
	// MaxAgeSeconds: how long a browser may cache a preflight; 0 sends no
	// Access-Control-Max-Age (browsers then use their default of 5 s).
	MaxAgeSeconds int32 `json:"maxAgeSeconds,omitempty"`
	// AllowCredentials: answers carry Access-Control-Allow-Credentials: true.
	AllowCredentials bool `json:"allowCredentials,omitempty"`

	anyOrigin  bool
	exact      map[string]struct{}
	wildcards  []originPattern
	anyMethod  bool
	methods    map[string]struct{}
	anyHeader  bool
	headers    map[string]struct{}
	anyExpose  bool
	methodsVal []string
	headersVal []string
	exposeVal  []string
	maxAgeVal  []string
}

// originPattern is a compiled "scheme://*[.suffix][:port]" entry. suffix is
// "" for "any host" and starts with "." otherwise; port "" means the origin
// must have no explicit port, except for "any host" patterns, which match any
// port.
type originPattern struct {
	scheme, suffix, port string
}

// ParseOriginPattern checks one allowOrigins entry the way New compiles it, so
// the translator can reject an Api with the same rule and a readable message.
func ParseOriginPattern(p string) error {
	_, _, err := parseOriginPattern(p)
	return err
}

// parseOriginPattern returns either an exact origin or a wildcard pattern.
func parseOriginPattern(p string) (exact string, w *originPattern, err error) {
	p = strings.ToLower(p)
	if p == "*" || p == "null" {
		return p, nil, nil
	}
	scheme, host, port, ok := splitOrigin(strings.Replace(p, "://*", "://x", 1))
	if !ok || (scheme != "http" && scheme != "https") {
		return "", nil, fmt.Errorf("origin %q is not scheme://host[:port] with scheme http or https", p)
	}
	if !strings.Contains(p, "://*") {
		if port == "443" && scheme == "https" || port == "80" && scheme == "http" {
			p = strings.TrimSuffix(p, ":"+port) // browsers omit default ports
		}
		return p, nil, nil
	}
	if host == "x" {
		return "", &originPattern{scheme: scheme, port: port}, nil
	}
	if !strings.HasPrefix(host, "x.") {
		return "", nil, fmt.Errorf("origin %q: a wildcard must be the whole host (scheme://*) or its first label (scheme://*.example.com)", p)
	}
	return "", &originPattern{scheme: scheme, suffix: host[1:], port: port}, nil
}

// splitOrigin parses a serialized origin "scheme://host[:port]" with a
// lower-case DNS name or IP literal as host. Anything else (paths, user info,
// empty labels, upper case) is not an origin a browser sends.
func splitOrigin(o string) (scheme, host, port string, ok bool) {
	i := strings.Index(o, "://")
	if i <= 0 || !validScheme(o[:i]) {
		return "", "", "", false
	}
	scheme, rest := o[:i], o[i+3:]
	host = rest
	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 || !validIPv6(rest[1:end]) {
			return "", "", "", false
		}
		host, rest = rest[:end+1], rest[end+1:]
		if rest != "" && rest[0] != ':' {
			return "", "", "", false
		}
		port = strings.TrimPrefix(rest, ":")
	} else if c := strings.LastIndexByte(rest, ':'); c >= 0 {
		host, port = rest[:c], rest[c+1:]
	}
	if rest != "" && strings.HasSuffix(rest, ":") {
		return "", "", "", false // "host:" has an empty port
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n <= 0 || n > 65535 || port[0] == '0' {
			return "", "", "", false
		}
	}
	if !strings.HasPrefix(host, "[") && !validHostname(host) {
		return "", "", "", false
	}
	return scheme, host, port, true
}

func validScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isLower(c) && (i == 0 || !isDigit(c) && c != '+' && c != '-' && c != '.') {
			return false
		}
	}
	return true
}

func validHostname(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !isLower(c) && !isDigit(c) && c != '-' && c != '_' {
				return false
			}
		}
	}
	return true
}

func validIPv6(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isDigit(c) && (c < 'a' || c > 'f') && c != ':' && c != '.' {
			return false
		}
	}
	return true
}

func isLower(c byte) bool { return c >= 'a' && c <= 'z' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// compile builds the lookup structures; New calls it once per table.
func (c *CORS) compile() error {
	c.exact = make(map[string]struct{}, len(c.AllowOrigins))
	var errs []error
	for _, p := range c.AllowOrigins {
		exact, w, err := parseOriginPattern(p)
		switch {
		case err != nil:
			errs = append(errs, err)
		case exact == "*":
			c.anyOrigin = true
		case w != nil:
			c.wildcards = append(c.wildcards, *w)
		default:
			c.exact[exact] = struct{}{}
		}
	}
	if c.anyOrigin && c.AllowCredentials {
		errs = append(errs, errors.New(`allowCredentials cannot be true when allowOrigins contains "*"`))
	}
	c.anyMethod, c.methods, c.methodsVal = compileList(c.AllowMethods, false)
	c.anyHeader, c.headers, c.headersVal = compileList(c.AllowHeaders, true)
	c.anyExpose, _, c.exposeVal = compileList(c.ExposeHeaders, true)
	if c.MaxAgeSeconds > 0 {
		c.maxAgeVal = []string{strconv.Itoa(int(c.MaxAgeSeconds))}
	}
	if len(errs) > 0 {
		return fmt.Errorf("cors: %w", errors.Join(errs...))
	}
	return nil
}

// compileList returns whether the list holds "*", the set of its other
// entries (lower-cased when fold), and the header value listing them all.
func compileList(list []string, fold bool) (star bool, set map[string]struct{}, value []string) {
	set = make(map[string]struct{}, len(list))
	for _, v := range list {
		if v == "*" {
			star = true
			continue
		}
		if fold {
			v = strings.ToLower(v)
		}
		set[v] = struct{}{}
	}
	if len(list) > 0 {
		value = []string{strings.Join(list, ", ")}
	}
	return star, set, value
}

// AllowOrigin reports whether the request's Origin header value is allowed.
func (c *CORS) AllowOrigin(origin string) bool {
	if origin == "" {
		return false
	}
	origin = lowerASCII(origin)
	if _, ok := c.exact[origin]; ok {
		return true
	}
	if origin == "null" {
		return false
	}
	if c.anyOrigin {
		return true
	}
	if len(c.wildcards) == 0 {
		return false
	}
	scheme, host, port, ok := splitOrigin(origin)
	if !ok {
		return false
	}
	for _, w := range c.wildcards {
		if w.scheme != scheme {
			continue
		}
		if w.suffix == "" {
			if w.port == "" || w.port == port {
				return true
			}
			continue
		}
		if w.port == port && len(host) > len(w.suffix) && strings.HasSuffix(host, w.suffix) {
			return true
		}
	}
	return false
}

// lowerASCII lower-cases s, allocating only when s has an upper-case letter
// (browsers always send lower-case origins).
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

// LiteralStar reports whether allowed origins are answered with a literal
// "*" rather than echoed: allowOrigins has "*" and credentials are off.
func (c *CORS) LiteralStar() bool { return c.anyOrigin && !c.AllowCredentials }

// AllowMethod reports whether a preflight's Access-Control-Request-Method is
// allowed. Methods compare case-sensitively, as the Fetch standard does.
func (c *CORS) AllowMethod(m string) bool {
	if c.anyMethod {
		return true
	}
	_, ok := c.methods[m]
	return ok
}

// AllowRequestHeaders reports whether every name in a preflight's
// Access-Control-Request-Headers value (comma-separated) is allowed.
func (c *CORS) AllowRequestHeaders(list string) bool {
	if c.anyHeader {
		return true
	}
	for name := range strings.SplitSeq(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if _, ok := c.headers[lowerASCII(name)]; !ok {
			return false
		}
	}
	return true
}

// AnyMethod reports whether allowMethods is "*".
func (c *CORS) AnyMethod() bool { return c.anyMethod }

// AnyHeader reports whether allowHeaders is "*".
func (c *CORS) AnyHeader() bool { return c.anyHeader }

// AnyExpose reports whether exposeHeaders contains "*".
func (c *CORS) AnyExpose() bool { return c.anyExpose }

// MethodsValue is the Access-Control-Allow-Methods value listing the
// configured methods as configured (nil when none are configured).
func (c *CORS) MethodsValue() []string { return c.methodsVal }

// HeadersValue is the Access-Control-Allow-Headers value listing the
// configured headers (nil when none are configured).
func (c *CORS) HeadersValue() []string { return c.headersVal }

// ExposeValue is the Access-Control-Expose-Headers value (nil when none).
func (c *CORS) ExposeValue() []string { return c.exposeVal }

// MaxAgeValue is the Access-Control-Max-Age value (nil when not configured).
func (c *CORS) MaxAgeValue() []string { return c.maxAgeVal }
