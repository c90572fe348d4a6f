package accesslog

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Format names accepted by Compile besides templates.
const (
	FormatJSON = "json"
	FormatCLF  = "clf"
)

// CLFTemplate is what the clf format writes: AWS's CLF preset for HTTP APIs
// (the route key stands where CLF has the path, as on AWS).
const CLFTemplate = `$context.identity.sourceIp - - [$context.requestTime] "$context.httpMethod $context.routeKey $context.protocol" $context.status $context.responseLength $context.requestId`

// Format is a compiled line format of the access log: a template of AWS
// $context variables. It is immutable once compiled and safe for concurrent
// use, so one Format per stage lives in the routing table and is shared by
// every request of that stage. A nil *Format means JSON lines.
type Format struct {
	src   string
	parts []part
}

// part is one piece of a template: a literal, or a variable.
type part struct {
	lit string
	v   *variable // nil for a literal
}

// variable is an AWS $context variable resolved to an Entry field.
type variable struct {
	// field is the Entry field index, or -1 when no field holds the value
	// (yet): the variable then renders as "-", as AWS writes unavailable values.
	field int
	// quoted renders the value as a JSON string ($context.error.messageString).
	quoted bool
	// zeroIsEmpty renders a numeric 0 as "-" (no integration status yet).
	zeroIsEmpty bool
}

// contextVariables maps the AWS $context variables Turnpike fills to the JSON
// name of the Entry field that holds the value. A field that does not exist
// in Entry renders "-": fields added to Entry later (authorizer, API key)
// light up in templates without touching this table's users.
var contextVariables = map[string]variable{}

// awsOnly are AWS $context variables that have no meaning here; they render
// as "-" so a template pasted from an AWS stage keeps working.
var awsOnly = []string{
	"accountId", "apiKeyId", "awsEndpointRequestId", "awsEndpointRequestId2", "customDomain.basePathMatched",
	"dataProcessed", "domainPrefix", "identity.accountId", "identity.caller", "identity.cognitoAuthenticationProvider",
	"identity.cognitoAuthenticationType", "identity.cognitoIdentityId", "identity.cognitoIdentityPoolId",
	"identity.principalOrgId", "identity.user", "identity.userAgent", "identity.userArn", "integration.requestId",
	"requestTimeEpoch", "resourceId", "resourcePath", "xrayTraceId", "waf.error", "waf.status", "waf.latency",
	"wafResponseCode", "webaclArn", "authorizer.integrationLatency", "authorizer.latency", "authorizer.status",
	"authorize.error", "authorize.latency", "authorize.status", "authenticate.error", "authenticate.latency",
	"authenticate.status", "integration.integrationStatus",
}

func init() {
	fields := map[string]int{}
	et := reflect.TypeFor[Entry]()
	for i := range et.NumField() {
		f := et.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch f.Type.Kind() {
		case reflect.String, reflect.Int, reflect.Int64, reflect.Int32, reflect.Bool:
			fields[name] = i
		default:
		}
	}
	field := func(name string) int {
		if i, ok := fields[name]; ok {
			return i
		}
		return -1
	}
	for aws, name := range map[string]string{
		"requestId": "requestId", "extendedRequestId": "requestId", "identity.sourceIp": "ip",
		"requestTime": "requestTime", "httpMethod": "httpMethod", "routeKey": "routeKey", "path": "path",
		"status": "status", "protocol": "protocol", "responseLength": "responseLength",
		"responseLatency": "responseLatency", "integrationLatency": "integrationLatency",
		"integration.latency": "integrationLatency", "integrationStatus": "integrationStatus",
		"integration.status": "integrationStatus", "integrationErrorMessage": "integrationErrorMessage",
		"integration.error": "integrationErrorMessage", "error.message": "errorMessage",
		"error.messageString": "errorMessage", "stage": "stage", "domainName": "domainName", "apiId": "api",
		"authorizer.error": "authorizerError", "authorizer.principalId": "principalId",
		"identity.apiKeyId": "apiKeyId", "identity.apiKey": "apiKeyId",
	} {
		contextVariables[aws] = variable{
			field:       field(name),
			quoted:      aws == "error.messageString",
			zeroIsEmpty: name == "integrationStatus" || name == "integrationLatency",
		}
	}
	for _, aws := range awsOnly {
		contextVariables[aws] = variable{field: -1}
	}
}

// maxFormatLength bounds a template, as the CRD does.
const maxFormatLength = 4096

// Compile turns a stage's accessLog.format into a Format: "json" (or "")
// gives nil, "clf" the CLF preset, anything else is a template of
// $context.<name> variables in AWS syntax. The error is a sentence for the
// Stage's condition: the template must fit on one line, must name
// $context.requestId (AWS requires it too, so every line can be traced back)
// and may use only known variables.
func Compile(format string) (*Format, error) {
	switch format {
	case "", FormatJSON:
		return nil, nil
	case FormatCLF:
		f, err := compileTemplate(CLFTemplate)
		if f != nil {
			f.src = FormatCLF
		}
		return f, err
	}
	if len(format) > maxFormatLength {
		return nil, fmt.Errorf("the access log format has %d bytes; at most %d are allowed", len(format), maxFormatLength)
	}
	if strings.ContainsAny(format, "\r\n") {
		return nil, errors.New("the access log format must be a single line")
	}
	f, err := compileTemplate(format)
	if err != nil {
		return nil, err
	}
	if !strings.Contains(format, "$context.requestId") && !strings.Contains(format, "$context.extendedRequestId") {
		return nil, errors.New("the access log format must include $context.requestId or $context.extendedRequestId")
	}
	return f, nil
}

const contextPrefix = "$context."

func compileTemplate(src string) (*Format, error) {
	f := &Format{src: src}
	rest := src
	for {
		i := strings.Index(rest, contextPrefix)
		if i < 0 {
			break
		}
		name := variableName(rest[i+len(contextPrefix):])
		v, ok := contextVariables[name]
		if !ok {
			return nil, fmt.Errorf("the access log format uses $context.%s, which is not a known variable", name)
		}
		if i > 0 {
			f.parts = append(f.parts, part{lit: rest[:i]})
		}
		f.parts = append(f.parts, part{v: &v})
		rest = rest[i+len(contextPrefix)+len(name):]
	}
	if rest != "" {
		f.parts = append(f.parts, part{lit: rest})
	}
	return f, nil
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

// String returns the template the Format was compiled from.
func (f *Format) String() string {
	if f == nil {
		return FormatJSON
	}
	return f.src
}

// MarshalJSON shows the template (for the admin /table dump and golden tests).
func (f *Format) MarshalJSON() ([]byte, error) { return json.Marshal(f.String()) }

// Append renders e on the template and appends the line, with its newline,
// to buf. String values are escaped as inside a JSON string, so a value can
// neither break the line nor the quoting of a JSON-shaped template; empty
// values render as "-", as on AWS.
func (f *Format) Append(buf []byte, e *Entry) []byte {
	ev := reflect.ValueOf(e).Elem()
	for _, p := range f.parts {
		if p.v == nil {
			buf = append(buf, p.lit...)
			continue
		}
		buf = appendValue(buf, p.v, ev)
	}
	return append(buf, '\n')
}

func appendValue(buf []byte, v *variable, ev reflect.Value) []byte {
	if v.field < 0 {
		return append(buf, '-')
	}
	fv := ev.Field(v.field)
	switch fv.Kind() {
	case reflect.String:
		s := fv.String()
		if s == "" {
			return append(buf, '-')
		}
		if v.quoted {
			return append(appendEscaped(append(buf, '"'), s), '"')
		}
		return appendEscaped(buf, s)
	case reflect.Bool:
		return strconv.AppendBool(buf, fv.Bool())
	default:
		n := fv.Int()
		if n == 0 && v.zeroIsEmpty {
			return append(buf, '-')
		}
		return strconv.AppendInt(buf, n, 10)
	}
}

// appendEscaped appends s escaped as the inside of a JSON string.
func appendEscaped(buf []byte, s string) []byte {
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
