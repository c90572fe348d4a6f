package main

import (
	"strings"
	"testing"
)

// stream is govulncheck -format json output: one stdlib and one module
// vulnerability called from our code, and one only imported.
const stream = `{"config":{"scanner_name":"govulncheck"}}
{"osv":{"id":"GO-2026-0001","summary":"net/http thing"}}
{"osv":{"id":"GO-2026-0002","summary":"x/net thing"}}
{"osv":{"id":"GO-2026-0003","summary":"imported only"}}
{"finding":{"osv":"GO-2026-0001","fixed_version":"v1.26.9","trace":[{"module":"stdlib","version":"v1.26.8","package":"net/http","function":"ReadRequest"},{"module":"example.com/m","package":"example.com/m/a","function":"Serve"}]}}
{"finding":{"osv":"GO-2026-0002","fixed_version":"v0.60.0","trace":[{"module":"golang.org/x/net","version":"v0.59.0","package":"golang.org/x/net/http2","function":"Framer.ReadFrame"},{"module":"example.com/m","package":"example.com/m/b","function":"Dial"}]}}
{"finding":{"osv":"GO-2026-0003","fixed_version":"v1.0.1","trace":[{"module":"example.com/dep","version":"v1.0.0","package":"example.com/dep/p"}]}}
`

func TestCheck(t *testing.T) {
	cases := []struct {
		name     string
		accepted map[string]string
		wantErr  string // "" for success
	}{
		{"a reachable module and stdlib vulnerability fail", nil, "GO-2026-0002"},
		{"an accepted stdlib one passes only with the module one fixed", map[string]string{"GO-2026-0001": "toolchain"}, "GO-2026-0002"},
		{"a module vulnerability cannot be accepted", map[string]string{"GO-2026-0001": "x", "GO-2026-0002": "y"}, "only standard-library"},
		{"a stale accepted entry fails", map[string]string{"GO-2026-0001": "x", "GO-2026-0009": "y"}, "no longer found"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out strings.Builder
			err := check(strings.NewReader(stream), &out, c.accepted)
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("err %v, want one naming %q\n%s", err, c.wantErr, out.String())
			}
			if strings.Contains(out.String(), "GO-2026-0003") {
				t.Errorf("an imported-only vulnerability was reported:\n%s", out.String())
			}
		})
	}
	only := strings.Join(strings.Split(stream, "\n")[:5], "\n") // the stdlib finding alone
	var out strings.Builder
	if err := check(strings.NewReader(only+"\n"), &out, map[string]string{"GO-2026-0001": "toolchain"}); err != nil {
		t.Fatalf("only an accepted stdlib vulnerability: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "1 reachable vulnerabilities, 1 accepted") {
		t.Errorf("summary:\n%s", out.String())
	}
}
