package table

import (
	"errors"
	"fmt"
	"strings"
)

// Methods a route key may name besides ANY.
var routeMethods = map[string]bool{
	"GET": true, "POST": true, "PUT": true, "PATCH": true,
	"DELETE": true, "HEAD": true, "OPTIONS": true,
}

// AnyMethod matches every method that has no route of its own on the same pattern.
const AnyMethod = "ANY"

// SegmentKind tells how one path segment of a route key matches.
type SegmentKind uint8

// Segment kinds.
const (
	Literal SegmentKind = iota
	Variable
	Greedy
)

// Segment is one parsed path segment of a route key.
type Segment struct {
	Kind SegmentKind
	// Value is the literal text, or the variable name without braces and "+".
	Value string
}

// RouteKey is a parsed "METHOD /path" route key.
type RouteKey struct {
	Method   string
	Segments []Segment
}

// ParseRouteKey parses "METHOD /path". It rejects $default (which has no
// pattern), empty segments, a trailing slash, "." and "..", greedy variables
// before the last segment, and a variable name used twice.
func ParseRouteKey(key string) (RouteKey, error) {
	method, path, ok := strings.Cut(key, " ")
	if !ok {
		return RouteKey{}, errors.New(`route key must be "METHOD /path" or "$default"`)
	}
	if method != AnyMethod && !routeMethods[method] {
		return RouteKey{}, fmt.Errorf("route key method %q is not one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, ANY", method)
	}
	if !strings.HasPrefix(path, "/") {
		return RouteKey{}, fmt.Errorf("route key path %q must start with /", path)
	}
	rk := RouteKey{Method: method}
	if path == "/" {
		return rk, nil
	}
	parts := strings.Split(path[1:], "/")
	seen := map[string]bool{}
	for i, p := range parts {
		seg, err := parseSegment(p, i == len(parts)-1)
		if err != nil {
			return RouteKey{}, fmt.Errorf("route key path %q: %w", path, err)
		}
		if seg.Kind != Literal {
			if seen[seg.Value] {
				return RouteKey{}, fmt.Errorf("route key path %q: variable {%s} appears twice", path, seg.Value)
			}
			seen[seg.Value] = true
		}
		rk.Segments = append(rk.Segments, seg)
	}
	return rk, nil
}

func parseSegment(p string, last bool) (Segment, error) {
	switch {
	case p == "":
		return Segment{}, errors.New("empty segment (double or trailing slash)")
	case p == "." || p == "..":
		return Segment{}, errors.New(`segments "." and ".." are not allowed`)
	case strings.HasPrefix(p, "{") && strings.HasSuffix(p, "+}"):
		if !last {
			return Segment{}, errors.New("a greedy variable {name+} may only be the last segment")
		}
		name := p[1 : len(p)-2]
		if !validVarName(name) {
			return Segment{}, fmt.Errorf("bad variable name in %q", p)
		}
		return Segment{Kind: Greedy, Value: name}, nil
	case strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}"):
		name := p[1 : len(p)-1]
		if !validVarName(name) {
			return Segment{}, fmt.Errorf("bad variable name in %q", p)
		}
		return Segment{Kind: Variable, Value: name}, nil
	}
	for _, c := range p {
		if !isLiteralChar(c) {
			return Segment{}, fmt.Errorf("character %q not allowed in literal segment %q", c, p)
		}
	}
	return Segment{Kind: Literal, Value: p}, nil
}

func validVarName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		letter := c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}

func isLiteralChar(c rune) bool {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		c == '.' || c == '_' || c == '~' || c == '-'
}

// Pattern is the key with variable names erased ("GET /pets/{}"): two route
// keys with the same Pattern conflict, even when their variable names differ.
func (k RouteKey) Pattern() string {
	var b strings.Builder
	n := len(k.Method) + 2
	for _, s := range k.Segments {
		n += len(s.Value) + 4
	}
	b.Grow(n)
	b.WriteString(k.Method)
	b.WriteString(" ")
	if len(k.Segments) == 0 {
		b.WriteString("/")
	}
	for _, s := range k.Segments {
		b.WriteString("/")
		switch s.Kind {
		case Literal:
			b.WriteString(s.Value)
		case Variable:
			b.WriteString("{}")
		case Greedy:
			b.WriteString("{+}")
		}
	}
	return b.String()
}

// Greedy reports whether the key ends in a greedy variable.
func (k RouteKey) Greedy() bool {
	return len(k.Segments) > 0 && k.Segments[len(k.Segments)-1].Kind == Greedy
}

// ParamNames are the variable names in path order.
func (k RouteKey) ParamNames() []string {
	var names []string
	for _, s := range k.Segments {
		if s.Kind != Literal {
			names = append(names, s.Value)
		}
	}
	return names
}
