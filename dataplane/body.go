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

// msgBodyTimeout answers a request body that did not arrive within the
// integration timeout: the message of an integration timeout (api.md).
const msgBodyTimeout = "Endpoint request timed out"

// bufferBody reads the whole request body (bounded by limitBody's reader)
// and puts a replay of it in its place. The read has the integration's
// timeout as its deadline, as a streamed body has when it is forwarded: a
// client that sends its body slowly gets 504 "Endpoint request timed out"
// and its connection is closed, instead of holding a handler (the server
// has no ReadTimeout, which would cut long streamed uploads).
func (x *exchange) bufferBody(purpose string) ([]byte, bool) {
	if x.r.Body == nil || x.r.Body == http.NoBody {
		return nil, true
	}
	timeout := proxy.DefaultTimeout
	if ms := x.target.Integration.TimeoutMillis; ms > 0 {
		timeout = time.Duration(ms) * time.Millisecond
	}
	rc := http.NewResponseController(x.orig)
	deadline := rc.SetReadDeadline(time.Now().Add(timeout)) == nil // not supported: test writers only
	b, err := io.ReadAll(x.r.Body)
	if err != nil {
		// The deadline stays: whatever the server still reads of this body
		// fails at once, and it closes the connection after the answer.
		if errors.Is(err, os.ErrDeadlineExceeded) {
			x.target.Cause = "request body timeout"
			x.fail(http.StatusGatewayTimeout, msgBodyTimeout,
				fmt.Sprintf("the request body, %s, did not arrive within the integration timeout of %v", purpose, timeout))
			return nil, false
		}
		if tooBig, ok := errors.AsType[*http.MaxBytesError](err); ok {
			x.fail(http.StatusRequestEntityTooLarge, msgTooLarge, fmt.Sprintf("the request body is larger than this Api's limit of %d bytes", tooBig.Limit))
			return nil, false
		}
		x.fail(http.StatusBadRequest, msgBadRequest, "the request body could not be read: "+err.Error())
		return nil, false
	}
	if deadline {
		_ = rc.SetReadDeadline(time.Time{}) // the body is read: nothing is left to bound
	}
	x.r.Body = io.NopCloser(bytes.NewReader(b))
	x.r.ContentLength = int64(len(b))
	x.r.TransferEncoding = nil
	return b, true
}
