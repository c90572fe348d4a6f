package dataplane

import (
	"net/http"

	"github.com/turnpike-io/turnpike/dataplane/gatewayresp"
)

// checkPath is the path step: the escaped path is split and decoded once
// (path.go); a path that could be read two ways (dot segments, encoded
// slashes, bad escapes, NUL) is refused with 400 before anything routes,
// authorizes or forwards it.
func (x *exchange) checkPath() bool {
	esc := x.r.URL.RawPath
	if esc == "" {
		esc = x.r.URL.EscapedPath()
	}
	p, hint, err := parsePath(esc, x.rawBuf[:0], x.decBuf[:0])
	x.path = p
	if err != nil {
		x.fail(gatewayresp.Default4XX, http.StatusBadRequest, msgBadRequest, hint)
		return false
	}
	return true
}
