package dataplane

import "github.com/turnpike-io/turnpike/dataplane/accesslog"

// logAccess is the access log's out side, the last thing a request does:
// one entry per request, whatever step answered it, queued without ever
// blocking (dataplane/accesslog). The entry is the request's $context and
// its stage's line format (JSON when the stage has none or none was
// resolved).
func (x *exchange) logAccess() {
	if x.s.access == nil {
		return
	}
	e := accesslog.Entry{Context: *x.context()}
	if x.stage != nil {
		e.Format = x.stage.AccessLog
	}
	x.s.access.Log(e)
}
