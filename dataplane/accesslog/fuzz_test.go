package accesslog

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// FuzzCompileFormat compiles arbitrary accessLog.format templates and renders
// the ones that compile with an entry whose client-controlled fields carry
// newlines, quotes and NULs: rendering never panics and every entry stays on
// exactly one line, ended by its newline (no log injection).
func FuzzCompileFormat(f *testing.F) {
	for _, s := range []string{"json", "clf", "$context.requestId $context.status",
		`{"id":"$context.requestId","p":"$context.path","e":$context.error.messageString}`,
		"$context.requestId ${context.path} $context.identity.sourceIp $context.unknown",
		"$context.requestId $context.authorizer.claims.sub", "$context.requestId\n$context.path", "$$context.requestId$"} {
		f.Add(s)
	}
	e := &Entry{RequestID: "r\nid", IP: "1.2.3.4", Time: time.Unix(0, 0), HTTPMethod: "GET\r\n", Path: "/a\nb\"c\x00",
		Status: 200, Protocol: "HTTP/1.1", ErrorMessage: "bad\n\"msg\"", ErrorHint: "h\r", PrincipalID: "p\n", RouteKey: "GET /x\n"}
	f.Fuzz(func(t *testing.T, format string) {
		fm, err := Compile(format)
		if err != nil || fm == nil {
			return
		}
		line, ok := bytes.CutSuffix(fm.Append(nil, e), []byte("\n"))
		if !ok || bytes.ContainsAny(line, "\r\n") {
			t.Fatalf("%q rendered a line break: %q", format, line)
		}
		if strings.Contains(format, "\n") {
			t.Fatalf("%q compiled with a line break", format)
		}
	})
}
