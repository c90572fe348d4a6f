package hardening

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// rawConn is a client connection that writes exact bytes and reads
// responses with net/http's parser.
type rawConn struct {
	c  net.Conn
	br *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &rawConn{c: c, br: bufio.NewReader(c)}
}

func (r *rawConn) send(t *testing.T, s string) {
	t.Helper()
	if _, err := io.WriteString(r.c, s); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// response is one response read off a rawConn.
type response struct {
	status int
	header http.Header
	body   string
	proto  string
}

// read reads one response (skipping nothing: a 100 Continue is returned as
// such) within d; err is set when none came (closed or timed out).
func (r *rawConn) read(d time.Duration, method string) (response, error) {
	_ = r.c.SetReadDeadline(time.Now().Add(d))
	res, err := http.ReadResponse(r.br, &http.Request{Method: method})
	if err != nil {
		return response{}, err
	}
	body, err := io.ReadAll(res.Body)
	_ = res.Body.Close()
	return response{status: res.StatusCode, header: res.Header, body: string(body), proto: res.Proto}, err
}

// closed reports whether the peer closed the connection: a read within d
// sees end of stream or a reset (rather than a timeout, or data).
func (r *rawConn) closed(d time.Duration) bool {
	_ = r.c.SetReadDeadline(time.Now().Add(d))
	_, err := r.br.Peek(1)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return false
	}
	return err != nil
}

// get is a well-formed keep-alive GET of path to the fixture's Api.
func get(path string) string {
	return "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n"
}

func bodyOf(s string) string { return strings.TrimSpace(s) }
