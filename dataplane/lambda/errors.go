package lambda

import (
	"fmt"
	"strconv"
)

// ErrorKind classifies an answer that cannot become an HTTP response.
type ErrorKind uint8

// Error kinds.
const (
	// FunctionError: the function failed. Lambda (and the Runtime Interface
	// Emulator, with HTTP 200) answer {"errorMessage", "errorType"}; an
	// answer object with errorMessage and without statusCode is one (an
	// HTTP API answers {"errorMessage": ...} with 500 even from a function
	// that returned it: LocalStack's AWS-validated test_aws_proxy_response_
	// payload_format_validation_v2).
	FunctionError ErrorKind = iota + 1
	// ResponseTooLarge: the answer exceeds MaxPayloadBytes.
	ResponseTooLarge
	// MalformedResponse: the answer is not a valid proxy response for the
	// payload format and Api type.
	MalformedResponse
)

// String names the kind for logs and metrics labels.
func (k ErrorKind) String() string {
	switch k {
	case FunctionError:
		return "FunctionError"
	case ResponseTooLarge:
		return "ResponseTooLarge"
	case MalformedResponse:
		return "MalformedResponse"
	}
	return "ErrorKind(" + strconv.Itoa(int(k)) + ")"
}

// Error is a function answer the dataplane must not pass on. The dataplane
// renders it (GatewayResponse gives AWS's status and body), logs Cause as
// $context.integrationErrorMessage and Hint under errorHints.
type Error struct {
	Kind ErrorKind
	// Cause is a short sentence for the access log, in AWS's words where
	// AWS has them ("Malformed Lambda proxy response: ...", "Lambda
	// execution failed with status 200 due to customer function error:
	// ...").
	Cause string
	// Hint says what to change.
	Hint string
	// ErrorType is a function error's errorType ("Runtime.ExitError").
	ErrorType string
}

func (e *Error) Error() string { return e.Cause }

// GatewayStatus is the status and the message of the {"message": ...}
// body AWS answers the client with for e, whatever its kind (reference §6,
// DG:http-api-troubleshooting-lambda): a REST or WebSocket Api 502
// "Internal server error", an HTTP API 500 "Internal Server Error".
func (e *Error) GatewayStatus(api APIType) (status int, message string) {
	if api == HTTP {
		return 500, "Internal Server Error"
	}
	return 502, "Internal server error"
}

const (
	hintMalformed = "return a proxy response object {statusCode, headers, body (a string), isBase64Encoded} of the integration's payload format; docs/lambda.md lists what each Api type accepts"
	hintTooLarge  = "Lambda limits a synchronous answer to 6 MB: return less, or a link to the content"
)

func malformed(format string, args ...any) error {
	return &Error{
		Kind:  MalformedResponse,
		Cause: "Malformed Lambda proxy response: " + fmt.Sprintf(format, args...),
		Hint:  hintMalformed,
	}
}

func tooLarge(n int) error {
	return &Error{
		Kind: ResponseTooLarge,
		Cause: "Response payload size (" + strconv.Itoa(n) + " bytes) exceeded maximum allowed payload size (" +
			strconv.Itoa(MaxPayloadBytes) + " bytes).",
		Hint: hintTooLarge,
	}
}
