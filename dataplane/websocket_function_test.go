package dataplane

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	ws "github.com/coder/websocket"

	"github.com/turnpike-io/turnpike/dataplane/table"
	"github.com/turnpike-io/turnpike/dataplane/websocket"
)

// wsEvent is what a WebSocket Lambda event says (aws-lambda-go's
// APIGatewayWebsocketProxyRequest, the fields the chain fills).
type wsEvent struct {
	Headers               map[string]string `json:"headers"`
	QueryStringParameters map[string]string `json:"queryStringParameters"`
	Body                  string            `json:"body"`
	IsBase64Encoded       bool              `json:"isBase64Encoded"`
	RequestContext        struct {
		RouteKey, EventType, ConnectionID, MessageID, Stage, DomainName, APIID, DisconnectReason string
		ConnectedAt, RequestTimeEpoch                                                            int64
		DisconnectStatusCode                                                                     int
		Identity                                                                                 struct{ SourceIP string }
	} `json:"requestContext"`
}

// FUNCTION routes of a WebSocket Api get AWS's WebSocket Lambda events, and
// a route response is the function's body.
func TestWebSocketFunctionRoutesGetWebSocketLambdaEvents(t *testing.T) {
	events := make(chan wsEvent, 16)
	fn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var ev wsEvent
		if err := json.Unmarshal(b, &ev); err != nil {
			t.Errorf("not an event: %s", b)
		}
		events <- ev
		body, _ := json.Marshal("echo:" + ev.Body)
		_, _ = io.WriteString(w, `{"statusCode":200,"body":`+string(body)+`}`)
	}))
	defer fn.Close()
	host, port, _ := net.SplitHostPort(fn.Listener.Addr().String())
	p, _ := strconv.Atoi(port)
	def := functionRoute("$default", "shop/default", "2.0")
	def.ReturnResponse = true
	e := newWSEnv(t, websocket.Limits{}, chatApi(t,
		functionRoute("$connect", "shop/connect", "2.0"), def, functionRoute("$disconnect", "shop/disconnect", "2.0")))
	e.s.UpdateEndpoints(table.EndpointSets{fnTarget.Key(): {{Address: host, Port: int32(p)}}})
	c := e.mustDial(t, "/prod?name=me")
	next := func() wsEvent {
		select {
		case ev := <-events:
			return ev
		case <-time.After(5 * time.Second):
			t.Fatal("no event")
		}
		return wsEvent{}
	}
	connect := next()
	rc := connect.RequestContext
	if rc.EventType != "CONNECT" || rc.RouteKey != "$connect" || len(rc.ConnectionID) != websocket.IDLength || rc.ConnectedAt == 0 ||
		rc.Stage != "prod" || rc.APIID != "chat" || rc.DomainName != wsHost || connect.QueryStringParameters["name"] != "me" || connect.Headers["Host"] == "" {
		t.Fatalf("CONNECT event = %+v", connect)
	}
	sendText(t, c, `{"action":"hi"}`)
	msg := next()
	if m := msg.RequestContext; m.EventType != "MESSAGE" || m.RouteKey != "$default" || m.ConnectionID != rc.ConnectionID ||
		m.MessageID == "" || m.ConnectedAt != rc.ConnectedAt || msg.Body != `{"action":"hi"}` || msg.Headers != nil {
		t.Fatalf("MESSAGE event = %+v", msg)
	}
	if _, reply := read(t, c); reply != `echo:{"action":"hi"}` {
		t.Errorf("route response = %q", reply)
	}
	_ = c.Close(ws.StatusNormalClosure, "done")
	dis := next()
	if d := dis.RequestContext; d.EventType != "DISCONNECT" || d.DisconnectStatusCode != 1000 || d.DisconnectReason != "done" || dis.Headers["Host"] == "" {
		t.Fatalf("DISCONNECT event = %+v", dis)
	}
}
