package dataplane

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/turnpike-io/turnpike/dataplane/proxy"
)

// bufferBody reads the whole request body (bounded by limitBody's reader)
// once and puts a replay of it in its place; later calls return the same
// bytes (request validation, parameter mapping and the FUNCTION event share
// one read). The read has the integration's timeout as its deadline, as a
// streamed body has when it is forwarded: a client that sends its body
// slowly gets 408 "Request Timeout" and its connection is closed, instead
// of holding a handler (the server has no ReadTimeout, which would cut long
// streamed uploads). purpose says, for the hint, why the first reader
// needed it.
func (x *exchange) bufferBody(purpose string) ([]byte, bool) {
	if x.bodyRead {
		return x.body, true
	}
	if x.r.Body == nil || x.r.Body == http.NoBody {
		x.bodyRead = true
		return nil, true
	}
	timeout := proxy.DefaultTimeout
	if ms := x.integration().TimeoutMillis; ms > 0 {
		timeout = time.Duration(ms) * time.Millisecond
	}
	rc := http.NewResponseController(x.orig)
	deadline := rc.SetReadDeadline(time.Now().Add(timeout)) == nil // not supported: test writers only
	b, err := io.ReadAll(x.r.Body)
	if err != nil {
		// The client's failure, never the integration's (408 slow, 413 too
		// large, 400 broken framing; no integration cause): the same rule
		// as the forwarder's. The deadline stays: whatever the server still
		// reads of this body fails at once, and it closes the connection
		// after the answer.
		f := proxy.ClientBodyFailure(err)
		x.clientFailed = true
		hint := f.Hint
		if errors.Is(err, os.ErrDeadlineExceeded) {
			hint = fmt.Sprintf("the request body, %s, did not arrive within the integration timeout of %v", purpose, timeout)
		}
		x.failClientBody(f.Status, f.Message, hint)
		return nil, false
	}
	if deadline {
		_ = rc.SetReadDeadline(time.Time{}) // the body is read: nothing is left to bound
	}
	x.r.Body = io.NopCloser(bytes.NewReader(b))
	x.r.ContentLength = int64(len(b))
	x.r.TransferEncoding = nil
	x.body, x.bodyRead = b, true
	return b, true
}
