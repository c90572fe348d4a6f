package reqctx

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Template is a compiled text with $context variables in AWS syntax
// ("$context.requestId"). It is immutable and safe for concurrent use, so
// one Template lives in the routing table and serves every request that
// uses it. Rendering escapes every value as the inside of a JSON string, so
// no value can break a line or a JSON-shaped template's quoting, and writes
// "-" for an empty value, as AWS writes unavailable values.
type Template struct {
	// src is what the template was compiled from (or a preset's name).
	src   string
	parts []part
}

// part is one piece of a template: a literal, or a variable.
type part struct {
	lit   string
	v     Var
	isVar bool
}

const contextPrefix = "$context."

// UnknownVariableError is a template's first variable that is not a
// $context variable.
type UnknownVariableError struct{ Name string }

func (e *UnknownVariableError) Error() string {
	return "$context." + e.Name + " is not a known variable"
}

// CompileTemplate compiles src; the error (an *UnknownVariableError) names
// the first unknown variable.
func CompileTemplate(src string) (*Template, error) {
	t := &Template{src: src}
	rest := src
	for {
		i := strings.Index(rest, contextPrefix)
		if i < 0 {
			break
		}
		name := variableName(rest[i+len(contextPrefix):])
		v, ok := Lookup(name)
		if !ok {
			return nil, &UnknownVariableError{Name: name}
		}
		if i > 0 {
			t.parts = append(t.parts, part{lit: rest[:i]})
		}
		t.parts = append(t.parts, part{v: v, isVar: true})
		rest = rest[i+len(contextPrefix)+len(name):]
	}
	if rest != "" {
		t.parts = append(t.parts, part{lit: rest})
	}
	return t, nil
}

// variableName is the longest run of letters, digits, '_' and inner '.' at
// the start of s: in "$context.status." the final dot is punctuation.
func variableName(s string) string {
	end := 0
	for end < len(s) {
		c := s[end]
		if c == '.' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			end++
			continue
		}
		break
	}
	return strings.TrimRight(s[:end], ".")
}

// String returns the source the template was compiled from.
func (t *Template) String() string { return t.src }

// MarshalJSON shows the source (for the admin /table dump and golden tests).
func (t *Template) MarshalJSON() ([]byte, error) { return json.Marshal(t.String()) }

// Vars are the variables the template uses, in order.
func (t *Template) Vars() []Var {
	var vs []Var
	for _, p := range t.parts {
		if p.isVar {
			vs = append(vs, p.v)
		}
	}
	return vs
}

// Append renders the template for c and appends it to buf.
func (t *Template) Append(buf []byte, c *Context) []byte {
	for i := range t.parts {
		p := &t.parts[i]
		if !p.isVar {
			buf = append(buf, p.lit...)
			continue
		}
		buf = c.appendEscaped(buf, p.v)
	}
	return buf
}

// AppendBody renders the template for c into a response body (gateway
// response templates): as Append, except that an empty value renders as
// nothing, and an empty quoted value as "", as AWS renders unset variables.
func (t *Template) AppendBody(buf []byte, c *Context) []byte {
	for i := range t.parts {
		p := &t.parts[i]
		switch {
		case !p.isVar:
			buf = append(buf, p.lit...)
		case p.v.def.num != nil:
			buf = c.appendNumber(buf, p.v.def)
		case p.v.def.quoted:
			buf = append(AppendEscaped(append(buf, '"'), c.Text(p.v)), '"')
		default:
			buf = AppendEscaped(buf, c.Text(p.v))
		}
	}
	return buf
}

// appendEscaped appends v's value, escaped as inside a JSON string (quoted
// for $context.error.messageString), or "-" when it is empty.
func (c *Context) appendEscaped(buf []byte, v Var) []byte {
	d := v.def
	if d.num != nil {
		n := len(buf)
		if buf = c.appendNumber(buf, d); len(buf) == n {
			buf = append(buf, '-')
		}
		return buf
	}
	s := c.Text(v)
	switch {
	case s == "":
		return append(buf, '-')
	case d.quoted:
		return append(AppendEscaped(append(buf, '"'), s), '"')
	}
	return AppendEscaped(buf, s)
}

// AppendEscaped appends s escaped as the inside of a JSON string: quotes
// and backslashes escaped, control characters as \u00XX, invalid UTF-8 as
// \ufffd.
func AppendEscaped(buf []byte, s string) []byte {
	const hex = "0123456789abcdef"
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			buf = append(buf, '\\', c)
		case c < 0x20 || c == 0x7f:
			buf = append(buf, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		case c < utf8.RuneSelf:
			buf = append(buf, c)
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				buf = append(buf, `\ufffd`...)
			} else {
				buf = append(buf, s[i:i+size]...)
			}
			i += size
			continue
		}
		i++
	}
	return buf
}

// Access-log formats (Stage.spec.accessLog.format) besides templates.
const (
	FormatJSON = "json"
	FormatCLF  = "clf"
)

// CLFTemplate is what the clf format writes: AWS's CLF preset for HTTP APIs
// (the route key stands where CLF has the path, as on AWS).
const CLFTemplate = `$context.identity.sourceIp - - [$context.requestTime] "$context.httpMethod $context.routeKey $context.protocol" $context.status $context.responseLength $context.requestId`

// maxFormatLength bounds an access-log template, as the CRD does.
const maxFormatLength = 4096

// CompileAccessLog turns a stage's accessLog.format into its line template:
// "json" (or "") gives nil (the access log writes its JSON object), "clf"
// the CLF preset, anything else is a template with AWS's rules: it must fit
// on one line, must name $context.requestId (so every line can be traced
// back) and may use only known variables. The error is a sentence for the
// Stage's condition. It lives here, not with the access log's writer, so
// the table and the translator use it without linking a goroutine.
func CompileAccessLog(format string) (*Template, error) {
	switch format {
	case "", FormatJSON:
		return nil, nil
	case FormatCLF:
		t, err := CompileTemplate(CLFTemplate)
		if t != nil {
			t.src = FormatCLF
		}
		return t, err
	}
	if len(format) > maxFormatLength {
		return nil, fmt.Errorf("the access log format has %d bytes; at most %d are allowed", len(format), maxFormatLength)
	}
	if strings.ContainsAny(format, "\r\n") {
		return nil, errors.New("the access log format must be a single line")
	}
	t, err := CompileTemplate(format)
	if err != nil {
		var unknown *UnknownVariableError
		if errors.As(err, &unknown) {
			return nil, fmt.Errorf("the access log format uses $context.%s, which is not a known variable", unknown.Name)
		}
		return nil, err
	}
	if !strings.Contains(format, "$context.requestId") && !strings.Contains(format, "$context.extendedRequestId") {
		return nil, errors.New("the access log format must include $context.requestId or $context.extendedRequestId")
	}
	return t, nil
}
