// Package urlpath holds the path helpers every dataplane concern shares:
// percent-encoding checks, escaping a decoded path parameter, and looking up
// a route's path parameters by name. There is one copy of each, because a
// second copy that escapes or decodes slightly differently is how a gateway
// ends up routing one path and forwarding another.
//
// Invariants:
//   - EscapeSegments never produces an escape the backend decodes into "/":
//     a "/" in its input is a segment separator and stays one; everything
//     else a path segment cannot carry literally is percent-encoded.
//   - The package is pure: no I/O, no state, no allocation beyond results.
package urlpath

import (
	"net/url"
	"strings"
)

// IsHex reports whether c is a hexadecimal digit (either case).
func IsHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// Unhex is the value of the hexadecimal digit c (IsHex(c) must hold).
func Unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// EscapeSegments escapes a decoded path value for a URL path, segment by
// segment: the "/" of a greedy path parameter separated the client's own
// segments (an encoded slash is refused before routing) and stays a
// separator; every segment is escaped with url.PathEscape, so a "%" in the
// value is data ("%25") and never an escape a backend decodes a second time.
func EscapeSegments(v string) string {
	if !strings.Contains(v, "/") {
		return url.PathEscape(v)
	}
	segs := strings.Split(v, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// Params are a matched route's decoded path parameters: Names in path order
// (a greedy variable last, without "+") and Values aligned with them. A
// greedy parameter's value contains "/". The zero value has no parameters.
type Params struct {
	Names, Values []string
}

// Get returns the value of the parameter name; ok is false when the route
// has no such parameter.
func (p Params) Get(name string) (value string, ok bool) {
	for i, n := range p.Names {
		if n == name && i < len(p.Values) {
			return p.Values[i], true
		}
	}
	return "", false
}

// Map returns the parameters as a map (nil when there are none), for
// consumers that need one (authorizer and Lambda events).
func (p Params) Map() map[string]string {
	if len(p.Names) == 0 {
		return nil
	}
	m := make(map[string]string, len(p.Names))
	for i, n := range p.Names {
		if i < len(p.Values) {
			m[n] = p.Values[i]
		}
	}
	return m
}
