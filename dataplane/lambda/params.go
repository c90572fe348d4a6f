package lambda

import (
	"bytes"
	"slices"
	"strings"
)

// headerKeys returns the header names in order, in the scratch space.
func headerKeys(e *enc, r *Request) []string {
	return sortedKeys(e, r.Header)
}

// hostMissing reports whether the event must add a Host header from
// r.Host: net/http keeps Host out of the header map.
func hostMissing(r *Request) bool {
	if r.Host == "" {
		return false
	}
	for k := range r.Header {
		if strings.EqualFold(k, "Host") {
			return false
		}
	}
	return true
}

func isCookie(name string) bool { return strings.EqualFold(name, "Cookie") }

// headersV2 writes 2.0 headers: names lowercased, repeated headers joined
// with "," (AWS: "Duplicate headers are combined with commas"), Cookie
// headers left out (they go to cookies). Always present.
func (e *enc) headersV2(r *Request) {
	e.open("headers")
	if hostMissing(r) {
		e.str("host", r.Host)
	}
	for _, k := range headerKeys(e, r) {
		vs := r.Header[k]
		if len(vs) == 0 || isCookie(k) {
			continue
		}
		a := e.s.arena[:0]
		for i := 0; i < len(k); i++ {
			c := k[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			a = append(a, c)
		}
		n := len(a)
		for i, v := range vs {
			if i > 0 {
				a = append(a, ',')
			}
			a = append(a, v...)
		}
		e.s.arena = a
		qname(e, a[:n])
		e.b = quote(e.b, a[n:])
	}
	e.close()
}

// cookiesV2 writes the 2.0 cookies: every Cookie header split at ";", one
// entry per cookie as sent (whitespace around it trimmed), left out when
// there are none.
func (e *enc) cookiesV2(r *Request) {
	open := false
	for _, k := range headerKeys(e, r) {
		if !isCookie(k) {
			continue
		}
		for _, v := range r.Header[k] {
			for c := range strings.SplitSeq(v, ";") {
				c = strings.Trim(c, " \t")
				if c == "" {
					continue
				}
				if !open {
					e.openArray("cookies")
					open = true
				}
				e.elem(c)
			}
		}
	}
	if open {
		e.closeArray()
	}
}

// headersV1 writes 1.0 headers (last value of each name) and
// multiValueHeaders (all values), names as in the request; null when there
// are none. The Cookie header stays a header.
func (e *enc) headersV1(r *Request) {
	if len(r.Header) == 0 && r.Host == "" {
		e.null("headers")
		e.null("multiValueHeaders")
		return
	}
	host := hostMissing(r)
	keys := headerKeys(e, r)
	e.open("headers")
	if host {
		e.str("Host", r.Host)
	}
	for _, k := range keys {
		if vs := r.Header[k]; len(vs) > 0 {
			qname(e, k)
			e.b = quote(e.b, vs[len(vs)-1])
		}
	}
	e.close()
	e.open("multiValueHeaders")
	if host {
		e.openArray("Host")
		e.elem(r.Host)
		e.closeArray()
	}
	for _, k := range keys {
		if vs := r.Header[k]; len(vs) > 0 {
			qname(e, k)
			e.b = append(e.b, '[')
			for _, v := range vs {
				e.elem(v)
			}
			e.closeArray()
		}
	}
	e.close()
}

// queryPair is one decoded query parameter: key and value are offsets into
// the scratch arena.
type queryPair struct{ ks, ke, vs, ve int }

// parseQuery decodes r.RawQuery into the scratch space, sorted by key with
// the values of a key in request order. Decoding is url.QueryUnescape's
// ('+' is a space, %XX a byte); a component with a malformed escape is
// kept as sent rather than dropped. Empty components ("a=1&&b=2") are
// skipped; a key without '=' has the empty value.
func (e *enc) parseQuery(raw string) []queryPair {
	pairs := e.s.pairs[:0]
	a := e.s.arena[:0]
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		var p queryPair
		p.ks = len(a)
		a = appendUnescaped(a, k)
		p.ke, p.vs = len(a), len(a)
		a = appendUnescaped(a, v)
		p.ve = len(a)
		pairs = append(pairs, p)
	}
	slices.SortStableFunc(pairs, func(x, y queryPair) int {
		return bytes.Compare(a[x.ks:x.ke], a[y.ks:y.ke])
	})
	e.s.pairs, e.s.arena = pairs, a
	return pairs
}

// appendUnescaped appends s with '+' as space and %XX decoded, or s as it
// is when it holds a malformed escape.
func appendUnescaped(a []byte, s string) []byte {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return append(a, s...)
	}
	start := len(a)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '+':
			a = append(a, ' ')
		case '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return append(a[:start], s...)
			}
			a = append(a, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			a = append(a, c)
		}
	}
	return a
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// queryV2 writes 2.0 queryStringParameters, repeated keys joined with ","
// (AWS: "Duplicate query strings are combined with commas"); left out when
// the query has no parameter.
func (e *enc) queryV2(r *Request) {
	pairs := e.parseQuery(r.RawQuery)
	if len(pairs) == 0 {
		return
	}
	e.open("queryStringParameters")
	for i := 0; i < len(pairs); {
		j := e.sameKey(pairs, i)
		qname(e, e.s.arena[pairs[i].ks:pairs[i].ke])
		// Join the values behind the arena's end, then quote them.
		start := len(e.s.arena)
		a := e.s.arena
		for n, p := range pairs[i:j] {
			if n > 0 {
				a = append(a, ',')
			}
			a = append(a, a[p.vs:p.ve]...)
		}
		e.b = quote(e.b, a[start:])
		e.s.arena = a[:start]
		i = j
	}
	e.close()
}

// sameKey returns the end of the run of pairs that share pairs[i]'s key.
func (e *enc) sameKey(pairs []queryPair, i int) int {
	a := e.s.arena
	j := i + 1
	for j < len(pairs) && bytes.Equal(a[pairs[j].ks:pairs[j].ke], a[pairs[i].ks:pairs[i].ke]) {
		j++
	}
	return j
}

// queryV1 writes 1.0 queryStringParameters (last value of each key) and
// multiValueQueryStringParameters (all values); empty is written as
// emptyAs ("null" for proxy events, "{}" for authorizer events).
func (e *enc) queryV1(r *Request, emptyAs string) {
	pairs := e.parseQuery(r.RawQuery)
	if len(pairs) == 0 {
		for _, k := range []string{"queryStringParameters", "multiValueQueryStringParameters"} {
			if emptyAs == "null" {
				e.null(k)
			} else {
				e.open(k)
				e.close()
			}
		}
		return
	}
	a := e.s.arena
	e.open("queryStringParameters")
	for i := 0; i < len(pairs); {
		j := e.sameKey(pairs, i)
		last := pairs[j-1]
		qname(e, a[pairs[i].ks:pairs[i].ke])
		e.b = quote(e.b, a[last.vs:last.ve])
		i = j
	}
	e.close()
	e.open("multiValueQueryStringParameters")
	for i := 0; i < len(pairs); {
		j := e.sameKey(pairs, i)
		qname(e, a[pairs[i].ks:pairs[i].ke])
		e.b = append(e.b, '[')
		for _, p := range pairs[i:j] {
			e.sep()
			e.b = quote(e.b, a[p.vs:p.ve])
		}
		e.closeArray()
		i = j
	}
	e.close()
}
