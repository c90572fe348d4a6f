package v1alpha1

import (
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// IntegrationType says where a Route sends its requests.
// +kubebuilder:validation:Enum=SERVICE;HTTP_PROXY;FUNCTION;MOCK
type IntegrationType string

// Integration types.
const (
	IntegrationTypeService   IntegrationType = "SERVICE"
	IntegrationTypeHTTPProxy IntegrationType = "HTTP_PROXY"
	IntegrationTypeFunction  IntegrationType = "FUNCTION"
	IntegrationTypeMock      IntegrationType = "MOCK"
)

// AuthorizationType says how a Route authorizes requests.
// +kubebuilder:validation:Enum=NONE;JWT;CUSTOM
type AuthorizationType string

// Authorization types.
const (
	AuthorizationNone   AuthorizationType = "NONE"
	AuthorizationJWT    AuthorizationType = "JWT"
	AuthorizationCustom AuthorizationType = "CUSTOM"
)

// DefaultRouteKey is the catch-all route.
const DefaultRouteKey = "$default"

// DefaultTimeoutMillis is AWS's 29 s integration timeout.
const DefaultTimeoutMillis = 29000

// RouteSpec is one route of an Api: a route key and where it goes.
// +kubebuilder:validation:XValidation:rule="self.authorizationType == 'NONE' || (has(self.authorizerName) && size(self.authorizerName) > 0)",message="authorizerName is required when authorizationType is JWT or CUSTOM"
// +kubebuilder:validation:XValidation:rule="self.authorizationType != 'NONE' || !has(self.authorizerName) || size(self.authorizerName) == 0",message="authorizerName must be empty when authorizationType is NONE"
// +kubebuilder:validation:XValidation:rule="self.authorizationType == 'JWT' || !has(self.authorizationScopes) || size(self.authorizationScopes) == 0",message="authorizationScopes apply only to authorizationType JWT"
type RouteSpec struct {
	// The Api in this namespace that the route belongs to.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	ApiName string `json:"apiName"`
	// "METHOD /path" (METHOD: GET, POST, PUT, PATCH, DELETE, HEAD,
	// OPTIONS or ANY; path segments literal, {var}, or a last greedy {var+}),
	// "$default", or for WEBSOCKET Apis "$connect", "$disconnect" or an action name.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	// +kubebuilder:validation:XValidation:rule="self.startsWith('$') ? self.matches('^[$](default|connect|disconnect)$') : (!self.contains(' ') || self.matches('^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|ANY) /'))",message="routeKey must be \"METHOD /path\" with METHOD one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS or ANY, or \"$default\""
	// +kubebuilder:validation:XValidation:rule="!self.contains(' ') || !self.matches('^[A-Z]+ /') || self.matches('^[A-Z]+ (/|(/([A-Za-z0-9._~-]+|[{][A-Za-z_][A-Za-z0-9_]*[+]?[}]))+)$')",message="each path segment must be letters, digits, '.', '_', '~' or '-', or a variable {name} or {name+}; no empty segment and no trailing slash"
	// +kubebuilder:validation:XValidation:rule="!self.matches('[+][}]/')",message="a greedy variable {name+} may only be the last path segment"
	// +kubebuilder:validation:XValidation:rule="!self.matches('/[.][.]?(/|$)')",message="path segments '.' and '..' are not allowed"
	// +kubebuilder:validation:XValidation:rule="self.contains(' ') || self.startsWith('$') || self.matches('^[A-Za-z0-9_.:-]+$')",message="a WebSocket action name is letters, digits, '_', '.', ':' or '-'"
	RouteKey string `json:"routeKey"`
	// Where the route sends requests.
	Integration Integration `json:"integration"`
	// How requests are authorized: NONE, JWT, or CUSTOM (a REQUEST Authorizer).
	// +kubebuilder:default=NONE
	// +optional
	AuthorizationType AuthorizationType `json:"authorizationType,omitempty"`
	// The Authorizer (of the same Api) for JWT and CUSTOM.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	AuthorizerName string `json:"authorizerName,omitempty"`
	// JWT only: the token must carry one of these in its scope or scp claim.
	// +kubebuilder:validation:MaxItems=10
	// +kubebuilder:validation:items:MaxLength=256
	// +optional
	AuthorizationScopes []string `json:"authorizationScopes,omitempty"`
	// When true, requests need an API key of a UsagePlan of the stage.
	// +optional
	ApiKeyRequired bool `json:"apiKeyRequired,omitempty"`
	// A REST-style request validator: required
	// parameters and a JSON Schema for the body, checked after authorization
	// and the API key, before the integration.
	// +optional
	RequestValidation *RequestValidation `json:"requestValidation,omitempty"`
	// Overrides the stage cache's settings for this route.
	// +optional
	Cache *RouteCache `json:"cache,omitempty"`
	// Settings of a route of a WEBSOCKET Api.
	// +optional
	WebSocket *RouteWebSocket `json:"websocket,omitempty"`
}

// RouteWebSocket holds the WebSocket settings of a route.
type RouteWebSocket struct {
	// Sends the integration's answer back to the client (AWS route
	// responses).
	// +optional
	ReturnResponse bool `json:"returnResponse,omitempty"`
}

// Integration is the backend of a Route.
// +kubebuilder:validation:XValidation:rule="!(self.type == 'SERVICE' || self.type == 'FUNCTION') || has(self.service)",message="integration.service is required for type SERVICE and FUNCTION"
// +kubebuilder:validation:XValidation:rule="self.type != 'HTTP_PROXY' || has(self.uri)",message="integration.uri is required for type HTTP_PROXY"
// +kubebuilder:validation:XValidation:rule="self.type == 'HTTP_PROXY' || !has(self.uri)",message="integration.uri applies only to type HTTP_PROXY"
// +kubebuilder:validation:XValidation:rule="self.type == 'SERVICE' || self.type == 'FUNCTION' || !has(self.service)",message="integration.service applies only to types SERVICE and FUNCTION"
// +kubebuilder:validation:XValidation:rule="self.type == 'MOCK' || !has(self.mock)",message="integration.mock applies only to type MOCK"
// +kubebuilder:validation:XValidation:rule="self.type == 'FUNCTION' || !has(self.payloadFormatVersion)",message="integration.payloadFormatVersion applies only to type FUNCTION"
// +kubebuilder:validation:XValidation:rule="self.type == 'FUNCTION' || !has(self.concurrencyPerEndpoint)",message="integration.concurrencyPerEndpoint applies only to type FUNCTION"
type Integration struct {
	// SERVICE (a Service's ready endpoints), HTTP_PROXY (a URL), FUNCTION (an
	// AWS Lambda proxy event to the Runtime Interface Emulator of a Service
	// running a Lambda container image) or MOCK (a fixed response).
	Type IntegrationType `json:"type"`
	// SERVICE and FUNCTION: the Service whose ready endpoints (from its
	// EndpointSlices) get the requests; not an ExternalName Service (use
	// HTTP_PROXY for those).
	// Its name may use ${stageVariables.x}.
	// +optional
	Service *IntegrationService `json:"service,omitempty"`
	// HTTP_PROXY: the URL requests are forwarded to; may use {pathParam} and
	// ${stageVariables.x}.
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.matches('^(https?://|[$][{]stageVariables[.])')",message="uri must be an absolute http:// or https:// URL (or start with a stage variable)"
	// +optional
	URI string `json:"uri,omitempty"`
	// How long the integration may take, in milliseconds: 50 to 300000,
	// default 29000.
	// +kubebuilder:default=29000
	// +kubebuilder:validation:Minimum=50
	// +kubebuilder:validation:Maximum=300000
	// +optional
	TimeoutMillis int32 `json:"timeoutMillis,omitempty"`
	// FUNCTION only, "1.0" or "2.0" (AWS Lambda proxy
	// event formats); default "2.0" on HTTP Apis and "1.0" on REST Apis.
	// +kubebuilder:validation:Enum="1.0";"2.0"
	// +optional
	PayloadFormatVersion string `json:"payloadFormatVersion,omitempty"`
	// FUNCTION only, invocations in flight per ready
	// endpoint (default 1: the Lambda Runtime Interface Emulator runs one at
	// a time); further requests queue.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	// +optional
	ConcurrencyPerEndpoint int32 `json:"concurrencyPerEndpoint,omitempty"`
	// Parameter mapping of the request, in AWS HTTP API syntax. Keys:
	// "append:header.NAME", "overwrite:header.NAME", "remove:header.NAME",
	// the same for "querystring.NAME", and "overwrite:path". Values: static
	// text mixed with $request.header.NAME, $request.querystring.NAME,
	// $request.path, $request.path.NAME, $request.body, $request.body.a.b,
	// $context.NAME (e.g. $context.authorizer.claims.sub) and
	// $stageVariables.NAME; ${...} delimits a variable inside text. Example:
	// {"append:header.x-user": "$context.authorizer.claims.sub",
	// "overwrite:path": "/v2$request.path"}.
	// +kubebuilder:validation:MaxProperties=50
	// +kubebuilder:validation:XValidation:rule="self.all(k, size(k) <= 256 && size(self[k]) <= 1024)",message="parameter mapping keys are at most 256 and values at most 1024 characters"
	// +kubebuilder:validation:XValidation:rule="self.all(k, k == 'overwrite:path' || k.matches('^(append|overwrite|remove):(header|querystring)[.][^ ]+$'))",message="requestParameters keys are append|overwrite|remove:header.NAME, append|overwrite|remove:querystring.NAME or overwrite:path"
	// +kubebuilder:validation:XValidation:rule="self.all(k, !k.lowerAscii().matches('^(append|overwrite|remove):header[.](access-control-.*|apigw-.*|proxy-.*|x-amz-.*|x-amzn-.*|x-forwarded-.*|x-turnpike-.*|authorization|connection|content-encoding|content-length|content-location|forwarded|host|keep-alive|origin|te|trailers?|transfer-encoding|upgrade|via)$'))",message="parameter mapping cannot change reserved headers: access-control-*, apigw-*, authorization, connection, content-encoding, content-length, content-location, forwarded, host, keep-alive, origin, proxy-*, te, trailer(s), transfer-encoding, upgrade, via, x-amz-*, x-amzn-*, x-forwarded-*, x-turnpike-*"
	// +optional
	RequestParameters map[string]string `json:"requestParameters,omitempty"`
	// Parameter mapping of the response by backend status code ("404"), in
	// AWS HTTP API syntax: "append|overwrite|remove:header.NAME" or
	// "overwrite:statuscode" mapped to a value as in requestParameters, plus
	// $response.header.NAME. Example: {"404": {"overwrite:statuscode": "410"}}.
	// +kubebuilder:validation:MaxProperties=20
	// +kubebuilder:validation:XValidation:rule="self.all(k, k.matches('^[1-5][0-9][0-9]$'))",message="responseParameters keys are status codes 100 to 599"
	// +optional
	ResponseParameters map[string]ResponseMapping `json:"responseParameters,omitempty"`
	// MOCK: the response to answer with.
	// +optional
	Mock *Mock `json:"mock,omitempty"`
}

// ResponseMapping is the response parameter mapping of one status code:
// "append|overwrite|remove:header.NAME" or "overwrite:statuscode" -> value.
// +kubebuilder:validation:MaxProperties=20
// +kubebuilder:validation:XValidation:rule="self.all(k, size(k) <= 256 && size(self[k]) <= 1024)",message="parameter mapping keys are at most 256 and values at most 1024 characters"
// +kubebuilder:validation:XValidation:rule="self.all(k, k == 'overwrite:statuscode' || k.matches('^(append|overwrite|remove):header[.][^ ]+$'))",message="responseParameters mapping keys are append|overwrite|remove:header.NAME or overwrite:statuscode"
// +kubebuilder:validation:XValidation:rule="self.all(k, !k.lowerAscii().matches('^(append|overwrite|remove):header[.](access-control-.*|apigw-.*|proxy-.*|x-amz-.*|x-amzn-.*|x-forwarded-.*|x-turnpike-.*|authorization|connection|content-encoding|content-length|content-location|forwarded|host|keep-alive|origin|te|trailers?|transfer-encoding|upgrade|via)$'))",message="parameter mapping cannot change reserved headers: access-control-*, apigw-*, authorization, connection, content-encoding, content-length, content-location, forwarded, host, keep-alive, origin, proxy-*, te, trailer(s), transfer-encoding, upgrade, via, x-amz-*, x-amzn-*, x-forwarded-*, x-turnpike-*"
type ResponseMapping map[string]string

// IntegrationService names a Service port; the name may use stage variables.
type IntegrationService struct {
	// The Service's name, or a ${stageVariables.x} template that yields one.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
	// The Service port (spec.ports[].port).
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port int32 `json:"port"`
}

// Mock is a fixed response.
type Mock struct {
	// The status code of the response; default 200.
	// +kubebuilder:default=200
	// +kubebuilder:validation:Minimum=100
	// +kubebuilder:validation:Maximum=599
	// +optional
	StatusCode int32 `json:"statusCode,omitempty"`
	// The headers of the response.
	// +kubebuilder:validation:MaxProperties=32
	// +kubebuilder:validation:XValidation:rule="self.all(k, k.matches('^[A-Za-z0-9!#$%&*+.^_|~-]{1,128}$'))",message="mock header names are HTTP tokens of at most 128 characters"
	// +kubebuilder:validation:XValidation:rule="self.all(k, size(self[k]) <= 4096)",message="mock header values are at most 4096 characters"
	// +optional
	Headers map[string]string `json:"headers,omitempty"`
	// The body of the response.
	// +kubebuilder:validation:MaxLength=65536
	// +optional
	Body string `json:"body,omitempty"`
}

// RequestValidation is a REST-style request validator (AWS request
// validators with a JSON Schema model).
type RequestValidation struct {
	// Parameters requests must carry: "querystring.x", "header.x" or "path.x".
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=256
	// +kubebuilder:validation:items:Pattern=`^(querystring|header|path)\.[A-Za-z0-9._~-]+$`
	// +optional
	RequiredParameters []string `json:"requiredParameters,omitempty"`
	// A JSON Schema for the JSON request body: draft 4 (AWS
	// models; the default without "$schema") or 2020-12. Remote "$ref"s are
	// refused.
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Type=object
	// +optional
	BodySchema *apiextensionsv1.JSON `json:"bodySchema,omitempty"`
}

// RouteCache overrides the stage's response cache for one route.
type RouteCache struct {
	// true caches this route (also a non-GET route's own method);
	// false never caches it. The stage's cache must be enabled.
	// +optional
	Enabled bool `json:"enabled,omitempty"`
	// The time to live of this route's entries; 0 takes the
	// stage's ttlSeconds.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=3600
	// +optional
	TTLSeconds int32 `json:"ttlSeconds,omitempty"`
	// Request parameters whose values vary the entry
	// ("querystring.x", "header.x", "path.x"); parameters left out do not.
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MaxLength=256
	// +kubebuilder:validation:items:Pattern=`^(querystring|header|path)\.[A-Za-z0-9._~-]+$`
	// +optional
	KeyParameters []string `json:"keyParameters,omitempty"`
}

// RouteStatus is the observed state of a Route.
type RouteStatus struct {
	CommonStatus `json:",inline"`
}

// Route is one route of an Api.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=turnpike,shortName=tproute
// +kubebuilder:printcolumn:name="Api",type=string,JSONPath=`.spec.apiName`
// +kubebuilder:printcolumn:name="Route Key",type=string,JSONPath=`.spec.routeKey`
// +kubebuilder:printcolumn:name="Integration",type=string,JSONPath=`.spec.integration.type`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Route struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   RouteSpec   `json:"spec,omitempty"`
	Status RouteStatus `json:"status,omitempty"`
}

// RouteList is a list of Routes.
// +kubebuilder:object:root=true
type RouteList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Route `json:"items"`
}
