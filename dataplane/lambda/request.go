package lambda

import (
	"net/http"
	"time"
)

// APIType is the kind of Api an event is built for. It decides the shapes
// that differ between AWS's REST, HTTP and WebSocket APIs with the same
// payload format version (1.0's `version` key and `path`, how an answer
// without statusCode is treated, which keys an answer may carry).
type APIType uint8

// API types.
const (
	// HTTP is an AWS HTTP API (apigatewayv2, protocol HTTP).
	HTTP APIType = iota
	// REST is an AWS REST API (apigateway v1).
	REST
	// WebSocket is an AWS WebSocket API.
	WebSocket
)

// PayloadVersion is an Api integration's (or authorizer's)
// payloadFormatVersion: "1.0" or "2.0".
type PayloadVersion string

// Payload format versions.
const (
	V1 PayloadVersion = "1.0"
	V2 PayloadVersion = "2.0"
)

// Request is everything a Lambda event carries about one request: plain
// values, filled by the dataplane from its one $context builder. The
// encoders only read it (Header and the maps are never modified), so one
// Request may be encoded several times (authorizer event, then proxy event).
//
// Turnpike has no AWS account and no API ids: AccountID and APIID carry
// stable stand-ins that the dataplane chooses (docs/lambda.md: the Api's
// namespace and name), ResourceID the Route's name.
type Request struct {
	// API is the kind of Api (REST, HTTP or WebSocket).
	API APIType
	// Method is the HTTP method as received.
	Method string
	// Path is the request path as received: escaped, with the stage prefix
	// ($context.path; 2.0 rawPath and http.path; 1.0 requestContext.path;
	// HTTP API 1.0 path).
	Path string
	// APIPath is the path after the stage prefix or a custom domain's base
	// path, as REST's 1.0 `path` carries it ("/hello/world" for a request to
	// "/testStage/hello/world"). Empty means Path.
	APIPath string
	// RawQuery is the query string as received, without '?'.
	RawQuery string
	// Host is the Host header (net/http keeps it out of Header). An event
	// carries it as the Host header unless Header has one.
	Host string
	// Header holds the request headers as received. Names are written as
	// they are in the map (net/http canonicalises them when parsing).
	Header http.Header
	// Body is the request body; Base64 says whether the event carries it
	// base64-encoded with isBase64Encoded true (see IsTextMediaType and
	// MatchesBinaryMediaTypes). A text body is sent as a JSON string:
	// invalid UTF-8 becomes U+FFFD, so binary bodies must set Base64.
	Body   []byte
	Base64 bool
	// RouteKey is the matched route key ("GET /pets/{id}", "$default",
	// "$connect").
	RouteKey string
	// ResourcePath is the route's path template ("/pets/{id}",
	// "/{proxy+}"): 1.0 resource and requestContext.resourcePath.
	ResourcePath string
	// ResourceID stands in for AWS's resource id (1.0 requestContext
	// .resourceId); empty is sent as null.
	ResourceID string
	// Stage is the stage name ("$default" too).
	Stage string
	// StageVariables and PathParameters (decoded values) are sent sorted by
	// name.
	StageVariables map[string]string
	PathParameters map[string]string
	// RequestID is $context.requestId; ExtendedRequestID defaults to it.
	RequestID         string
	ExtendedRequestID string
	// Time is when the request arrived ($context.requestTime, timeEpoch).
	Time time.Time
	// SourceIP is $context.identity.sourceIp.
	SourceIP string
	// UserAgent is the User-Agent header ($context.identity.userAgent).
	UserAgent string
	// DomainName is $context.domainName; DomainPrefix defaults to its first
	// label.
	DomainName   string
	DomainPrefix string
	// AccountID and APIID are the stand-ins for AWS account and API ids.
	AccountID string
	APIID     string
	// Protocol is the request protocol ("HTTP/1.1").
	Protocol string
	// Authorizer is what the route's authorizer learned; nil when the route
	// has none.
	Authorizer *Authorizer
	// ClientCert is the verified mutual-TLS client certificate; nil without
	// mutual TLS.
	ClientCert *ClientCert
	// APIKey and APIKeyID are the request's API key and its id (1.0
	// requestContext.identity), when one was checked.
	APIKey, APIKeyID string
	// WebSocket holds the connection facts of a WebSocket event.
	WebSocket *WebSocketEvent
}

// AuthorizerKind says which authorizer produced an Authorizer.
type AuthorizerKind uint8

// Authorizer kinds.
const (
	// AuthorizerJWT is an HTTP API JWT authorizer: claims and scopes.
	AuthorizerJWT AuthorizerKind = iota + 1
	// AuthorizerLambda is a Lambda (REQUEST or TOKEN) authorizer:
	// principalId and context.
	AuthorizerLambda
)

// Authorizer is an authorizer's result as events carry it.
type Authorizer struct {
	Kind AuthorizerKind
	// PrincipalID is the answer's principalId (Lambda authorizers).
	PrincipalID string
	// Claims and Scopes are a verified JWT's claims and scopes.
	Claims map[string]any
	Scopes []string
	// Context is a Lambda authorizer's context, values as decoded from JSON
	// (string, bool, nil, float64 or json.Number, []any, map[string]any).
	Context map[string]any
	// IntegrationLatency is the authorizer call's latency in milliseconds
	// (1.0 requestContext.authorizer.integrationLatency); negative leaves it
	// out.
	IntegrationLatency int64
}

// ClientCert is a verified mutual-TLS client certificate, in AWS's
// renderings ($context.identity.clientCert.*).
type ClientCert struct {
	// PEM is the certificate in PEM form (clientCertPem).
	PEM string
	// SubjectDN and IssuerDN are the distinguished names, RFC 2253 order.
	SubjectDN, IssuerDN string
	// SerialNumber is the serial number.
	SerialNumber string
	// NotBefore and NotAfter bound its validity.
	NotBefore, NotAfter time.Time
}

// WebSocket event types.
const (
	EventConnect    = "CONNECT"
	EventMessage    = "MESSAGE"
	EventDisconnect = "DISCONNECT"
)

// WebSocketEvent is what a WebSocket event adds to a Request. A CONNECT and
// a DISCONNECT event carry the upgrade request's headers and query (the
// Request's Header, Host and RawQuery); a MESSAGE event carries Body and
// leaves them empty.
type WebSocketEvent struct {
	ConnectionID string
	// EventType is EventConnect, EventMessage or EventDisconnect.
	EventType string
	// MessageID identifies a MESSAGE (empty otherwise).
	MessageID string
	// ConnectedAt is when the connection was established.
	ConnectedAt time.Time
	// DisconnectStatusCode and DisconnectReason describe the close frame of
	// a DISCONNECT (0 leaves the code out).
	DisconnectStatusCode int
	DisconnectReason     string
}

// AuthorizerInput is what an authorizer event adds to the Request.
type AuthorizerInput struct {
	// ARN is the route ARN (2.0 routeArn, 1.0 methodArn).
	ARN string
	// IdentitySource are the identity-source values in configuration order.
	IdentitySource []string
}

func (r *Request) extendedRequestID() string {
	if r.ExtendedRequestID != "" {
		return r.ExtendedRequestID
	}
	return r.RequestID
}

func (r *Request) domainPrefix() string {
	if r.DomainPrefix != "" {
		return r.DomainPrefix
	}
	for i := 0; i < len(r.DomainName); i++ {
		if r.DomainName[i] == '.' {
			return r.DomainName[:i]
		}
	}
	return r.DomainName
}

func (r *Request) apiPath() string {
	if r.APIPath != "" {
		return r.APIPath
	}
	return r.Path
}
