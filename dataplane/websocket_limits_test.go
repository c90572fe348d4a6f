package dataplane

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	ws "github.com/coder/websocket"

	"github.com/turnpike-io/turnpike/dataplane/table"
	"github.com/turnpike-io/turnpike/dataplane/websocket"
)

// rawClient speaks WebSocket frames by hand, to send frames of chosen
// sizes (a library client decides its own framing).
type rawClient struct {
	conn net.Conn
	br   *bufio.Reader
}

func dialRaw(t *testing.T, e *wsEnv, path string) *rawClient {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", path, wsHost, key)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: %v %v", err, resp)
	}
	return &rawClient{conn: conn, br: br}
}

// frame writes one masked frame (opcode 1 text, 0 continuation).
func (c *rawClient) frame(t *testing.T, opcode byte, fin bool, payload []byte) {
	t.Helper()
	b0 := opcode
	if fin {
		b0 |= 0x80
	}
	hdr := []byte{b0}
	switch n := len(payload); {
	case n < 126:
		hdr = append(hdr, 0x80|byte(n))
	case n <= 0xffff:
		hdr = append(hdr, 0x80|126, byte(n>>8), byte(n))
	default:
		hdr = append(hdr, 0x80|127)
		hdr = binary.BigEndian.AppendUint64(hdr, uint64(n))
	}
	mask := [4]byte{1, 2, 3, 4}
	hdr = append(hdr, mask[:]...)
	masked := make([]byte, len(payload))
	for i, p := range payload {
		masked[i] = p ^ mask[i%4]
	}
	if _, err := c.conn.Write(append(hdr, masked...)); err != nil {
		t.Fatalf("write frame: %v", err)
	}
}

// closeCode reads frames until a close frame and returns its code.
func (c *rawClient) closeCode(t *testing.T) int {
	t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		var h [2]byte
		if _, err := io.ReadFull(c.br, h[:]); err != nil {
			t.Fatalf("no close frame: %v", err)
		}
		n := int64(h[1] & 0x7f)
		switch n {
		case 126:
			var l [2]byte
			_, _ = io.ReadFull(c.br, l[:])
			n = int64(binary.BigEndian.Uint16(l[:]))
		case 127:
			var l [8]byte
			_, _ = io.ReadFull(c.br, l[:])
			n = int64(binary.BigEndian.Uint64(l[:]))
		}
		p := make([]byte, n)
		if _, err := io.ReadFull(c.br, p); err != nil {
			t.Fatalf("frame payload: %v", err)
		}
		if h[0]&0x0f == 8 {
			if len(p) < 2 {
				return 1005
			}
			return int(binary.BigEndian.Uint16(p))
		}
	}
}

func TestWebSocketOversizeFramesAndMessagesClose1009(t *testing.T) {
	b := newWSBackend(t)
	limits := websocket.Limits{MaxFrameBytes: 1024, MaxMessageBytes: 4096}
	e := newWSEnv(t, limits, chatApi(t, b.route("$disconnect", "/disconnect"), b.route("$default", "/default")))
	t.Run("frames within the limits pass", func(t *testing.T) {
		c := dialRaw(t, e, "/prod")
		chunk := []byte(strings.Repeat("a", 1024))
		c.frame(t, 1, false, chunk)
		c.frame(t, 0, false, chunk)
		c.frame(t, 0, true, chunk) // 3 KiB in three full frames
		if got := b.nextTo(t, "/default"); len(got.Body) != 3072 {
			t.Errorf("the backend got %d bytes", len(got.Body))
		}
		_ = c.conn.Close()
		b.nextTo(t, "/disconnect")
	})
	t.Run("a frame over the limit", func(t *testing.T) {
		c := dialRaw(t, e, "/prod")
		c.frame(t, 1, true, []byte(strings.Repeat("b", 1025)))
		if code := c.closeCode(t); code != 1009 {
			t.Errorf("close code %d, want 1009", code)
		}
		if dis := b.nextTo(t, "/disconnect"); dis.Header.Get("X-Turnpike-Disconnect-Status-Code") != "1009" {
			t.Errorf("$disconnect status %q", dis.Header.Get("X-Turnpike-Disconnect-Status-Code"))
		}
	})
	t.Run("a message over the limit", func(t *testing.T) {
		c := dialRaw(t, e, "/prod")
		chunk := []byte(strings.Repeat("c", 1000))
		for i := range 5 { // 5000 bytes in frames of 1000
			c.frame(t, map[bool]byte{true: 1, false: 0}[i == 0], i == 4, chunk)
		}
		if code := c.closeCode(t); code != 1009 {
			t.Errorf("close code %d, want 1009", code)
		}
		if dis := b.nextTo(t, "/disconnect"); dis.Header.Get("X-Turnpike-Disconnect-Status-Code") != "1009" {
			t.Errorf("$disconnect status %q", dis.Header.Get("X-Turnpike-Disconnect-Status-Code"))
		}
	})
}

func TestWebSocketIdleAndLifetimeLimitsClose1001(t *testing.T) {
	b := newWSBackend(t)
	t.Run("idle", func(t *testing.T) {
		e := newWSEnv(t, websocket.Limits{IdleTimeout: 300 * time.Millisecond}, chatApi(t, b.route("$disconnect", "/disconnect")))
		c := e.mustDial(t, "/prod")
		start := time.Now()
		if code, reason := closeStatus(t, c); code != ws.StatusGoingAway || reason != "Idle timeout" {
			t.Errorf("closed with %d %q", code, reason)
		}
		if d := time.Since(start); d < 250*time.Millisecond {
			t.Errorf("closed after %v, before the idle timeout", d)
		}
		if dis := b.nextTo(t, "/disconnect"); dis.Header.Get("X-Turnpike-Disconnect-Reason") != "Idle timeout" {
			t.Errorf("$disconnect = %+v", dis.Header)
		}
	})
	t.Run("lifetime, however active", func(t *testing.T) {
		e := newWSEnv(t, websocket.Limits{MaxLifetime: 400 * time.Millisecond}, chatApi(t, b.route("$disconnect", "/disconnect")))
		c := e.mustDial(t, "/prod")
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		go func() { // keep it busy
			for ctx.Err() == nil {
				_ = c.Write(ctx, ws.MessageText, []byte("x"))
				time.Sleep(20 * time.Millisecond)
			}
		}()
		if code, reason := closeStatus(t, c); code != ws.StatusGoingAway || reason != "Connection lifetime exceeded" {
			t.Errorf("closed with %d %q", code, reason)
		}
		b.nextTo(t, "/disconnect")
	})
}

// Config swaps never drop a connection; removing its stage closes it with
// 1001 and runs $disconnect on the configuration that served it.
func TestWebSocketConfigSwapsKeepConnectionsAndRemovalsClose(t *testing.T) {
	b := newWSBackend(t)
	echo := &table.Route{Key: "$default", Object: "shop/echo", ReturnResponse: true,
		Integration: table.Integration{Type: table.IntegrationMock, Mock: &table.Mock{Status: 200, Body: "v1"}}}
	e := newWSEnv(t, websocket.Limits{}, chatApi(t, echo, b.route("$disconnect", "/disconnect")))
	c := e.mustDial(t, "/prod")
	for i := range 20 {
		echo2 := *echo
		echo2.Integration.Mock = &table.Mock{Status: 200, Body: fmt.Sprintf("v%d", i+2)}
		e.s.Swap(mustTable(t, chatApi(t, &echo2, b.route("$disconnect", "/disconnect")), testApi(table.ProtocolHTTP, stage("prod"))))
	}
	sendText(t, c, "which version?")
	if _, msg := read(t, c); msg != "v21" {
		t.Errorf("after 20 swaps the message was answered by %q, want the current v21", msg)
	}
	e.s.Swap(mustTable(t, testApi(table.ProtocolHTTP, stage("prod")))) // the Api is gone
	if code, _ := closeStatus(t, c); code != ws.StatusGoingAway {
		t.Errorf("closed with %d, want 1001", code)
	}
	if dis := b.nextTo(t, "/disconnect"); dis.Header.Get("X-Turnpike-Disconnect-Status-Code") != "1001" {
		t.Errorf("$disconnect = %+v", dis.Header)
	}
}

// SIGTERM: after the shutdown delay every connection gets 1001 and its
// $disconnect runs before Run returns.
func TestWebSocketShutdownClosesWith1001AndRunsDisconnect(t *testing.T) {
	b := newWSBackend(t)
	s := NewServer(Options{ShutdownDelay: 100 * time.Millisecond, DrainTimeout: 5 * time.Second})
	s.Swap(mustTable(t, chatApi(t, b.route("$disconnect", "/disconnect"))))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, Listeners{HTTP: ln}) }()
	var conns []*ws.Conn
	for range 3 {
		c, _, err := ws.Dial(t.Context(), "ws://"+ln.Addr().String()+"/prod", &ws.DialOptions{Host: wsHost})
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	stop()
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() {
			if code, reason := closeStatus(t, c); code != ws.StatusGoingAway || reason != "Server shutting down" {
				t.Errorf("closed with %d %q", code, reason)
			}
		})
	}
	wg.Wait()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	for range 3 {
		b.nextTo(t, "/disconnect")
	}
}

// Upgraded connections leave --max-connections' budget of HTTP
// connections: six WebSocket connections on a gateway bounded to three do
// not keep a plain request out.
func TestWebSocketConnectionsDoNotHoldHTTPConnectionSlots(t *testing.T) {
	s := NewServer(Options{Limits: Limits{MaxConnections: 3}})
	s.Swap(mustTable(t, chatApi(t)))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, Listeners{HTTP: ln}) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	dialCtx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	for i := range 6 {
		c, _, err := ws.Dial(dialCtx, "ws://"+ln.Addr().String()+"/prod", &ws.DialOptions{Host: wsHost})
		if err != nil {
			t.Fatalf("WebSocket connection %d: %v", i+1, err)
		}
		defer func() { _ = c.CloseNow() }()
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+ln.Addr().String()+"/prod", nil)
	req.Host = wsHost
	resp, err := (&http.Client{Timeout: 3 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("a plain request with six WebSocket connections open: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUpgradeRequired {
		t.Errorf("status %d", resp.StatusCode)
	}
}
