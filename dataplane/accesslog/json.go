package accesslog

import "strconv"

// AppendJSON appends e as one JSON object and a newline: the fields of Entry
// under their JSON names, in declaration order, with the omitempty fields
// left out when empty (what encoding/json would write, without reflection
// on the writer's goroutine; TestAppendJSONMatchesEncodingJSON keeps the two
// in step). Strings are escaped by appendEscaped: control characters as
// \u00XX, invalid UTF-8 as \ufffd.
func (e *Entry) AppendJSON(b []byte) []byte {
	b = appendStringField(b, '{', "requestId", e.RequestID)
	b = appendStringField(b, ',', "ip", e.IP)
	b = appendStringField(b, ',', "requestTime", e.RequestTime)
	b = appendStringField(b, ',', "httpMethod", e.HTTPMethod)
	b = appendStringField(b, ',', "routeKey", e.RouteKey)
	b = appendStringField(b, ',', "path", e.Path)
	b = appendIntField(b, "status", int64(e.Status))
	b = appendStringField(b, ',', "protocol", e.Protocol)
	b = appendIntField(b, "responseLength", e.ResponseLength)
	b = appendIntField(b, "responseLatency", e.ResponseLatency)
	b = appendIntField(b, "integrationLatency", e.IntegrationLatency)
	b = appendIntField(b, "integrationStatus", int64(e.IntegrationStatus))
	b = appendStringField(b, ',', "integrationErrorMessage", e.IntegrationError)
	b = appendStringField(b, ',', "errorMessage", e.ErrorMessage)
	b = appendStringField(b, ',', "errorHint", e.ErrorHint)
	b = appendStringField(b, ',', "stage", e.Stage)
	b = appendStringField(b, ',', "domainName", e.DomainName)
	b = appendStringField(b, ',', "api", e.API)
	if e.PrincipalID != "" {
		b = appendStringField(b, ',', "principalId", e.PrincipalID)
	}
	if e.AuthorizerError != "" {
		b = appendStringField(b, ',', "authorizerError", e.AuthorizerError)
	}
	if e.Canary {
		b = append(b, `,"canary":true`...)
	}
	return append(b, '}', '\n')
}

func appendStringField(b []byte, sep byte, name, v string) []byte {
	b = append(b, sep, '"')
	b = append(b, name...)
	b = append(b, '"', ':', '"')
	return append(appendEscaped(b, v), '"')
}

func appendIntField(b []byte, name string, v int64) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return strconv.AppendInt(b, v, 10)
}
