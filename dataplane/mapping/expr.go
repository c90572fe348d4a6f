// Package mapping is AWS HTTP API parameter mapping: requestParameters change
// the request before it reaches the integration (headers, query string,
// path), responseParameters change the integration's response per status
// code (headers, status code).
//
// Invariants:
//   - Everything is compiled once, by the translator, into the routing table:
//     a request only evaluates compiled parts (no parsing of expressions per
//     request). Compile rejects every key and value it cannot serve, with a
//     sentence naming the key, so a Route that is served never meets an
//     expression it does not understand.
//   - Values are evaluated against the request as received, all before any
//     operation is applied, so one mapping never sees another's result.
//   - Reserved headers (ReservedHeader) are never mapped.
//   - This package imports neither net/http nor the CRD types: the translator
//     (which must stay pure) compiles, the dataplane applies, and headers are
//     plain map[string][]string keyed by canonical MIME names, as
//     http.Header is.
package mapping

import (
	"errors"
	"fmt"
	"net/textproto"
	"strings"

	"github.com/turnpike-io/turnpike/dataplane/reqctx"
)

// source is where a variable of a value expression reads from.
type source uint8

const (
	srcLiteral        source = iota // no variable: part.lit only
	srcHeader                       // $request.header.NAME
	srcQuery                        // $request.querystring.NAME
	srcPath                         // $request.path
	srcPathParam                    // $request.path.NAME
	srcBody                         // $request.body[.jsonpath]
	srcContext                      // $context.NAME
	srcStageVariable                // $stageVariables.NAME
	srcResponseHeader               // $response.header.NAME
)

// part is one piece of a value: a literal, or a variable.
type part struct {
	src  source
	lit  string     // srcLiteral
	name string     // header (canonical), query, parameter, context or variable name
	path []step     // srcBody: nil means the whole body
	ctx  reqctx.Var // srcContext: the compiled $context variable
}

// Value is a compiled value expression: static text and variables, in AWS
// syntax ($request.header.x, ${request.header.x}, mixed with text).
// Immutable once compiled.
type Value struct {
	src   string
	parts []part
}

// String returns the expression as written.
func (v *Value) String() string { return v.src }

// usesBody reports whether evaluating v needs the request body.
func (v *Value) usesBody() bool {
	for _, p := range v.parts {
		if p.src == srcBody {
			return true
		}
	}
	return false
}

// phase says which variables a value may use.
type phase uint8

const (
	phaseRequest  phase = iota // requestParameters: $request, $context, $stageVariables
	phaseResponse              // responseParameters: $response.header, $context, $stageVariables
)

// compileValue parses a value expression for phase ph.
func compileValue(src string, ph phase) (Value, error) {
	v := Value{src: src}
	lit := strings.Builder{}
	s := src
	for s != "" {
		i := strings.IndexByte(s, '$')
		if i < 0 {
			lit.WriteString(s)
			break
		}
		lit.WriteString(s[:i])
		s = s[i:]
		var expr string
		switch {
		case strings.HasPrefix(s, "${"):
			end := strings.IndexByte(s, '}')
			if end < 0 {
				return v, errors.New("\"${\" is not closed by \"}\"")
			}
			expr, s = s[2:end], s[end+1:]
		case hasVariablePrefix(s[1:]):
			n := bareEnd(s)
			expr, s = s[1:n], s[n:]
		default:
			lit.WriteByte('$') // a dollar that starts no variable is text
			s = s[1:]
			continue
		}
		p, err := compileVariable(expr, ph)
		if err != nil {
			return v, err
		}
		if lit.Len() > 0 {
			v.parts = append(v.parts, part{lit: lit.String()})
			lit.Reset()
		}
		v.parts = append(v.parts, p)
	}
	if lit.Len() > 0 {
		v.parts = append(v.parts, part{lit: lit.String()})
	}
	return v, nil
}

func hasVariablePrefix(s string) bool {
	for _, p := range [...]string{"request.", "context.", "stageVariables.", "response."} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return s == "request" // "$request" alone: an error the variable parser names
}

// bareEnd is the end of a variable written without braces at the start of
// s ("$..."): letters, digits, '_', '-', '.', and [ ] in pairs; anything
// else ends it, and so do trailing dots, which stay text ("$request.path."
// is the path and a dot). Use ${...} for names with other characters.
func bareEnd(s string) int {
	n, open := 1, false
	for ; n < len(s); n++ {
		c := s[n]
		word := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
		switch {
		case word:
		case c == '[' && !open:
			open = true
		case c == ']' && open:
			open = false
		default:
			return trimDots(s, n)
		}
	}
	return trimDots(s, n)
}

func trimDots(s string, n int) int {
	for n > 1 && s[n-1] == '.' {
		n--
	}
	return n
}

// compileVariable parses one variable without its "$" or "${}".
func compileVariable(expr string, ph phase) (part, error) {
	root, rest, _ := strings.Cut(expr, ".")
	switch root {
	case "request":
		if ph == phaseResponse {
			return part{}, fmt.Errorf("$%s: response mappings may use $response.header, $context and $stageVariables, not $request", expr)
		}
		return compileRequestVariable(expr, rest)
	case "response":
		name, ok := strings.CutPrefix(rest, "header.")
		switch {
		case ph == phaseRequest:
			return part{}, fmt.Errorf("$%s: $response is only available in responseParameters", expr)
		case rest == "body" || strings.HasPrefix(rest, "body."):
			return part{}, fmt.Errorf("$%s: $response.body is not supported by Turnpike (the response is streamed, not buffered)", expr)
		case !ok || !validHeaderName(name):
			return part{}, fmt.Errorf("$%s: expected $response.header.NAME", expr)
		}
		return part{src: srcResponseHeader, name: textproto.CanonicalMIMEHeaderKey(name)}, nil
	case "context":
		v, ok := reqctx.Lookup(rest)
		if !ok || !v.Meaningful() {
			return part{}, fmt.Errorf("$%s: unknown context variable %q", expr, rest)
		}
		return part{src: srcContext, name: rest, ctx: v}, nil
	case "stageVariables":
		if !validVariableName(rest) {
			return part{}, fmt.Errorf("$%s: stage variable names are 1 to 64 letters, digits or underscores", expr)
		}
		return part{src: srcStageVariable, name: rest}, nil
	}
	return part{}, fmt.Errorf("$%s: unknown variable; use $request, $context or $stageVariables", expr)
}

func compileRequestVariable(expr, rest string) (part, error) {
	kind, name, _ := strings.Cut(rest, ".")
	switch {
	case kind == "header" && validHeaderName(name):
		return part{src: srcHeader, name: textproto.CanonicalMIMEHeaderKey(name)}, nil
	case kind == "querystring" && name != "":
		return part{src: srcQuery, name: name}, nil
	case rest == "path":
		return part{src: srcPath}, nil
	case kind == "path" && name != "":
		return part{src: srcPathParam, name: name}, nil
	case rest == "body":
		return part{src: srcBody}, nil
	case kind == "body" || strings.HasPrefix(rest, "body["):
		steps, err := parseJSONPath(strings.TrimPrefix(strings.TrimPrefix(rest, "body"), "."))
		if err != nil {
			return part{}, fmt.Errorf("$%s: %w", expr, err)
		}
		return part{src: srcBody, path: steps}, nil
	}
	return part{}, fmt.Errorf("$%s: expected $request.header.NAME, $request.querystring.NAME, $request.path, $request.path.NAME or $request.body.JSONPATH", expr)
}

// validHeaderName: an HTTP token (RFC 9110).
func validHeaderName(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
		if !ok {
			return false
		}
	}
	return true
}

func validVariableName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		word := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
		if !word {
			return false
		}
	}
	return true
}
