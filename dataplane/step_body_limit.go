package dataplane

import (
	"fmt"
	"net/http"

	"github.com/turnpike-io/turnpike/dataplane/gatewayresp"
)

// DefaultMaxRequestBodyBytes applies when an Api's table entry carries no
// positive limit (hand-built tables); the translator always sets one.
const DefaultMaxRequestBodyBytes = 10 << 20

// limitBody is the body limit step: a declared length over the Api's limit
// is refused at once (413); a body of unknown length is cut at the limit
// while it is read, by whichever step reads it.
func (x *exchange) limitBody() bool {
	limit := x.api.MaxRequestBodyBytes
	if limit <= 0 {
		limit = DefaultMaxRequestBodyBytes
	}
	if x.r.ContentLength > limit {
		x.fail(gatewayresp.RequestTooLarge, http.StatusRequestEntityTooLarge, msgTooLarge,
			fmt.Sprintf("the request body has %d bytes; this Api accepts at most %d", x.r.ContentLength, limit))
		return false
	}
	if x.r.Body != nil && x.r.Body != http.NoBody {
		// The server's own writer, not ours: MaxBytesReader then also tells the
		// server to close the connection after an oversized body.
		x.r.Body = http.MaxBytesReader(x.orig, x.r.Body, limit)
	}
	return true
}
