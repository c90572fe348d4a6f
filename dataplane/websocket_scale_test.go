package dataplane

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	ws "github.com/coder/websocket"

	"github.com/turnpike-io/turnpike/dataplane/table"
	"github.com/turnpike-io/turnpike/dataplane/websocket"
)

// 1,000 connections held through 100 config swaps, messages flowing while
// the table changes: none is dropped and every one answers after the last
// swap with the last configuration.
func TestThousandConnectionsSurviveHundredConfigSwaps(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 1,000 connections")
	}
	const conns, swaps = 1000, 100
	version := func(v int) *table.Api {
		echo := &table.Route{Key: "$default", Object: "shop/echo", ReturnResponse: true,
			Integration: table.Integration{Type: table.IntegrationMock, Mock: &table.Mock{Status: 200, Body: fmt.Sprintf("v%d", v)}}}
		return chatApi(t, echo)
	}
	e := newWSEnv(t, websocket.Limits{}, version(0))
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	clients := make([]*ws.Conn, conns)
	for i := range clients {
		c, _, err := e.dial(ctx, "/prod", nil)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		clients[i] = c
	}
	t.Cleanup(func() {
		for _, c := range clients {
			_ = c.CloseNow()
		}
	})
	for deadline := time.Now().Add(10 * time.Second); e.s.WebSocketConnections() != conns; { // the last ones register right after their 101
		if time.Now().After(deadline) {
			t.Fatalf("%d connections open, want %d", e.s.WebSocketConnections(), conns)
		}
		time.Sleep(5 * time.Millisecond)
	}

	// Swaps (the Api's answer changes, another Api comes and goes) while a
	// tenth of the connections talk.
	var wg sync.WaitGroup
	swapped := make(chan struct{})
	wg.Go(func() {
		defer close(swapped)
		for v := 1; v <= swaps; v++ {
			apis := []*table.Api{version(v)}
			if v%2 == 0 {
				apis = append(apis, testApi(table.ProtocolHTTP, stage("prod")))
			}
			e.s.Swap(mustTable(t, apis...))
			time.Sleep(2 * time.Millisecond)
		}
	})
	for i := 0; i < conns; i += 10 {
		wg.Go(func() {
			c := clients[i]
			for {
				select {
				case <-swapped:
					return
				default:
				}
				if err := c.Write(ctx, ws.MessageText, []byte("during")); err != nil {
					t.Errorf("connection %d: write during swaps: %v", i, err)
					return
				}
				if _, msg, err := c.Read(ctx); err != nil || !strings.HasPrefix(string(msg), "v") {
					t.Errorf("connection %d: read during swaps: %q %v", i, msg, err)
					return
				}
			}
		})
	}
	wg.Wait()

	for i, c := range clients {
		if err := c.Write(ctx, ws.MessageText, []byte("after")); err != nil {
			t.Fatalf("connection %d dropped: %v", i, err)
		}
		if _, msg, err := c.Read(ctx); err != nil || string(msg) != fmt.Sprintf("v%d", swaps) {
			t.Fatalf("connection %d after the swaps: %q %v", i, msg, err)
		}
	}
	if n := e.s.WebSocketConnections(); n != conns {
		t.Errorf("%d connections open after the swaps, want %d", n, conns)
	}
	if strings.Contains(gatherText(t, e.reg), `event="DISCONNECT"`) {
		t.Error("a connection was disconnected during the swaps")
	}
}
