package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// AuthorizerType is JWT, REQUEST (a Lambda-style call-out with the request's
// identity sources) or TOKEN (AWS REST's token authorizer: one header, and
// the event {type, authorizationToken, methodArn}).
// +kubebuilder:validation:Enum=JWT;REQUEST;TOKEN
type AuthorizerType string

// Authorizer types.
const (
	AuthorizerJWT     AuthorizerType = "JWT"
	AuthorizerRequest AuthorizerType = "REQUEST"
	AuthorizerToken   AuthorizerType = "TOKEN"
)

// AuthorizerSpec configures an authorizer of an Api.
// +kubebuilder:validation:XValidation:rule="self.type != 'JWT' || has(self.jwt)",message="jwt is required when type is JWT"
// +kubebuilder:validation:XValidation:rule="self.type == 'JWT' || has(self.request)",message="request is required when type is REQUEST or TOKEN"
// +kubebuilder:validation:XValidation:rule="self.type == 'JWT' || !has(self.jwt)",message="jwt applies only to type JWT"
// +kubebuilder:validation:XValidation:rule="self.type != 'JWT' || !has(self.request)",message="request applies only to types REQUEST and TOKEN"
// +kubebuilder:validation:XValidation:rule="self.type != 'TOKEN' || (has(self.identitySources) && size(self.identitySources) == 1 && self.identitySources[0].startsWith('$request.header.'))",message="a TOKEN authorizer takes its token from exactly one header: identitySources must be one $request.header.NAME"
type AuthorizerSpec struct {
	// apiName is the Api in this namespace the authorizer belongs to.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	ApiName string `json:"apiName"`
	// type: JWT, REQUEST, or TOKEN (AWS REST's token authorizer: the event
	// is {type: TOKEN, authorizationToken, methodArn}).
	Type AuthorizerType `json:"type"`
	// identitySources: $request.header.X, $request.querystring.X, $context.X, $stageVariables.X.
	// +kubebuilder:validation:MaxItems=10
	// +kubebuilder:validation:items:MaxLength=256
	// +kubebuilder:validation:items:Pattern=`^\$(request\.(header|querystring)|context|stageVariables)\.[A-Za-z0-9._-]+$`
	// +optional
	IdentitySources []string `json:"identitySources,omitempty"`
	// jwt configures a JWT authorizer.
	// +optional
	JWT *JWTAuthorizer `json:"jwt,omitempty"`
	// request configures a REQUEST or TOKEN authorizer.
	// +optional
	Request *RequestAuthorizer `json:"request,omitempty"`
}

// JWTAuthorizer validates bearer JWTs against an issuer's keys.
type JWTAuthorizer struct {
	// issuer must equal the token's iss.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.startsWith('https://') || self.startsWith('http://')",message="issuer must be an http:// or https:// URL"
	Issuer string `json:"issuer"`
	// audiences: aud must match one; client_id is used only when aud is absent.
	// +kubebuilder:validation:MaxItems=50
	// +kubebuilder:validation:items:MaxLength=512
	// +optional
	Audiences []string `json:"audiences,omitempty"`
	// jwksUri: default discovered from {issuer}/.well-known/openid-configuration.
	// +kubebuilder:validation:MaxLength=2048
	// +optional
	JWKSURI string `json:"jwksUri,omitempty"`
	// algorithms allowed; "none" and HS* are never accepted.
	// +kubebuilder:validation:MaxItems=9
	// +kubebuilder:validation:items:Enum=RS256;RS384;RS512;PS256;PS384;PS512;ES256;ES384;ES512;EdDSA
	// +optional
	Algorithms []string `json:"algorithms,omitempty"`
}

// RequestAuthorizer is a Lambda-style authorizer: an HTTP call-out.
// +kubebuilder:validation:XValidation:rule="(has(self.service) ? 1 : 0) + (has(self.uri) ? 1 : 0) + (has(self.function) ? 1 : 0) == 1",message="set exactly one of request.service, request.uri and request.function"
type RequestAuthorizer struct {
	// service: the authorizer runs behind a Service of this namespace.
	// +optional
	Service *AuthorizerService `json:"service,omitempty"`
	// function: a Service of this namespace running a Lambda authorizer image
	// (the Runtime Interface Emulator's invocation path); the AWS authorizer
	// event is invoked as on AWS Lambda.
	// +optional
	Function *AuthorizerFunction `json:"function,omitempty"`
	// uri: the authorizer's URL.
	// +kubebuilder:validation:MaxLength=2048
	// +optional
	URI string `json:"uri,omitempty"`
	// payloadFormatVersion: "1.0" or "2.0".
	// +kubebuilder:validation:Enum="1.0";"2.0"
	// +kubebuilder:default="2.0"
	// +optional
	PayloadFormatVersion string `json:"payloadFormatVersion,omitempty"`
	// enableSimpleResponses: {"isAuthorized": bool, "context": {...}}; else an IAM policy.
	// +optional
	EnableSimpleResponses bool `json:"enableSimpleResponses,omitempty"`
	// resultTtlSeconds: answers cached by identity-source values; 0 = off.
	// +kubebuilder:default=300
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=3600
	// +optional
	ResultTTLSeconds *int32 `json:"resultTtlSeconds,omitempty"`
	// timeoutMillis of the call.
	// +kubebuilder:default=10000
	// +kubebuilder:validation:Minimum=50
	// +kubebuilder:validation:Maximum=30000
	// +optional
	TimeoutMillis int32 `json:"timeoutMillis,omitempty"`
}

// AuthorizerService is a Service port and path of a REQUEST authorizer.
type AuthorizerService struct {
	// name of the Service.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Name string `json:"name"`
	// port is the Service port.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port int32 `json:"port"`
	// path the request is sent to.
	// +kubebuilder:validation:MaxLength=1024
	// +kubebuilder:validation:Pattern=`^/`
	// +optional
	Path string `json:"path,omitempty"`
}

// AuthorizerFunction is a Service port running a Lambda authorizer image.
type AuthorizerFunction struct {
	// name of the Service.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	Name string `json:"name"`
	// port is the Service port of the Runtime Interface Emulator (usually 8080).
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port int32 `json:"port"`
}

// AuthorizerStatus is the observed state of an Authorizer.
type AuthorizerStatus struct {
	CommonStatus `json:",inline"`
}

// Authorizer authorizes requests of the Routes that name it.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=turnpike
// +kubebuilder:printcolumn:name="Api",type=string,JSONPath=`.spec.apiName`
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.spec.type`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Authorizer struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   AuthorizerSpec   `json:"spec,omitempty"`
	Status AuthorizerStatus `json:"status,omitempty"`
}

// AuthorizerList is a list of Authorizers.
// +kubebuilder:object:root=true
type AuthorizerList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Authorizer `json:"items"`
}
