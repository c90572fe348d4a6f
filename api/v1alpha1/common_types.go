package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// Throttle is a token bucket: rateLimit tokens per second refill a bucket of
// burstLimit tokens; each request takes one. Integers only, as in the whole API.
type Throttle struct {
	// The steady-state rate in requests per second.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000000
	RateLimit int32 `json:"rateLimit"`
	// The bucket size: how many requests may arrive at once.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000000
	BurstLimit int32 `json:"burstLimit"`
}

// ServiceReference names a Service port in the object's own namespace.
type ServiceReference struct {
	// The Service's name.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Name string `json:"name"`
	// The Service port (spec.ports[].port); endpoints are matched by the
	// port's name, so the Service's targetPort may differ.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port int32 `json:"port"`
}

// CommonStatus is embedded in every kind's status.
type CommonStatus struct {
	// Ready summarises; Accepted, ResolvedRefs and Programmed explain;
	// Reconciling and Stalled follow the kstatus conventions read by Argo CD
	// and Flux (Reconciling's lastTransitionTime is when the wait for the
	// current generation began; after a grace period of 5 minutes the
	// gateway reports Stalled instead).
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=16
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// The metadata.generation the conditions describe.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
}

// Condition types set on every kind.
const (
	ConditionReady        = "Ready"
	ConditionAccepted     = "Accepted"
	ConditionResolvedRefs = "ResolvedRefs"
	ConditionProgrammed   = "Programmed"
	ConditionReconciling  = "Reconciling"
	ConditionStalled      = "Stalled"
)

// Condition reasons. CamelCase constants; every one appears in a golden file.
const (
	ReasonAccepted          = "Accepted"
	ReasonResolvedRefs      = "ResolvedRefs"
	ReasonProgrammed        = "Programmed"
	ReasonReady             = "Ready"
	ReasonInvalid           = "Invalid"
	ReasonInvalidRouteKey   = "InvalidRouteKey"
	ReasonRouteConflict     = "RouteConflict"
	ReasonStageConflict     = "StageConflict"
	ReasonDomainConflict    = "DomainConflict"
	ReasonApiKeyConflict    = "ApiKeyConflict"
	ReasonApiNotFound       = "ApiNotFound"
	ReasonServiceNotFound   = "ServiceNotFound"
	ReasonPortNotFound      = "ServicePortNotFound"
	ReasonAuthorizerMissing = "AuthorizerNotFound"
	ReasonUnresolvedRefs    = "UnresolvedRefs"
	ReasonNotImplemented    = "NotImplemented"
	ReasonNotServed         = "NotServed"
	ReasonReconciling       = "Reconciling"
	ReasonWaiting           = "WaitingForDependencies"
	ReasonStable            = "Stable"
)

// Condition reasons of the translator (added with controllers/translate).
const (
	// ReasonApiNotServed: the named Api exists but is not served (e.g. NotImplemented).
	ReasonApiNotServed = "ApiNotServed"
	// ReasonStageVariableNotFound: an integration uses a stage variable the stage does not define.
	ReasonStageVariableNotFound = "StageVariableNotFound"
	// ReasonInvalidIntegration: the integration is unusable after stage variable substitution.
	ReasonInvalidIntegration = "InvalidIntegration"
	// ReasonInvalidApiKey: a key Secret a UsagePlan selects is malformed and not served.
	ReasonInvalidApiKey = "InvalidApiKey"
	// ReasonInvalidSchema: a Route's requestValidation.bodySchema does not compile.
	ReasonInvalidSchema = "InvalidSchema"
)

// Condition reasons of custom domains (Stage spec.domains).
const (
	// ReasonSecretNotFound: a TLS or client CA Secret of a custom domain does not exist (yet).
	ReasonSecretNotFound = "SecretNotFound"
	// ReasonInvalidCredentials: a credential Secret a WEBSOCKET Api's
	// managementApi names lacks a valid accessKeyId or secretAccessKey.
	ReasonInvalidCredentials = "InvalidCredentials"
	// ReasonInvalidCertificate: a custom domain's Secret holds no usable certificate
	// (wrong type, malformed, expired, not for the hostname, or an unreadable ca.crt).
	ReasonInvalidCertificate = "InvalidCertificate"
)

// Condition reasons of what the running replicas serve (issue 19).
const (
	// ReasonNoHTTPSListener: a custom domain has tls, but the gateway runs
	// without an HTTPS listener (--https-addr is empty).
	ReasonNoHTTPSListener = "NoHTTPSListener"
	// ReasonExternalNameService: a SERVICE integration names a Service of type
	// ExternalName, which has no endpoints; HTTP_PROXY reaches such names.
	ReasonExternalNameService = "ExternalNameService"
	// ReasonEgressDenied: an HTTP_PROXY uri names an address the gateway may
	// not dial (--deny-egress-cidrs), so requests answer 502.
	ReasonEgressDenied = "EgressDenied"
	// ReasonNoApiKeys: a UsagePlan's apiKeySelector matches no API key, so no
	// request is admitted under it (Ready stays True).
	ReasonNoApiKeys = "NoApiKeys"
	// ReasonGracePeriodExpired: Reconciling is False because the object waited
	// longer than the grace period; Stalled says for what.
	ReasonGracePeriodExpired = "GracePeriodExpired"
)
