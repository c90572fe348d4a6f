// Package gatewayresp is an Api's gateway responses (AWS "gateway
// responses", Api.spec.gatewayResponses): for every error the gateway
// answers itself, the AWS response type it is, and how the Api customised
// the answers of that type (status, headers, body templates), with AWS's
// DEFAULT_4XX / DEFAULT_5XX fallbacks.
//
// Invariants:
//   - Every gateway error of the dataplane names its Type; nothing else
//     decides which customisation applies.
//   - Responses are compiled once (by the translator) and immutable, so one
//     value in the routing table serves every request.
//   - The package is pure data and functions: no I/O, no goroutines, no
//     net/http (the routing table links it).
package gatewayresp

// Type is an AWS gateway response type, the key of gatewayResponses.
type Type string

// The AWS gateway response types (DG:supported-gateway-response-types).
const (
	Default4XX                   Type = "DEFAULT_4XX"
	Default5XX                   Type = "DEFAULT_5XX"
	AccessDenied                 Type = "ACCESS_DENIED"
	APIConfigurationError        Type = "API_CONFIGURATION_ERROR"
	AuthorizerConfigurationError Type = "AUTHORIZER_CONFIGURATION_ERROR"
	AuthorizerFailure            Type = "AUTHORIZER_FAILURE"
	BadRequestParameters         Type = "BAD_REQUEST_PARAMETERS"
	BadRequestBody               Type = "BAD_REQUEST_BODY"
	ExpiredToken                 Type = "EXPIRED_TOKEN"
	IntegrationFailure           Type = "INTEGRATION_FAILURE"
	IntegrationTimeout           Type = "INTEGRATION_TIMEOUT"
	InvalidAPIKey                Type = "INVALID_API_KEY" //nolint:gosec // G101: a response type name, not a credential
	InvalidSignature             Type = "INVALID_SIGNATURE"
	MissingAuthenticationToken   Type = "MISSING_AUTHENTICATION_TOKEN"
	QuotaExceeded                Type = "QUOTA_EXCEEDED"
	RequestTooLarge              Type = "REQUEST_TOO_LARGE"
	ResourceNotFound             Type = "RESOURCE_NOT_FOUND"
	Throttled                    Type = "THROTTLED"
	Unauthorized                 Type = "UNAUTHORIZED"
	UnsupportedMediaType         Type = "UNSUPPORTED_MEDIA_TYPE"
	WAFFiltered                  Type = "WAF_FILTERED"
)

// amznErrorTypes are the x-amzn-ErrorType values REST APIs send with each
// type. DEFAULT_4XX and DEFAULT_5XX depend on the status (amznDefault).
var amznErrorTypes = map[Type]string{
	AccessDenied:                 "AccessDeniedException",
	APIConfigurationError:        "InternalServerErrorException",
	AuthorizerConfigurationError: "AuthorizerConfigurationException",
	AuthorizerFailure:            "AuthorizerFailureException",
	BadRequestParameters:         "BadRequestException",
	BadRequestBody:               "BadRequestException",
	ExpiredToken:                 "ExpiredTokenException",
	IntegrationFailure:           "InternalServerErrorException",
	IntegrationTimeout:           "InternalServerErrorException",
	InvalidAPIKey:                "ForbiddenException",
	InvalidSignature:             "InvalidSignatureException",
	MissingAuthenticationToken:   "MissingAuthenticationTokenException",
	QuotaExceeded:                "LimitExceededException",
	RequestTooLarge:              "BadRequestException",
	ResourceNotFound:             "NotFoundException",
	Throttled:                    "TooManyRequestsException",
	Unauthorized:                 "UnauthorizedException",
	UnsupportedMediaType:         "UnsupportedMediaTypeException",
	WAFFiltered:                  "ForbiddenException",
}

// Known reports whether t is one of AWS's gateway response types.
func Known(t Type) bool {
	_, ok := amznErrorTypes[t]
	return ok || t == Default4XX || t == Default5XX
}

// AmznErrorType is the x-amzn-ErrorType header a REST API sends with an
// answer of type t whose built-in status is status.
func (t Type) AmznErrorType(status int) string {
	if v, ok := amznErrorTypes[t]; ok {
		return v
	}
	switch {
	case status == 404:
		return "NotFoundException"
	case status == 403:
		return "ForbiddenException"
	case status == 503:
		return "ServiceUnavailableException"
	case status >= 500:
		return "InternalServerErrorException"
	}
	return "BadRequestException"
}

// fallback is the DEFAULT_* type an answer of built-in status falls back to.
func fallback(status int) Type {
	if status >= 500 {
		return Default5XX
	}
	return Default4XX
}
