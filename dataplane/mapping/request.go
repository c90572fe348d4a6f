package mapping

import (
	"errors"
	"maps"
	"net/url"
	"strings"

	"github.com/turnpike-io/turnpike/dataplane/urlpath"
)

// Request is a compiled requestParameters map. Immutable once compiled.
type Request struct {
	ops       []op
	needsBody bool
	src       map[string]string
}

// CompileRequest compiles requestParameters; nil params give a nil *Request,
// which Apply treats as "no mapping". The error names the first bad key (in
// key order) and why.
func CompileRequest(params map[string]string) (*Request, error) {
	if len(params) == 0 {
		return nil, nil
	}
	ops, err := compileOps(params, phaseRequest, "requestParameters")
	if err != nil {
		return nil, err
	}
	m := &Request{ops: ops, src: maps.Clone(params)}
	for i := range ops {
		m.needsBody = m.needsBody || ops[i].value.usesBody()
	}
	return m, nil
}

// NeedsBody reports whether some value reads $request.body: only then does
// the dataplane read (and replay) the request body.
func (m *Request) NeedsBody() bool { return m != nil && m.needsBody }

// MarshalJSON renders the mapping as written.
func (m *Request) MarshalJSON() ([]byte, error) { return marshalSource(m.src) }

// Outgoing is what a request mapping changes: the header map (changed in
// place), the query string and the path of the integration request.
type Outgoing struct {
	Header   map[string][]string
	RawQuery string
	// Path is the escaped path to send when PathSet (overwrite:path).
	Path    string
	PathSet bool
}

// ErrUnsafePath is returned by Apply when overwrite:path yields a path with
// a "." or ".." segment: the gateway never sends one to a backend.
var ErrUnsafePath = errors.New("the mapped path has a \".\" or \"..\" segment")

// Apply evaluates every value against in, then applies the operations to
// out. in.Header and out.Header may be the same map: values are read first.
func (m *Request) Apply(in *Input, out *Outgoing) error {
	if m == nil {
		return nil
	}
	var buf [16]string
	vals := buf[:0]
	for i := range m.ops {
		if m.ops[i].tgt == tgtPath {
			vals = append(vals, m.ops[i].value.evalPath(in))
			continue
		}
		vals = append(vals, m.ops[i].value.eval(in))
	}
	for i := range m.ops {
		o, v := &m.ops[i], vals[i]
		switch o.tgt {
		case tgtHeader:
			applyHeader(out.Header, o, v)
		case tgtQuery:
			out.RawQuery = applyQuery(out.RawQuery, o, v)
		case tgtPath:
			p, ok := safePath(v)
			if !ok {
				return ErrUnsafePath
			}
			out.Path, out.PathSet = p, true
		default:
		}
	}
	return nil
}

// applyQuery runs one query string operation on the raw query. Pairs of
// other names keep their order and escaping; mapped pairs are added at the
// end, escaped. Empty values behave as for headers.
func applyQuery(raw string, o *op, v string) string {
	switch {
	case o.act == actAppend && v == "":
		return raw
	case o.act != actAppend:
		raw = removeQuery(raw, o.name)
		if o.act == actRemove || v == "" {
			return raw
		}
	}
	pair := url.QueryEscape(o.name) + "=" + url.QueryEscape(v)
	if raw == "" {
		return pair
	}
	return raw + "&" + pair
}

// removeQuery drops every pair whose decoded name is name.
func removeQuery(raw, name string) string {
	if raw == "" {
		return raw
	}
	var b strings.Builder
	for pair := range strings.SplitSeq(raw, "&") {
		k, _, _ := strings.Cut(pair, "=")
		if dk, err := url.QueryUnescape(k); err == nil && dk == name {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(pair)
	}
	return b.String()
}

// evalPath evaluates v as an escaped path. Text that is already escaped
// path syntax (the template's literal text, $stageVariables, which the
// operator writes, and $request.path and $context.path, the escaped path as
// sent) is kept as it is; every decoded value (path parameters, headers,
// query values, the body, other $context values) is escaped, so a "%" in
// it is data ("%25") and never an escape the backend decodes a second time.
// A "/" survives only in a greedy path parameter, where it separated the
// client's segments; in any other decoded value it becomes "%2F".
func (v *Value) evalPath(in *Input) string {
	var b strings.Builder
	for i := range v.parts {
		p := &v.parts[i]
		s := in.lookup(p)
		switch {
		case p.src == srcLiteral, p.src == srcStageVariable, p.src == srcPath,
			p.src == srcContext && p.name == "path":
			b.WriteString(s)
		case p.src == srcPathParam:
			b.WriteString(urlpath.EscapeSegments(s))
		default:
			b.WriteString(url.PathEscape(s))
		}
	}
	return b.String()
}

// safePath turns a mapped value into an escaped absolute path: a leading
// "/" is added when missing, characters a path cannot carry are
// percent-encoded (valid %XX escapes are kept), and a path with a "." or
// ".." segment (also encoded) is refused.
func safePath(v string) (string, bool) {
	var b strings.Builder
	if !strings.HasPrefix(v, "/") {
		b.WriteByte('/')
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '%' && i+2 < len(v) && urlpath.IsHex(v[i+1]) && urlpath.IsHex(v[i+2]), pathChar(c):
			b.WriteByte(c)
		default:
			const hex = "0123456789ABCDEF"
			b.Write([]byte{'%', hex[c>>4], hex[c&15]})
		}
	}
	p := b.String()
	for seg := range strings.SplitSeq(p, "/") {
		if d, err := url.PathUnescape(seg); err == nil && (d == "." || d == "..") {
			return "", false
		}
	}
	return p, true
}

// pathChar: unreserved, sub-delims, ':', '@' and '/' (RFC 3986 path).
func pathChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~!$&'()*+,;=:@/", c) >= 0
}
