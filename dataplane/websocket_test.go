package dataplane

import (
	"net/http"
	"strings"
	"testing"
	"time"

	ws "github.com/coder/websocket"

	"github.com/turnpike-io/turnpike/dataplane/mapping"
	"github.com/turnpike-io/turnpike/dataplane/table"
	"github.com/turnpike-io/turnpike/dataplane/websocket"
)

// Every outcome of the route selection expression, the integration request
// of each event, route responses and $disconnect after the client closes.
func TestWebSocketRoutesEachMessageBySelectionExpression(t *testing.T) {
	b := newWSBackend(t)
	send := b.route("send", "/send")
	mapped, err := mapping.CompileRequest(map[string]string{"overwrite:header.x-conn": "$context.connectionId"})
	if err != nil {
		t.Fatal(err)
	}
	send.RequestMapping = mapped
	echo := b.route("$default", "/default")
	echo.ReturnResponse = true
	b.handle("/default", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("default got " + r.Header.Get("Content-Type")))
	})
	e := newWSEnv(t, websocket.Limits{}, chatApi(t,
		b.route("$connect", "/connect"), b.route("$disconnect", "/disconnect"), send, echo))
	c := e.mustDial(t, "/prod?room=1")

	connect := b.next(t)
	id := connect.Header.Get("X-Turnpike-Connection-Id")
	if connect.Path != "/connect" || connect.Method != http.MethodGet || len(id) != websocket.IDLength ||
		connect.Header.Get("X-Turnpike-Event-Type") != "CONNECT" || connect.Header.Get("X-Turnpike-Route-Key") != "$connect" {
		t.Fatalf("$connect call = %+v", connect)
	}
	if connect.Header.Get("Sec-Websocket-Key") != "" || connect.Header.Get("Upgrade") != "" {
		t.Errorf("$connect saw the handshake fields: %v", connect.Header)
	}

	sendText(t, c, `{"action":"send","text":"hi"}`)
	got := b.next(t)
	if got.Path != "/send" || got.Method != http.MethodPost || got.Body != `{"action":"send","text":"hi"}` ||
		got.Header.Get("X-Turnpike-Route-Key") != "send" || got.Header.Get("X-Turnpike-Event-Type") != "MESSAGE" ||
		got.Header.Get("X-Turnpike-Connection-Id") != id || got.Header.Get("X-Conn") != id ||
		got.Header.Get("X-Turnpike-Request-Id") == "" || got.Header.Get("X-Turnpike-Message-Id") == "" ||
		got.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("message to send = %+v", got)
	}

	// Everything that selects no route goes to $default, whose answer comes back.
	for _, msg := range []string{`{"action":"unknown"}`, `{"no":"action"}`, `not json`, `{"action":"$connect"}`, `{"action":"send"} trailing`} {
		sendText(t, c, msg)
		if got := b.next(t); got.Path != "/default" || got.Body != msg || got.Header.Get("X-Turnpike-Route-Key") != "$default" {
			t.Errorf("%s went to %s (%s)", msg, got.Path, got.Header.Get("X-Turnpike-Route-Key"))
		}
		want := "default got application/json"
		if msg == "not json" || strings.HasSuffix(msg, "trailing") {
			want = "default got text/plain; charset=utf-8"
		}
		if _, reply := read(t, c); reply != want {
			t.Errorf("reply to %s = %q, want %q", msg, reply, want)
		}
	}
	if err := c.Write(t.Context(), ws.MessageBinary, []byte{0, 1, 2}); err != nil {
		t.Fatal(err)
	}
	if got := b.next(t); got.Path != "/default" || got.Header.Get("Content-Type") != "application/octet-stream" {
		t.Errorf("binary message = %+v", got)
	}
	if _, reply := read(t, c); reply != "default got application/octet-stream" {
		t.Errorf("binary reply = %q", reply)
	}

	_ = c.Close(ws.StatusNormalClosure, "bye")
	dis := b.next(t)
	if dis.Path != "/disconnect" || dis.Header.Get("X-Turnpike-Event-Type") != "DISCONNECT" ||
		dis.Header.Get("X-Turnpike-Disconnect-Status-Code") != "1000" || dis.Header.Get("X-Turnpike-Disconnect-Reason") != "bye" ||
		dis.Header.Get("X-Turnpike-Connection-Id") != id {
		t.Fatalf("$disconnect = %+v", dis)
	}
	b.none(t, 100*time.Millisecond) // once

	events := map[string]int{}
	for _, l := range e.logLines(t) {
		if l["connectionId"] != id {
			t.Errorf("log line of another connection: %v", l)
		}
		events[l["eventType"].(string)]++
	}
	if events["CONNECT"] != 1 || events["MESSAGE"] != 7 || events["DISCONNECT"] != 1 {
		t.Errorf("access log events = %v, want 1 CONNECT, 7 MESSAGE, 1 DISCONNECT", events)
	}
	for _, want := range []string{
		`turnpike_websocket_events_total{api="chat",event="CONNECT",namespace="shop",outcome="ok",stage="prod"} 1`,
		`turnpike_websocket_events_total{api="chat",event="MESSAGE",namespace="shop",outcome="ok",stage="prod"} 7`,
		`turnpike_websocket_connections{api="chat",namespace="shop"} 0`,
	} {
		if !strings.Contains(gatherText(t, e.reg), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// Without $default, a message that selects nothing gets AWS's error message
// and the connection stays open.
func TestWebSocketWithoutDefaultRouteAnswersForbiddenAndStaysOpen(t *testing.T) {
	b := newWSBackend(t)
	echo := &table.Route{Key: "echo", Object: "shop/echo", ReturnResponse: true,
		Integration: table.Integration{Type: table.IntegrationMock, Mock: &table.Mock{Status: 200, Body: "pong"}}}
	e := newWSEnv(t, websocket.Limits{}, chatApi(t, b.route("$connect", "/connect"), echo))
	c := e.mustDial(t, "/prod")
	b.next(t)
	sendText(t, c, `{"action":"nothing"}`)
	_, msg := read(t, c)
	if f := parseErrorFrame(t, msg); f.Message != "Forbidden" {
		t.Errorf("error frame = %+v", f)
	}
	sendText(t, c, `{"action":"echo"}`)
	if _, msg := read(t, c); msg != "pong" {
		t.Errorf("after the error the connection answered %q", msg)
	}
}

// $connect's integration decides: a non-2xx refuses the upgrade with its
// own answer (and no $disconnect runs); a 2xx may choose a subprotocol.
func TestWebSocketConnectIntegrationDecidesAndChoosesTheSubprotocol(t *testing.T) {
	b := newWSBackend(t)
	b.handle("/connect", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("room") == "closed" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"reason":"room closed"}`))
			return
		}
		if strings.Contains(r.Header.Get("Sec-Websocket-Protocol"), "chat.v2") {
			w.Header().Set("Sec-WebSocket-Protocol", "chat.v2")
		}
	})
	e := newWSEnv(t, websocket.Limits{}, chatApi(t, b.route("$connect", "/connect"), b.route("$disconnect", "/disconnect")))

	_, resp, err := e.dial(t.Context(), "/prod?room=closed", nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("refused connect: err %v, resp %+v", err, resp)
	}
	b.next(t)
	b.none(t, 100*time.Millisecond) // no $disconnect for a connection that never opened

	c, _, err := e.dial(t.Context(), "/prod?room=open", &ws.DialOptions{Subprotocols: []string{"chat.v1", "chat.v2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.CloseNow() }()
	if c.Subprotocol() != "chat.v2" {
		t.Errorf("subprotocol = %q, want chat.v2", c.Subprotocol())
	}
	if got := b.next(t); got.Header.Get("Sec-Websocket-Protocol") != "chat.v1,chat.v2" {
		t.Errorf("$connect saw Sec-WebSocket-Protocol %q", got.Header.Get("Sec-Websocket-Protocol"))
	}

	// A request that is not a handshake, and paths below the stage.
	resp2, err := http.Get(e.srv.URL + "/prod")
	if err == nil {
		resp2.Body.Close()
	}
	if err != nil || resp2.StatusCode != http.StatusNotFound { // Host is the listener's: no Api
		t.Errorf("plain GET on the listener host: %v %v", err, resp2)
	}
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/prod", nil)
	req.Host = wsHost
	resp3, err := http.DefaultClient.Do(req)
	if err != nil || resp3.StatusCode != http.StatusUpgradeRequired {
		t.Errorf("plain GET: %v %+v, want 426", err, resp3)
	}
	if resp3 != nil {
		resp3.Body.Close()
	}
}

// The $connect authorizer refuses without calling $connect; its answer's
// context and principal reach every later route of the connection.
func TestWebSocketAuthorizerAtConnectReachesLaterRoutes(t *testing.T) {
	authz, _ := authzServer(t)
	b := newWSBackend(t)
	a := requestAuthz(authz.URL, true)
	a.IdentitySources = []string{"$request.querystring.token"}
	connect := authRoute(b.route("$connect", "/connect"), a)
	msg := b.route("$default", "/default")
	mapped, err := mapping.CompileRequest(map[string]string{"overwrite:header.x-user": "$context.authorizer.user"})
	if err != nil {
		t.Fatal(err)
	}
	msg.RequestMapping = mapped
	e := newWSEnv(t, websocket.Limits{}, chatApi(t, connect, msg, b.route("$disconnect", "/disconnect")))

	for token, want := range map[string]int{"": http.StatusUnauthorized, "deny": http.StatusForbidden} {
		_, resp, err := e.dial(t.Context(), "/prod?token="+token, nil)
		if err == nil || resp == nil || resp.StatusCode != want {
			t.Errorf("token %q: err %v resp %v, want %d", token, err, resp, want)
		}
	}
	b.none(t, 100*time.Millisecond) // neither reached $connect

	c := e.mustDial(t, "/prod?token=allow")
	b.nextTo(t, "/connect")
	sendText(t, c, "hello")
	if got := b.nextTo(t, "/default"); got.Header.Get("X-User") != "u1" {
		t.Errorf("the message route saw x-user %q, want the authorizer's u1", got.Header.Get("X-User"))
	}
	_ = c.Close(ws.StatusNormalClosure, "")
	b.nextTo(t, "/disconnect")
}

// A backend that is down: the client gets an error message, the connection
// stays.
func TestWebSocketBackendDownSendsAnErrorMessageAndKeepsTheConnection(t *testing.T) {
	down := &table.Route{Key: "down", Object: "shop/down", Integration: table.Integration{
		Type: table.IntegrationHTTPProxy, URI: "http://" + closedAddr(t) + "/x", TimeoutMillis: 1000}}
	up := &table.Route{Key: "$default", Object: "shop/up", ReturnResponse: true,
		Integration: table.Integration{Type: table.IntegrationMock, Mock: &table.Mock{Status: 200, Body: "up"}}}
	e := newWSEnv(t, websocket.Limits{}, chatApi(t, down, up))
	c := e.mustDial(t, "/prod")
	sendText(t, c, `{"action":"down"}`)
	_, msg := read(t, c)
	if f := parseErrorFrame(t, msg); f.Message != "Internal server error" {
		t.Errorf("error frame = %+v", f)
	}
	sendText(t, c, "still there?")
	if _, msg := read(t, c); msg != "up" {
		t.Errorf("after the failure: %q", msg)
	}
	if !strings.Contains(gatherText(t, e.reg), `turnpike_websocket_events_total{api="chat",event="MESSAGE",namespace="shop",outcome="integration_error",stage="prod"} 1`) {
		t.Error("the integration error was not counted")
	}
}

// New connections and messages spend the route buckets of the existing
// throttles: an empty $connect bucket refuses the handshake with 429, an
// empty message route bucket answers an error message and keeps the
// connection.
func TestWebSocketConnectionsAndMessagesAreThrottled(t *testing.T) {
	one := &table.Throttle{RateLimit: 1, BurstLimit: 1}
	connect := &table.Route{Key: "$connect", Object: "shop/connect", Throttle: one,
		Integration: table.Integration{Type: table.IntegrationMock, Mock: &table.Mock{Status: 200}}}
	echo := &table.Route{Key: "$default", Object: "shop/echo", ReturnResponse: true, Throttle: one,
		Integration: table.Integration{Type: table.IntegrationMock, Mock: &table.Mock{Status: 200, Body: "ok"}}}
	e := newWSEnv(t, websocket.Limits{}, chatApi(t, connect, echo))
	c := e.mustDial(t, "/prod")
	if _, resp, err := e.dial(t.Context(), "/prod", nil); err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("second connection within the burst: %v %v, want 429", err, resp)
	}
	sendText(t, c, "first")
	if _, msg := read(t, c); msg != "ok" {
		t.Fatalf("first message: %q", msg)
	}
	sendText(t, c, "second")
	_, msg := read(t, c)
	if f := parseErrorFrame(t, msg); f.Message != "Too Many Requests" {
		t.Errorf("second message: %+v", f)
	}
	time.Sleep(1100 * time.Millisecond) // a token again
	sendText(t, c, "third")
	if _, msg := read(t, c); msg != "ok" {
		t.Errorf("after the refill: %q", msg)
	}
}
