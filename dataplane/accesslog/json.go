package accesslog

import (
	"strconv"

	"github.com/turnpike-io/turnpike/dataplane/reqctx"
)

// AppendJSON appends the JSON line of c: one object and a newline, with
// the fields below in this order and principalId, authorizerError,
// errorResponseType, cacheStatus, canary, connectionId, eventType and
// messageId (WebSocket events) left out when empty (what encoding/json writes for the jsonLine
// mirror in the tests, without reflection on the writer's goroutine;
// TestAppendJSONMatchesEncodingJSON keeps the two in step). Strings are
// escaped by reqctx.AppendEscaped: control characters as \u00XX, invalid
// UTF-8 as \ufffd. Field names follow AWS $context names, except ip
// (identity.sourceIp) and api ("namespace/name").
func AppendJSON(b []byte, c *reqctx.Context) []byte {
	b = appendStringField(b, '{', "requestId", c.RequestID)
	b = appendStringField(b, ',', "ip", c.SourceIP)
	b = appendStringField(b, ',', "requestTime", c.RequestTimeText)
	b = appendStringField(b, ',', "httpMethod", c.HTTPMethod)
	b = appendStringField(b, ',', "routeKey", c.RouteKey)
	b = appendStringField(b, ',', "path", c.Path)
	b = appendIntField(b, "status", int64(c.Status))
	b = appendStringField(b, ',', "protocol", c.Protocol)
	b = appendIntField(b, "responseLength", c.ResponseLength)
	b = appendIntField(b, "responseLatency", c.ResponseLatency.Milliseconds())
	b = appendIntField(b, "integrationLatency", c.IntegrationLatency.Milliseconds())
	b = appendIntField(b, "integrationStatus", int64(c.IntegrationStatus))
	b = appendStringField(b, ',', "integrationErrorMessage", c.IntegrationError)
	b = appendStringField(b, ',', "errorMessage", c.ErrorMessage)
	b = appendStringField(b, ',', "errorHint", c.ErrorHint)
	b = appendStringField(b, ',', "stage", c.Stage)
	b = appendStringField(b, ',', "domainName", c.DomainName)
	b = append(b, `,"api":"`...)
	if c.APIID != "" {
		b = append(reqctx.AppendEscaped(b, c.AccountID), '/')
		b = reqctx.AppendEscaped(b, c.APIID)
	}
	b = append(b, '"')
	if c.PrincipalID != "" {
		b = appendStringField(b, ',', "principalId", c.PrincipalID)
	}
	if c.AuthorizerError != "" {
		b = appendStringField(b, ',', "authorizerError", c.AuthorizerError)
	}
	if c.ErrorResponseType != "" {
		b = appendStringField(b, ',', "errorResponseType", c.ErrorResponseType)
	}
	if c.CacheStatus != "" {
		b = appendStringField(b, ',', "cacheStatus", c.CacheStatus)
	}
	if c.Canary {
		b = append(b, `,"canary":true`...)
	}
	if c.ConnectionID != "" {
		b = appendStringField(b, ',', "connectionId", c.ConnectionID)
	}
	if c.EventType != "" {
		b = appendStringField(b, ',', "eventType", c.EventType)
	}
	if c.MessageID != "" {
		b = appendStringField(b, ',', "messageId", c.MessageID)
	}
	return append(b, '}', '\n')
}

func appendStringField(b []byte, sep byte, name, v string) []byte {
	b = append(b, sep, '"')
	b = append(b, name...)
	b = append(b, '"', ':', '"')
	return append(reqctx.AppendEscaped(b, v), '"')
}

func appendIntField(b []byte, name string, v int64) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return strconv.AppendInt(b, v, 10)
}
