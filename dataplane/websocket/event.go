package websocket

import (
	"context"
	"encoding/json"
	"unicode/utf8"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

// EventType is what happened on a connection (AWS requestContext.eventType).
type EventType string

// Event types.
const (
	Connect    EventType = "CONNECT"
	Message    EventType = "MESSAGE"
	Disconnect EventType = "DISCONNECT"
)

// Event is one event of a connection, as the request chain sees it. The
// CONNECT event is the upgrade request itself; MESSAGE and DISCONNECT
// events are dispatched by the connection's reader.
type Event struct {
	Conn *Conn
	Type EventType
	// MessageID identifies a MESSAGE (AWS messageId).
	MessageID string
	// Body is the message (MESSAGE only); Binary is set for a binary frame.
	Body   []byte
	Binary bool
	// DisconnectStatus and DisconnectReason say how the connection closed
	// (DISCONNECT only): the close frame's code and reason, 1006 when the
	// connection was lost without one.
	DisconnectStatus int
	DisconnectReason string
	// Table, when set, is the table the event runs on instead of the current
	// one: the last table that served the connection's Api, for the
	// $disconnect of a connection closed because its Api or stage left.
	Table *table.Table

	// Outcome is what the request chain made of the event; the Dispatcher
	// sets it.
	Outcome Outcome
}

// Outcome is what the request chain made of an event.
type Outcome struct {
	// RequestID is the event's request id.
	RequestID string
	// Gone is set when the connection's Api or stage is no longer served:
	// the connection is then closed with 1001.
	Gone bool
	// Error is the gateway's error message when the gateway answered the
	// event itself (no route, throttled, integration failed); "" when the
	// integration answered.
	Error string
	// Status and Body are the integration's answer (Body bounded by the
	// message limit).
	Status int
	Body   []byte
	// Reply is set when the event's route returns its integration's answer
	// to the client (Route.ReturnResponse).
	Reply bool
}

// Dispatcher runs an event through the request chain (the dataplane's
// Server) and sets its Outcome. Dispatch returns once the event is
// answered; ctx bounds it.
type Dispatcher interface {
	Dispatch(ctx context.Context, ev *Event)
}

// errorFrame is the message a client gets when the gateway could not handle
// its message, in AWS's shape.
type errorFrame struct {
	Message      string `json:"message"`
	ConnectionID string `json:"connectionId"`
	RequestID    string `json:"requestId"`
}

// errorMessage renders the error frame of an outcome.
func errorMessage(id string, o *Outcome) []byte {
	b, err := json.Marshal(errorFrame{Message: o.Error, ConnectionID: id, RequestID: o.RequestID})
	if err != nil { // three strings always marshal
		return []byte(`{"message":"Internal server error"}`)
	}
	return b
}

// isText reports whether b goes out as a text frame: valid UTF-8.
func isText(b []byte) bool { return utf8.Valid(b) }
