// Package lambda is the AWS Lambda event codec the dataplane shares between
// the REQUEST authorizer and the FUNCTION integration: it writes the events
// API Gateway sends to Lambda (proxy payload formats 1.0 and 2.0, REQUEST
// and TOKEN authorizer events, WebSocket events) and reads the proxy
// responses functions answer with.
//
// Invariants:
//   - Events are field for field what AWS sends (golden tests against
//     aws-lambda-go's sample events): 2.0 header names lowercased, repeated
//     headers and query keys joined with ",", Cookie headers in cookies,
//     keys AWS leaves out when empty left out; 1.0 headers and query keys
//     with their last value and multiValue* with all, empty maps and body
//     null; times in AWS's layouts.
//   - Encoding reads a Request of plain values and never modifies it. It
//     builds no maps and reflects on nothing (except Authorizer values of
//     unusual Go types): JSON is appended to the caller's buffer, working
//     memory is pooled, so a proxy event costs no allocation.
//   - Decoding never panics and accepts exactly what the Api type accepts:
//     an answer is a *Response, or an *Error classified as FunctionError,
//     ResponseTooLarge or MalformedResponse with a cause for the access log
//     and a hint. Response headers are valid HTTP fields (no CR, LF, NUL),
//     so an answer cannot split the response.
//   - The package decides nothing about HTTP: the dataplane renders errors
//     (Error.GatewayStatus), writes headers and bodies, and chooses the
//     binary rules with IsTextMediaType / HTTPBodyIsBinary (HTTP APIs) or
//     MatchesBinaryMediaTypes (REST binaryMediaTypes).
//
// Turnpike has no AWS account or API ids: the dataplane passes stable
// stand-ins (docs/lambda.md): accountId is the Api's namespace, apiId the
// Api's name, resourceId the Route's name.
package lambda
