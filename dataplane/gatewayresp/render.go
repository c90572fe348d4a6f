package gatewayresp

import (
	"errors"
	"fmt"
	"net/textproto"
	"net/url"
	"regexp"
	"strings"

	"github.com/turnpike-io/turnpike/dataplane/reqctx"
	"github.com/turnpike-io/turnpike/dataplane/urlpath"
)

// Source is what a gateway response may read about the request it answers.
type Source struct {
	// Context is the request's $context (error.message, requestId, ...).
	Context *reqctx.Context
	// Header is the request header (canonical keys).
	Header map[string][]string
	// RawQuery is the request's query string.
	RawQuery string
	// Path are the matched route's path parameters (empty before routing).
	Path urlpath.Params
	// StageVariables are the stage variables the request sees (nil before
	// the stage is known).
	StageVariables map[string]string
}

// valueKind says where a responseParameters value comes from.
type valueKind uint8

const (
	kindStatic valueKind = iota
	kindContext
	kindStageVariable
	kindHeader
	kindMultiHeader
	kindQuery
	kindMultiQuery
	kindPath
)

// value is a compiled responseParameters value.
type value struct {
	kind valueKind
	// text is the static text, or the name of the variable or parameter
	// (canonical for headers).
	text string
	v    reqctx.Var
}

// sources are the value forms after an optional "$", longest first.
var sources = []struct {
	prefix string
	kind   valueKind
}{
	{"method.request.multivaluequerystring.", kindMultiQuery},
	{"method.request.multivalueheader.", kindMultiHeader},
	{"method.request.querystring.", kindQuery},
	{"method.request.header.", kindHeader},
	{"method.request.path.", kindPath},
	{"stageVariables.", kindStageVariable},
	{"context.", kindContext},
}

var stageVariableName = regexp.MustCompile(`^[A-Za-z0-9_]{1,64}$`)

// parseValue compiles a responseParameters value: 'static', context.X,
// stageVariables.X or method.request.{header,querystring,path,
// multivalueheader,multivaluequerystring}.X, each with an optional "$".
func parseValue(s string) (value, error) {
	if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
		static := s[1 : len(s)-1]
		if strings.ContainsAny(static, "\r\n\x00") {
			return value{}, errors.New("a header value cannot contain a line break or NUL")
		}
		return value{kind: kindStatic, text: static}, nil
	}
	expr := strings.TrimPrefix(s, "$")
	for _, src := range sources {
		name, ok := strings.CutPrefix(expr, src.prefix)
		if !ok || name == "" {
			continue
		}
		switch src.kind {
		case kindContext:
			v, known := reqctx.Lookup(name)
			if !known {
				return value{}, fmt.Errorf("$context.%s is not a known variable", name)
			}
			return value{kind: kindContext, text: name, v: v}, nil
		case kindStageVariable:
			if !stageVariableName.MatchString(name) {
				return value{}, fmt.Errorf("%q is not a stage variable name", name)
			}
		case kindHeader, kindMultiHeader:
			name = textproto.CanonicalMIMEHeaderKey(name)
		}
		return value{kind: src.kind, text: name}, nil
	}
	return value{}, fmt.Errorf("%q is not a static 'value', context.X, stageVariables.X or method.request.header|querystring|path.X", s)
}

// of is the value for src ("" when it has none).
func (v *value) of(src *Source) string {
	switch v.kind {
	case kindStatic:
		return v.text
	case kindContext:
		return src.Context.Text(v.v)
	case kindStageVariable:
		return src.StageVariables[v.text]
	case kindHeader:
		if vs := src.Header[v.text]; len(vs) > 0 {
			return vs[len(vs)-1]
		}
	case kindMultiHeader:
		return strings.Join(src.Header[v.text], ",")
	case kindQuery, kindMultiQuery:
		q, _ := url.ParseQuery(src.RawQuery) // a bad pair is skipped, the rest kept
		vs := q[v.text]
		if len(vs) == 0 {
			return ""
		}
		if v.kind == kindQuery {
			return vs[len(vs)-1]
		}
		return strings.Join(vs, ",")
	case kindPath:
		p, _ := src.Path.Get(v.text)
		return p
	}
	return ""
}

// Template is one compiled responseTemplates entry: $context variables
// (compiled by reqctx) and $stageVariables references, in order.
type Template struct {
	contentType string
	parts       []templatePart
}

// templatePart is a piece of a template: a $context template (literal text
// included) or a stage variable.
type templatePart struct {
	ctx      *reqctx.Template
	stageVar string
}

// stageVariableRef finds $stageVariables.NAME in a template.
var stageVariableRef = regexp.MustCompile(`\$stageVariables\.([A-Za-z0-9_]+)`)

func compileTemplate(contentType, src string) (*Template, error) {
	ct := strings.ToLower(contentType)
	if !mediaTypePattern.MatchString(ct) {
		return nil, errors.New("the key must be a content type such as application/json")
	}
	if m := vtl.FindString(src); m != "" {
		return nil, fmt.Errorf("%q is Velocity (VTL) the gateway does not evaluate; templates take $context.X and $stageVariables.X", m)
	}
	t := &Template{contentType: ct}
	add := func(text string) error {
		if text == "" {
			return nil
		}
		c, err := reqctx.CompileTemplate(text)
		if err != nil {
			return err
		}
		t.parts = append(t.parts, templatePart{ctx: c})
		return nil
	}
	rest := src
	for _, loc := range stageVariableRef.FindAllStringSubmatchIndex(src, -1) {
		if err := add(src[len(src)-len(rest) : loc[0]]); err != nil {
			return nil, err
		}
		t.parts = append(t.parts, templatePart{stageVar: src[loc[2]:loc[3]]})
		rest = src[loc[1]:]
	}
	if err := add(rest); err != nil {
		return nil, err
	}
	return t, nil
}

// ContentType is the template's content type (the answer's Content-Type).
func (t *Template) ContentType() string { return t.contentType }

// Render appends the body for src to buf. Values are escaped as the
// inside of a JSON string, $context.error.messageString is quoted, and a
// value that is empty renders as nothing (reqctx.Template.AppendBody).
func (t *Template) Render(buf []byte, src *Source) []byte {
	for _, p := range t.parts {
		if p.ctx != nil {
			buf = p.ctx.AppendBody(buf, src.Context)
		} else {
			buf = reqctx.AppendEscaped(buf, src.StageVariables[p.stageVar])
		}
	}
	return buf
}
