package dataplane

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

// Messages of the gateway's error bodies (api.md, Errors) that this package renders; the forwarder
// owns the 5xx integration messages. They are part of
// the AWS-compatible contract: clients match on them, so never reword them.
const (
	msgBadRequest   = "Bad Request"
	msgNotFound     = "Not Found"
	msgMissingToken = "Missing Authentication Token"
	msgTooLarge     = "Request Entity Too Large"
)

// errorBody is the JSON body of every gateway error.
type errorBody struct {
	Message string `json:"message"`
	Hint    string `json:"hint,omitempty"`
}

// noRoute is the answer for an unknown stage or an unmatched route: AWS HTTP
// APIs say 404, AWS REST APIs say 403 "Missing Authentication Token".
func noRoute(p table.Protocol) (int, string) {
	if p == table.ProtocolREST {
		return http.StatusForbidden, msgMissingToken
	}
	return http.StatusNotFound, msgNotFound
}

// fail writes a gateway error and records it for the access log. The hint is
// always logged and shown to the client only when the Api enables errorHints
// (before the Api is known there is nobody to ask, so no hint is shown).
func (x *exchange) fail(status int, message, hint string) {
	x.errMessage, x.errHint = message, hint
	body := errorBody{Message: message}
	if x.api != nil && x.api.ErrorHints {
		body.Hint = hint
	}
	b, err := json.Marshal(body)
	if err != nil { // two strings always marshal; keep a valid body regardless
		b = []byte(`{"message":"Internal Server Error"}`)
	}
	h := x.w.Header()
	h["Content-Type"] = []string{"application/json"}
	h["Content-Length"] = []string{strconv.Itoa(len(b))}
	x.w.WriteHeader(status)
	_, _ = x.w.Write(b) // the client may be gone; the status is logged anyway
}
