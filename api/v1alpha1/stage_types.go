package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// DefaultStageName is the stage served without a path prefix.
const DefaultStageName = "$default"

// StageSpec is a deployment of an Api under a name (the first path segment on
// the default endpoint) with its own variables, throttles and domains.
type StageSpec struct {
	// The Api in this namespace that the stage serves.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	ApiName string `json:"apiName"`
	// The stage's path segment; defaults to metadata.name.
	// "$default" serves without a path prefix.
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:Pattern=`^(\$default|[A-Za-z0-9_-]+)$`
	// +optional
	StageName string `json:"stageName,omitempty"`
	// Stage variables: ${stageVariables.name} in an integration's
	// uri, Service name and parameters.
	// +kubebuilder:validation:MaxProperties=64
	// +kubebuilder:validation:XValidation:rule="self.all(k, k.matches('^[A-Za-z0-9_]{1,64}$'))",message="stage variable names are 1 to 64 letters, digits or underscores"
	// +kubebuilder:validation:XValidation:rule="self.all(k, size(self[k]) <= 512)",message="stage variable values are at most 512 characters"
	// +optional
	Variables map[string]string `json:"variables,omitempty"`
	// The default token bucket of each route of the stage.
	// +optional
	Throttle *Throttle `json:"throttle,omitempty"`
	// Override the throttle of single routes.
	// +kubebuilder:validation:MaxItems=128
	// +listType=map
	// +listMapKey=routeKey
	// +optional
	RouteSettings []RouteSetting `json:"routeSettings,omitempty"`
	// Selects the access log format of the stage.
	// +optional
	AccessLog *AccessLog `json:"accessLog,omitempty"`
	// A REST-style response cache of the stage's answers, in
	// memory per replica.
	// +optional
	Cache *StageCache `json:"cache,omitempty"`
	// Sends a share of requests through canary variables.
	// +optional
	Canary *Canary `json:"canary,omitempty"`
	// Map custom hostnames and base paths to this stage.
	// +kubebuilder:validation:MaxItems=16
	// +optional
	Domains []Domain `json:"domains,omitempty"`
}

// RouteSetting overrides settings of one route of a stage.
type RouteSetting struct {
	// The route's key, as in Route.spec.routeKey.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=512
	RouteKey string `json:"routeKey"`
	// The token bucket of that route.
	// +optional
	Throttle *Throttle `json:"throttle,omitempty"`
}

// AccessLog selects an access log format.
type AccessLog struct {
	// The access log format: json (default), clf, or a template of $context.*
	// variables in AWS syntax.
	// +kubebuilder:default=json
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=4096
	// +optional
	Format string `json:"format,omitempty"`
}

// StageCache configures a REST-style response cache (AWS stage cache).
type StageCache struct {
	// Turns the cache on: GET routes of the stage are cached unless
	// their Route's cache says otherwise.
	// +optional
	Enabled bool `json:"enabled,omitempty"`
	// The default time to live of an entry; 0 caches nothing
	// (AWS semantics).
	// +kubebuilder:default=300
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=3600
	// +optional
	TTLSeconds int32 `json:"ttlSeconds,omitempty"`
	// Bounds the cache's memory (entries weighted by their size);
	// the least useful entries are evicted beyond it. A change recreates
	// (flushes) the stage's cache, as resizing an AWS cache does.
	// +kubebuilder:default=67108864
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=17179869184
	// +optional
	MaxBytes int64 `json:"maxBytes,omitempty"`
	// A request with
	// "Cache-Control: max-age=0" refreshes its entry only when the route's
	// authorizer allowed it with a policy that allows
	// execute-api:InvalidateCache on the route (AWS's setting). false lets
	// every caller refresh entries.
	// +kubebuilder:default=true
	// +optional
	RequireAuthorizationForCacheControl *bool `json:"requireAuthorizationForCacheControl,omitempty"`
	// What a refresh from a caller
	// that may not invalidate gets: SUCCEED_WITH_RESPONSE_HEADER (default:
	// the header is ignored and the answer carries a Warning header),
	// SUCCEED_WITHOUT_RESPONSE_HEADER (ignored silently) or FAIL_WITH_403.
	// +kubebuilder:default=SUCCEED_WITH_RESPONSE_HEADER
	// +kubebuilder:validation:Enum=FAIL_WITH_403;SUCCEED_WITH_RESPONSE_HEADER;SUCCEED_WITHOUT_RESPONSE_HEADER
	// +optional
	UnauthorizedCacheControlHeaderStrategy string `json:"unauthorizedCacheControlHeaderStrategy,omitempty"`
	// Adds "X-Cache: Hit" or "X-Cache: Miss" to answers of
	// cached routes; false leaves it out.
	// +kubebuilder:default=true
	// +optional
	StatusHeader *bool `json:"statusHeader,omitempty"`
}

// Strategies for a Cache-Control: max-age=0 from a caller that may not
// invalidate the cache (AWS's enum).
const (
	CacheControlFailWith403          = "FAIL_WITH_403"
	CacheControlSucceedWithHeader    = "SUCCEED_WITH_RESPONSE_HEADER"
	CacheControlSucceedWithoutHeader = "SUCCEED_WITHOUT_RESPONSE_HEADER"
	// FlushCacheAnnotation on a Stage flushes its response cache whenever its
	// value changes (any new value).
	FlushCacheAnnotation = "turnpike.io/flush-cache"
)

// Canary sends a share of a stage's requests through other stage variables.
type Canary struct {
	// The share of requests, 0 to 100, that use canary variables.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	PercentTraffic int32 `json:"percentTraffic"`
	// Override stage variables for canary requests.
	// +kubebuilder:validation:MaxProperties=64
	// +kubebuilder:validation:XValidation:rule="self.all(k, k.matches('^[A-Za-z0-9_]{1,64}$'))",message="stage variable names are 1 to 64 letters, digits or underscores"
	// +kubebuilder:validation:XValidation:rule="self.all(k, size(self[k]) <= 512)",message="stage variable values are at most 512 characters"
	// +optional
	Variables map[string]string `json:"variables,omitempty"`
}

// Domain is an API mapping: (hostname, basePath) -> this stage.
type Domain struct {
	// The custom domain name.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$`
	Hostname string `json:"hostname"`
	// The path prefix under the hostname: "" maps the whole host; "v1" maps
	// /v1 and /v1/..., never /v10.
	// +kubebuilder:validation:MaxLength=256
	// +kubebuilder:validation:Pattern=`^([A-Za-z0-9._~-]+(/[A-Za-z0-9._~-]+)*)?$`
	// +optional
	BasePath string `json:"basePath,omitempty"`
	// Serves the hostname over HTTPS with a certificate from a Secret.
	// +optional
	TLS *DomainTLS `json:"tls,omitempty"`
}

// DomainTLS is the TLS configuration of a custom domain.
type DomainTLS struct {
	// A kubernetes.io/tls Secret in this namespace.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	SecretName string `json:"secretName"`
	// The minimum TLS version: "1.2" (default) or "1.3".
	// +kubebuilder:validation:Enum="1.2";"1.3"
	// +kubebuilder:default="1.2"
	// +optional
	MinVersion string `json:"minVersion,omitempty"`
	// A Secret whose ca.crt verifies client certificates (mutual TLS); such a
	// hostname is served only over HTTPS with a verified client certificate.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	ClientCASecretName string `json:"clientCASecretName,omitempty"`
}

// StageStatus is the observed state of a Stage.
type StageStatus struct {
	CommonStatus `json:",inline"`
	// The URLs that reach this stage, as the running gateway serves them
	// (no https:// URL without an HTTPS listener).
	// +kubebuilder:validation:MaxItems=32
	// +optional
	InvokeURLs []string `json:"invokeURLs,omitempty"`
	// The stage name in effect: spec.stageName, else metadata.name.
	// +kubebuilder:validation:MaxLength=253
	// +optional
	StageName string `json:"stageName,omitempty"`
}

// Stage deploys an Api under a name.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=turnpike,shortName=tpstage
// +kubebuilder:validation:XValidation:rule="has(self.spec.stageName) || self.metadata.name.matches('^[A-Za-z0-9_-]+$')",message="metadata.name contains '.', which a stage name cannot: set spec.stageName",fieldPath=".spec.stageName",reason=FieldValueRequired
// +kubebuilder:printcolumn:name="Api",type=string,JSONPath=`.spec.apiName`
// +kubebuilder:printcolumn:name="Stage",type=string,JSONPath=`.status.stageName`
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=`.status.invokeURLs[0]`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Stage struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   StageSpec   `json:"spec,omitempty"`
	Status StageStatus `json:"status,omitempty"`
}

// StageList is a list of Stages.
// +kubebuilder:object:root=true
type StageList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Stage `json:"items"`
}
