// Package reqctx is the AWS $context of one request: every $context value
// Turnpike knows, in one struct that the dataplane fills from one place (the
// exchange's context builder), and the templates of $context variables that
// render it (access-log formats; gateway-response templates use the same
// compiler).
//
// Invariants:
//   - One request has one $context: the access log, traces, metrics,
//     parameter mapping, authorizer events and Lambda events all read the
//     values of the same Context, so no two of them can disagree about a
//     request's path, stage or api id.
//   - Every variable resolves through Value (by name) or a Var (compiled
//     once): both use the same definitions (vars.go), so a template and a
//     mapping see the same value for the same name.
//   - The package is pure data and functions: no I/O, no goroutines, no
//     logger. The routing table and the translator link it freely.
package reqctx

import (
	"crypto/x509"
	"encoding/pem"
	"net"
	"strings"
	"time"
)

// Context holds the $context values of one request. The dataplane refills
// it as the request progresses; a value not known yet is its zero value,
// which renders as "" (or "-" in access-log templates, as AWS writes
// unavailable values).
type Context struct {
	// RequestID is $context.requestId (and extendedRequestId).
	RequestID string
	// AccountID stands in for the AWS account id: the Api's namespace.
	AccountID string
	// APIID stands in for the AWS api id: the Api's name.
	APIID string
	// Stage is the stage name ("$default" for the default stage).
	Stage string
	// RouteKey is the matched route key ("GET /pets/{id}", "$default").
	RouteKey string
	// HTTPMethod is the request method.
	HTTPMethod string
	// Path is the request path as received: escaped, with the stage prefix
	// (on a custom domain, with the base path), as AWS's $context.path.
	Path string
	// Protocol is the request protocol, e.g. "HTTP/1.1".
	Protocol string
	// DomainName is the canonical request host (lower case, no port).
	DomainName string
	// SourceIP is the socket peer's address (never a header a client wrote).
	SourceIP string
	// UserAgent is the User-Agent header.
	UserAgent string
	// RequestTime is when the request arrived; RequestTimeText, when set, is
	// its CLF form (the access log's writer caches it).
	RequestTime     time.Time
	RequestTimeText string

	// Status is the status sent to the client (0: none yet).
	Status int
	// ResponseLength is the number of body bytes sent to the client.
	ResponseLength int64
	// ResponseLatency is the request's duration so far.
	ResponseLatency time.Duration
	// IntegrationLatency is the backend call's duration.
	IntegrationLatency time.Duration
	// IntegrationStatus is the backend's status (0 when none answered).
	IntegrationStatus int
	// IntegrationError says why the integration failed ("egress denied").
	IntegrationError string
	// ErrorMessage is the message of the gateway's error response;
	// ErrorHint says in words what went wrong (Turnpike's, not AWS's).
	ErrorMessage, ErrorHint string
	// ErrorResponseType is the AWS gateway response type of the gateway's
	// error response ("THROTTLED", "UNAUTHORIZED", ...).
	ErrorResponseType string
	// CacheStatus is what the response cache did: "Hit", "Miss" or
	// "Refresh" ("" on a route that is not cached).
	CacheStatus string

	// PrincipalID is the authorizer's principal (the JWT's sub, a REQUEST
	// answer's principalId).
	PrincipalID string
	// AuthorizerError is why the authorizer refused or failed ("" when it
	// allowed the request).
	AuthorizerError string
	// Authorizer resolves $context.authorizer.claims.X and
	// $context.authorizer.X (a REQUEST answer's context); nil without one.
	Authorizer Values

	// ClientCert is the verified client certificate under mutual TLS.
	ClientCert ClientCert
	// APIKeyID is the id (a hash prefix, never the key) of the request's API key.
	APIKeyID string
	// Canary is set when the stage's canary served the request.
	Canary bool

	// WebSocket events (WEBSOCKET Apis; empty otherwise): the connection's
	// id, the event (CONNECT, MESSAGE or DISCONNECT), the message's id
	// (MESSAGE only) and when the upgrade request arrived (AWS's
	// connectedAt, set during CONNECT too).
	ConnectionID, EventType, MessageID string
	ConnectedAt                        time.Time
}

// Values resolves the names after "$context.authorizer." that an
// authorizer's answer carries ("claims.sub", a context key).
type Values interface {
	Value(name string) (string, bool)
}

// ClientCert is a verified client certificate in the form of AWS's
// $context.identity.clientCert.* (zero when there is none).
type ClientCert struct {
	// Leaf is the verified leaf certificate; its PEM form is rendered only
	// when a variable asks for it (clientCertPem).
	Leaf *x509.Certificate
	// SubjectDN and IssuerDN are the distinguished names in certificate
	// order, e.g. "C=US,O=Example,CN=client".
	SubjectDN, IssuerDN string
	// SerialNumber is the serial number in decimal.
	SerialNumber string
	// NotBefore and NotAfter are the validity in OpenSSL's format.
	NotBefore, NotAfter string
}

// RequestTimeLayout is AWS's $context.requestTime layout (CLF).
const RequestTimeLayout = "02/Jan/2006:15:04:05 -0700"

// Api is "namespace/name" of the request's Api, "" when none was resolved
// (the access log's "api" field and trace attribute).
func (c *Context) Api() string {
	if c.APIID == "" {
		return ""
	}
	return c.AccountID + "/" + c.APIID
}

// ResourcePath is the path template of the route key ("/pets/{id}" for
// "GET /pets/{id}"); "$default" stays as it is; "" without a route.
func (c *Context) ResourcePath() string {
	if _, p, ok := strings.Cut(c.RouteKey, " "); ok {
		return p
	}
	return c.RouteKey
}

// DomainPrefix is the first label of the domain name, as on AWS.
func (c *Context) DomainPrefix() string {
	p, _, _ := strings.Cut(c.DomainName, ".")
	return p
}

// Value resolves $context.NAME (name without the "$context." prefix) to its
// text: numbers in decimal, durations in milliseconds, requestTime in CLF
// form. ok is false for a name that is not a $context variable Turnpike
// knows; a known variable without a value yet is "" with ok true.
func (c *Context) Value(name string) (string, bool) {
	v, ok := Lookup(name)
	return c.Text(v), ok
}

// PEM is the client certificate in PEM form ("" without one).
func (cc *ClientCert) PEM() string {
	if cc.Leaf == nil {
		return ""
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cc.Leaf.Raw}))
}

// SourceIP is $context.identity.sourceIp of a request whose socket peer is
// remoteAddr (http.Request.RemoteAddr): the address without its port or
// brackets. Forwarded-for headers are deliberately not read here: only the
// proxy knows which peers to trust.
func SourceIP(remoteAddr string) string {
	if host, _, err := net.SplitHostPort(remoteAddr); err == nil {
		return host
	}
	return strings.TrimSuffix(strings.TrimPrefix(remoteAddr, "["), "]")
}
