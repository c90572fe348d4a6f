package dataplane

import (
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/turnpike-io/turnpike/dataplane/urlpath"
)

// errBadPath is the only path error: every malformed path gets the same 400,
// so callers cannot probe which check fired (the hint says it in words).
var errBadPath = errors.New("bad path")

// requestPath is a request path split once, at "/", on its escaped form.
//
// Invariants: raw[i] is the segment exactly as the client escaped it and
// dec[i] its decoded value; no segment is empty, ".", "..", starts with ".;"
// or "..;", holds a "/", "\" or NUL, or is invalid UTF-8 once decoded. Matching uses dec only; forwarding uses the escaped
// text only, so a path is decoded exactly once and never re-encoded.
type requestPath struct {
	// escaped is the whole escaped path, starting with "/".
	escaped string
	raw     []string
	dec     []string
}

// parsePath splits escaped (which must start with "/") into segments. A single
// trailing slash is ignored for matching. raw and dec are reused backing
// arrays (to avoid allocations on the hot path); they are appended to.
func parsePath(escaped string, raw, dec []string) (requestPath, string, error) {
	p := requestPath{escaped: escaped, raw: raw[:0], dec: dec[:0]}
	if !strings.HasPrefix(escaped, "/") {
		return p, "the path must start with /", errBadPath
	}
	if strings.HasPrefix(escaped, "//") {
		return p, "the path has an empty segment (//)", errBadPath
	}
	rest := strings.TrimSuffix(escaped[1:], "/")
	if rest == "" {
		return p, "", nil
	}
	for {
		seg, tail, more := strings.Cut(rest, "/")
		d, hint, err := decodeSegment(seg)
		if err != nil {
			return p, hint, err
		}
		p.raw = append(p.raw, seg)
		p.dec = append(p.dec, d)
		if !more {
			break
		}
		rest = tail
		if rest == "" {
			return p, "the path has an empty segment (//)", errBadPath
		}
	}
	return p, "", nil
}

// decodeSegment percent-decodes one escaped segment and applies the checks
// that keep one canonical path for routing, authorization and forwarding.
func decodeSegment(seg string) (string, string, error) {
	if seg == "" {
		return "", "the path has an empty segment (//)", errBadPath
	}
	if strings.IndexByte(seg, '\\') >= 0 {
		return "", `the path contains a backslash`, errBadPath
	}
	d := seg
	if strings.IndexByte(seg, '%') >= 0 {
		var b strings.Builder
		b.Grow(len(seg))
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			if c != '%' {
				b.WriteByte(c)
				continue
			}
			if i+2 >= len(seg) || !urlpath.IsHex(seg[i+1]) || !urlpath.IsHex(seg[i+2]) {
				return "", "the path has an invalid percent-encoding", errBadPath
			}
			c = urlpath.Unhex(seg[i+1])<<4 | urlpath.Unhex(seg[i+2])
			switch c {
			case '/', '\\':
				return "", "the path contains an encoded slash or backslash (%2F, %5C)", errBadPath
			case 0:
				return "", "the path contains an encoded NUL (%00)", errBadPath
			}
			b.WriteByte(c)
			i += 2
		}
		d = b.String()
	}
	if strings.IndexByte(d, 0) >= 0 {
		return "", "the path contains a NUL byte", errBadPath
	}
	if d == "." || d == ".." {
		return "", `the path has a "." or ".." segment`, errBadPath
	}
	if strings.HasPrefix(d, ".;") || strings.HasPrefix(d, "..;") {
		// Servlet containers (Tomcat, Jetty) strip ";params" and read what is
		// left as a dot segment: "/a/..;/b" would reach "/b" behind a route
		// that only "/a/..;" matched.
		return "", `the path has a ".;" or "..;" segment, which some servers read as a dot segment`, errBadPath
	}
	if !utf8.ValidString(d) {
		// Overlong forms (%c0%ae for ".") are decoded to dots by lenient
		// decoders; one canonical path means valid UTF-8 only.
		return "", "the path is not valid UTF-8 once percent-decoded", errBadPath
	}
	return d, "", nil
}
