package reqctx

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// FuzzCompileFormat compiles arbitrary accessLog.format templates and renders
// the ones that compile with a $context whose client-controlled values carry
// newlines, quotes and NULs: rendering never panics and every line stays
// one line (no log injection).
func FuzzCompileFormat(f *testing.F) {
	for _, s := range []string{"json", "clf", "$context.requestId $context.status",
		`{"id":"$context.requestId","p":"$context.path","e":$context.error.messageString}`,
		"$context.requestId ${context.path} $context.identity.sourceIp $context.unknown",
		"$context.requestId $context.authorizer.claims.sub", "$context.requestId\n$context.path", "$$context.requestId$"} {
		f.Add(s)
	}
	c := &Context{RequestID: "r\nid", SourceIP: "1.2.3.4", RequestTime: time.Unix(0, 0), HTTPMethod: "GET\r\n", Path: "/a\nb\"c\x00",
		Status: 200, Protocol: "HTTP/1.1", ErrorMessage: "bad\n\"msg\"", ErrorHint: "h\r", PrincipalID: "p\n", RouteKey: "GET /x\n",
		UserAgent: "ua\r\nX: y", Authorizer: claims{"claims.sub": "s\nub"}}
	f.Fuzz(func(t *testing.T, format string) {
		fm, err := CompileAccessLog(format)
		if err != nil || fm == nil {
			return
		}
		line := fm.Append(nil, c)
		if bytes.ContainsAny(line, "\r\n") {
			t.Fatalf("%q rendered a line break: %q", format, line)
		}
		if strings.Contains(format, "\n") {
			t.Fatalf("%q compiled with a line break", format)
		}
	})
}

// claims are authorizer values for the fuzz target.
type claims map[string]string

func (c claims) Value(name string) (string, bool) { v, ok := c[name]; return v, ok }
