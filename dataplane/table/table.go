// Package table is the immutable routing table that the translator builds and
// every dataplane replica swaps in atomically.
//
// Invariants:
//   - A Table is never mutated after New returns it; the dataplane reads it from
//     many goroutines without locks. Nothing here exports a mutator.
//   - Apis, Stages and Routes are sorted, so two tables built from the same input
//     are equal (golden tests and "unchanged snapshot" checks rely on this).
//   - The table holds configuration only. State that must outlive a swap (token
//     buckets, endpoint sets, connection pools, caches) lives in stores keyed by
//     the stable identities found here (ServiceTarget.Key, Route.Object, ...).
//   - This package imports neither net/http nor the CRD types: it is plain data.
package table

import (
	"github.com/turnpike-io/turnpike/dataplane/gatewayresp"
	"github.com/turnpike-io/turnpike/dataplane/mapping"
	"github.com/turnpike-io/turnpike/dataplane/reqctx"
)

// Protocol is the AWS flavour of an Api: it selects error bodies and headers.
type Protocol string

// Protocols understood by the dataplane.
const (
	ProtocolHTTP Protocol = "HTTP"
	ProtocolREST Protocol = "REST"
)

// DefaultStage is the stage served without a path prefix.
const DefaultStage = "$default"

// DefaultRouteKey is the catch-all route key.
const DefaultRouteKey = "$default"

// Table is one immutable generation of the routing configuration.
type Table struct {
	// Apis sorted by Namespace, then Name.
	Apis []*Api `json:"apis"`
	// Plans are the served usage plans, sorted by Namespace, then Name
	// (see plans.go).
	Plans []*Plan `json:"plans,omitempty"`
	// Domains are the custom domains, sorted by Hostname (domains.go).
	Domains []*Domain `json:"domains,omitempty"`

	hosts   map[string]*Api
	plans   map[string]*Plan
	domains domainIndex
}

// Api is one served Api.
type Api struct {
	Namespace string   `json:"namespace"`
	Name      string   `json:"name"`
	Protocol  Protocol `json:"protocol"`
	// Hosts are the lower-case hostnames (no port) of the default endpoint;
	// empty when the default endpoint is disabled.
	Hosts []string `json:"hosts,omitempty"`
	// MaxRequestBodyBytes: larger bodies get 413.
	MaxRequestBodyBytes int64 `json:"maxRequestBodyBytes"`
	// ErrorHints: error bodies carry a hint (the access log always does).
	ErrorHints bool `json:"errorHints,omitempty"`
	// ApiKeyFromAuthorizer (apiKeySource AUTHORIZER): the API key of a request
	// is the usageIdentifierKey its route's authorizer answered, not x-api-key.
	ApiKeyFromAuthorizer bool `json:"apiKeyFromAuthorizer,omitempty"`
	// CORS is the cross-origin policy (cors.go); nil means the gateway adds
	// no CORS headers and answers preflights like any other request.
	CORS *CORS `json:"cors,omitempty"`
	// GatewayResponses customise the gateway's own error answers
	// (gatewayResponses); nil keeps the built-in ones.
	GatewayResponses *gatewayresp.Responses `json:"gatewayResponses,omitempty"`
	// RouteSelection (WEBSOCKET) picks the route key of each message
	// (routeSelectionExpression, compiled by the translator); nil otherwise.
	RouteSelection *mapping.Selection `json:"routeSelection,omitempty"`
	// Management (WEBSOCKET) holds the access keys that may call the
	// @connections API (websocket.go); nil means nobody may.
	Management *Management `json:"management,omitempty"`
	// BinaryMediaTypes (REST) are the content types passed as binary, with
	// AWS wildcards ("image/*", "*/*"), lower case; bodies always pass
	// through byte for byte, FUNCTION events base64-encode these.
	BinaryMediaTypes []string `json:"binaryMediaTypes,omitempty"`
	// Stages sorted by Name.
	Stages []*Stage `json:"stages"`

	stages map[string]*Stage
}

// Stage is one served stage of an Api with its compiled router.
type Stage struct {
	// Name is the stage name: the path prefix, or DefaultStage for none.
	Name string `json:"name"`
	// Object is "namespace/name" of the Stage object (for logs and metrics).
	Object string `json:"object"`
	// Variables are the stage variables, already substituted into the routes.
	Variables map[string]string `json:"variables,omitempty"`
	// AccessLog is the stage's access log format, compiled once by the
	// translator; nil writes JSON lines.
	AccessLog *reqctx.Template `json:"accessLog,omitempty"`
	// Routes sorted by Key.
	Routes []*Route `json:"routes"`
	// Plans are the usage plans whose keys may call this stage (plans.go).
	Plans []*StagePlan `json:"plans,omitempty"`
	// Canary sends a share of the stage's requests through canary variables
	// (canary.go); nil means no canary.
	Canary *Canary `json:"canary,omitempty"`
	// Cache is the stage's response cache (rest.go); nil means off.
	Cache *StageCache `json:"cache,omitempty"`

	router *Router
	keys   map[[32]byte]*KeyGrant
	// byKey indexes the routes of a WEBSOCKET stage (websocket.go).
	byKey map[string]*Route
}

// Route is one route key of a stage and what it does.
type Route struct {
	// Key is the route key: "METHOD /path" or DefaultRouteKey.
	Key string `json:"key"`
	// Object is "namespace/name" of the Route object that owns the key.
	Object string `json:"object"`
	// Integration is where requests go; ignored when Failure is set.
	Integration Integration `json:"integration"`
	// Failure, when set, makes the route answer an error instead of its
	// integration (unresolved reference, feature not built yet). The route keeps
	// its key: a failing route never falls through to another route.
	Failure *Failure `json:"failure,omitempty"`
	// Throttle is the route's stage/route token bucket: the stage's route
	// setting for this key, else the stage default; nil means none.
	Throttle *Throttle `json:"throttle,omitempty"`
	// ApiKeyRequired: requests need an x-api-key of a plan of this stage.
	ApiKeyRequired bool `json:"apiKeyRequired,omitempty"`
	// ReturnResponse (WEBSOCKET message routes): the integration's answer is
	// sent back to the client (AWS route responses).
	ReturnResponse bool `json:"returnResponse,omitempty"`

	// Auth is how the route authorizes requests; nil means no authorization.
	Auth *Authorization `json:"auth,omitempty"`

	// RequestMapping and ResponseMapping are the integration's compiled
	// requestParameters and responseParameters; nil means none.
	RequestMapping  *mapping.Request  `json:"requestMapping,omitempty"`
	ResponseMapping *mapping.Response `json:"responseMapping,omitempty"`
	// Canary is the route resolved with the stage's canary variables (see
	// canary.go); nil when the stage has no canary.
	Canary *RouteCanary `json:"canary,omitempty"`
	// Validation checks requests before the integration (rest.go); nil
	// means none.
	Validation *Validation `json:"validation,omitempty"`
	// Cache says how the route's answers are cached (rest.go); nil means
	// they are not.
	Cache *RouteCache `json:"cache,omitempty"`

	// ParamNames are the path variable names in path order (greedy last, without "+").
	ParamNames []string `json:"-"`

	pattern    []Segment
	throttleID string
}

// Failure is a fixed gateway error a route answers with.
type Failure struct {
	// Status is the HTTP status code, e.g. 500.
	Status int `json:"status"`
	// Message is the AWS-compatible "message" of the body.
	Message string `json:"message"`
	// Hint says in words what went wrong; shown with errorHints, always logged.
	Hint string `json:"hint"`
}

// IntegrationType is where a route sends its requests.
type IntegrationType string

// Integration types.
const (
	IntegrationService   IntegrationType = "SERVICE"
	IntegrationHTTPProxy IntegrationType = "HTTP_PROXY"
	IntegrationMock      IntegrationType = "MOCK"
	IntegrationFunction  IntegrationType = "FUNCTION"
)

// Integration is the resolved backend of a route in one stage.
type Integration struct {
	Type IntegrationType `json:"type"`
	// Service is the target of SERVICE and FUNCTION integrations.
	Service *ServiceTarget `json:"service,omitempty"`
	// URI is the HTTP_PROXY target with stage variables substituted; {param}
	// placeholders are filled per request.
	URI string `json:"uri,omitempty"`
	// TimeoutMillis bounds the whole integration call (504 past it).
	TimeoutMillis int32 `json:"timeoutMillis"`
	// Mock is the fixed response of MOCK integrations.
	Mock *Mock `json:"mock,omitempty"`
	// PayloadFormatVersion (FUNCTION) is the Lambda event format: "1.0" or
	// "2.0".
	PayloadFormatVersion string `json:"payloadFormatVersion,omitempty"`
	// Concurrency (FUNCTION) is how many invocations may be in flight per
	// ready endpoint of Service; more wait in the function's queue.
	Concurrency int32 `json:"concurrencyPerEndpoint,omitempty"`
}

// ServiceTarget is a Service port whose ready endpoints receive the requests.
// Endpoints live in an upstream store keyed by Key(), updated without
// re-translating routes.
type ServiceTarget struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Port is the Service port number the Route named.
	Port int32 `json:"port"`
	// PortName is the Service port's name ("" for an unnamed single port):
	// EndpointSlice ports are matched by it.
	PortName string `json:"portName"`
}

// Key is the stable identity of the endpoint set: "namespace/name:portName".
func (s ServiceTarget) Key() string { return s.Namespace + "/" + s.Name + ":" + s.PortName }

// Mock is a fixed response.
type Mock struct {
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    string            `json:"body,omitempty"`
}

// Endpoint is one ready address of a Service port.
type Endpoint struct {
	// Address is an IP address (IPv6 without brackets).
	Address string `json:"address"`
	// Port is the target port number (from the EndpointSlice).
	Port int32 `json:"port"`
}

// EndpointSets maps ServiceTarget.Key() to its ready endpoints, sorted.
type EndpointSets map[string][]Endpoint
