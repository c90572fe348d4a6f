package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// Protocol selects which AWS API Gateway flavour an Api imitates.
// +kubebuilder:validation:Enum=HTTP;REST;WEBSOCKET
type Protocol string

// Protocols.
const (
	ProtocolHTTP      Protocol = "HTTP"
	ProtocolREST      Protocol = "REST"
	ProtocolWebSocket Protocol = "WEBSOCKET"
)

// ApiKeySource says where the API key of a request comes from.
// +kubebuilder:validation:Enum=HEADER;AUTHORIZER
type ApiKeySource string

// API key sources.
const (
	ApiKeySourceHeader     ApiKeySource = "HEADER"
	ApiKeySourceAuthorizer ApiKeySource = "AUTHORIZER"
)

// DefaultMaxRequestBodyBytes is AWS's 10 MiB payload limit.
const DefaultMaxRequestBodyBytes = 10485760

// ApiSpec is an API: a set of Routes served under Stages.
// +kubebuilder:validation:XValidation:rule="!has(self.routeSelectionExpression) || self.protocol == 'WEBSOCKET'",message="routeSelectionExpression applies only to protocol WEBSOCKET"
// +kubebuilder:validation:XValidation:rule="!has(self.cors) || self.protocol != 'WEBSOCKET'",message="cors applies only to protocols HTTP and REST"
// +kubebuilder:validation:XValidation:rule="!has(self.managementApi) || self.protocol == 'WEBSOCKET'",message="managementApi applies only to protocol WEBSOCKET"
type ApiSpec struct {
	// Selects AWS-compatible behaviour: HTTP (HTTP API), REST (REST API)
	// or WEBSOCKET (WebSocket API).
	// +kubebuilder:default=HTTP
	// +optional
	Protocol Protocol `json:"protocol,omitempty"`
	// Free text.
	// +kubebuilder:validation:MaxLength=1024
	// +optional
	Description string `json:"description,omitempty"`
	// When true the Api is served only on Stage custom domains, never on
	// its default endpoint {api}.{namespace}.{defaultDomain}.
	// +optional
	DisableDefaultEndpoint bool `json:"disableDefaultEndpoint,omitempty"`
	// Where API keys come from: HEADER reads the x-api-key header;
	// AUTHORIZER takes the usageIdentifierKey of the route's REQUEST
	// authorizer answer.
	// +kubebuilder:default=HEADER
	// +optional
	ApiKeySource ApiKeySource `json:"apiKeySource,omitempty"`
	// Selects the route of a WebSocket message: text and
	// $request.body.JSONPATH variables; "$request.body.action" when unset.
	// +kubebuilder:validation:MaxLength=256
	// +optional
	RouteSelectionExpression string `json:"routeSelectionExpression,omitempty"`
	// The largest request body accepted, in bytes; larger bodies get 413.
	// Default 10 MiB.
	// +kubebuilder:default=10485760
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1073741824
	// +optional
	MaxRequestBodyBytes int64 `json:"maxRequestBodyBytes,omitempty"`
	// When true, the gateway's own error bodies carry a "hint" string that
	// says what went wrong (the hint always goes to the access log).
	// +optional
	ErrorHints bool `json:"errorHints,omitempty"`
	// Makes the gateway answer preflights and add CORS headers; absent, it
	// adds none.
	// +optional
	CORS *CORS `json:"cors,omitempty"`
	// WEBSOCKET only: who may call the @connections API of the Api's stages
	// with AWS Signature Version 4.
	// +optional
	ManagementApi *ManagementApi `json:"managementApi,omitempty"`
	// REST only: content types passed as binary, with AWS semantics and
	// wildcards ("image/*", "*/*"); FUNCTION integrations get such bodies
	// base64-encoded, and decode a function's base64 answer for clients
	// that accept such a type.
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MaxLength=256
	// +kubebuilder:validation:items:Pattern=`^[A-Za-z0-9!#$&^_.+*-]+/[A-Za-z0-9!#$&^_.+*-]+$`
	// +optional
	BinaryMediaTypes []string `json:"binaryMediaTypes,omitempty"`
	// Customise the gateway's own error responses, in AWS's shape, keyed by
	// AWS response type (DEFAULT_4XX, DEFAULT_5XX,
	// MISSING_AUTHENTICATION_TOKEN, THROTTLED, ...).
	// +kubebuilder:validation:MaxProperties=32
	// +kubebuilder:validation:XValidation:rule="self.all(k, k in ['DEFAULT_4XX','DEFAULT_5XX','ACCESS_DENIED','API_CONFIGURATION_ERROR','AUTHORIZER_CONFIGURATION_ERROR','AUTHORIZER_FAILURE','BAD_REQUEST_PARAMETERS','BAD_REQUEST_BODY','EXPIRED_TOKEN','INTEGRATION_FAILURE','INTEGRATION_TIMEOUT','INVALID_API_KEY','INVALID_SIGNATURE','MISSING_AUTHENTICATION_TOKEN','QUOTA_EXCEEDED','REQUEST_TOO_LARGE','RESOURCE_NOT_FOUND','THROTTLED','UNAUTHORIZED','UNSUPPORTED_MEDIA_TYPE','WAF_FILTERED'])",message="gatewayResponses keys are AWS gateway response types: DEFAULT_4XX, DEFAULT_5XX, ACCESS_DENIED, API_CONFIGURATION_ERROR, AUTHORIZER_CONFIGURATION_ERROR, AUTHORIZER_FAILURE, BAD_REQUEST_PARAMETERS, BAD_REQUEST_BODY, EXPIRED_TOKEN, INTEGRATION_FAILURE, INTEGRATION_TIMEOUT, INVALID_API_KEY, INVALID_SIGNATURE, MISSING_AUTHENTICATION_TOKEN, QUOTA_EXCEEDED, REQUEST_TOO_LARGE, RESOURCE_NOT_FOUND, THROTTLED, UNAUTHORIZED, UNSUPPORTED_MEDIA_TYPE or WAF_FILTERED"
	// +optional
	GatewayResponses map[string]GatewayResponse `json:"gatewayResponses,omitempty"`
}

// AWSCredentialsSecretType is the Secret type of the access keys that may
// sign @connections calls (data.accessKeyId, data.secretAccessKey).
const AWSCredentialsSecretType = "turnpike.io/aws-credentials" //nolint:gosec // G101: a Secret type, not a credential

// ManagementApi says who may call a WEBSOCKET Api's @connections API.
type ManagementApi struct {
	// Secrets of type turnpike.io/aws-credentials
	// (keys accessKeyId and secretAccessKey) in the Api's namespace whose
	// access keys may sign @connections requests (SigV4, service execute-api).
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MaxLength=253
	// +optional
	CredentialSecretNames []string `json:"credentialSecretNames,omitempty"`
}

// GatewayResponse is one customised gateway response, in AWS's shape.
type GatewayResponse struct {
	// Replaces the response type's default status.
	// +kubebuilder:validation:Minimum=100
	// +kubebuilder:validation:Maximum=599
	// +optional
	StatusCode int32 `json:"statusCode,omitempty"`
	// Headers to set: "gatewayresponse.header.NAME" -> a
	// static 'quoted' value, context.X, stageVariables.X or
	// method.request.{header,querystring,path}.X (AWS's forms; a leading "$"
	// is accepted too).
	// +kubebuilder:validation:MaxProperties=20
	// +kubebuilder:validation:XValidation:rule="self.all(k, k.matches('^gatewayresponse[.]header[.][A-Za-z0-9!#$%&*+.^_|~-]{1,128}$') && size(self[k]) <= 1024)",message="responseParameters keys are gatewayresponse.header.NAME and values at most 1024 characters"
	// +optional
	ResponseParameters map[string]string `json:"responseParameters,omitempty"`
	// Body templates by content type (application/json):
	// text with $context variables, e.g. {"error":$context.error.messageString}.
	// $stageVariables.X works too; other VTL ($input, $util, #if) is refused.
	// +kubebuilder:validation:MaxProperties=8
	// +kubebuilder:validation:XValidation:rule="self.all(k, size(k) <= 128 && size(self[k]) <= 10240)",message="responseTemplates keys are at most 128 and templates at most 10240 characters"
	// +optional
	ResponseTemplates map[string]string `json:"responseTemplates,omitempty"`
}

// CORS is the cross-origin configuration of an Api.
// +kubebuilder:validation:XValidation:rule="!(has(self.allowCredentials) && self.allowCredentials && has(self.allowOrigins) && self.allowOrigins.exists(o, o == '*'))",message="allowCredentials cannot be true when allowOrigins contains \"*\": browsers refuse credentials with a wildcard origin; list the origins instead"
type CORS struct {
	// Origins allowed: exact origins, "*", "https://*", or scheme://*.suffix
	// (subdomains only).
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=253
	// +kubebuilder:validation:items:Pattern=`^(\*|null|https?://(\*|(\*\.)?[A-Za-z0-9.-]+)(:[0-9]{1,5})?)$`
	// +optional
	AllowOrigins []string `json:"allowOrigins,omitempty"`
	// Methods allowed: HTTP methods, or ["*"].
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:Pattern=`^(\*|[A-Z]+)$`
	// +kubebuilder:validation:items:MaxLength=16
	// +optional
	AllowMethods []string `json:"allowMethods,omitempty"`
	// Request headers allowed: header names, or ["*"].
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=128
	// +kubebuilder:validation:items:Pattern=`^(\*|[A-Za-z0-9!#$%&'*+.^_|~-]+)$`
	// +optional
	AllowHeaders []string `json:"allowHeaders,omitempty"`
	// Response headers the browser may read.
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=128
	// +kubebuilder:validation:items:Pattern=`^(\*|[A-Za-z0-9!#$%&'*+.^_|~-]+)$`
	// +optional
	ExposeHeaders []string `json:"exposeHeaders,omitempty"`
	// How long a browser may cache a preflight answer.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=86400
	// +optional
	MaxAgeSeconds int32 `json:"maxAgeSeconds,omitempty"`
	// When true, cookies and Authorization may be sent cross-origin (not
	// with allowOrigins "*").
	// +optional
	AllowCredentials bool `json:"allowCredentials,omitempty"`
}

// DataplaneStatus counts the replicas serving an Api's latest generation.
type DataplaneStatus struct {
	// The number of dataplane replicas seen.
	Replicas int32 `json:"replicas"`
	// The number of replicas serving the latest generation.
	UpToDate int32 `json:"upToDate"`
}

// ApiStatus is the observed state of an Api.
type ApiStatus struct {
	CommonStatus `json:",inline"`
	// The default endpoint URLs of the Api.
	// +kubebuilder:validation:MaxItems=16
	// +optional
	Endpoints []string `json:"endpoints,omitempty"`
	// The number of Routes served for this Api.
	// +optional
	Routes int32 `json:"routes"`
	// The number of Stages served for this Api.
	// +optional
	Stages int32 `json:"stages"`
	// Reports how many replicas serve the latest generation.
	// +optional
	Dataplane *DataplaneStatus `json:"dataplane,omitempty"`
}

// Api is an API in the sense of AWS API Gateway: Routes and Stages name it.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=turnpike,shortName=tpapi
// +kubebuilder:printcolumn:name="Protocol",type=string,JSONPath=`.spec.protocol`
// +kubebuilder:printcolumn:name="Endpoint",type=string,JSONPath=`.status.endpoints[0]`
// +kubebuilder:printcolumn:name="Routes",type=integer,JSONPath=`.status.routes`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Api struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// The Api's settings; an Api without a spec gets every default
	// (protocol HTTP, ...), so its PROTOCOL column is never blank.
	// +kubebuilder:default={}
	Spec   ApiSpec   `json:"spec,omitempty"`
	Status ApiStatus `json:"status,omitempty"`
}

// ApiList is a list of Apis.
// +kubebuilder:object:root=true
type ApiList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Api `json:"items"`
}
