package dataplane

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/turnpike-io/turnpike/dataplane/gatewayresp"
	"github.com/turnpike-io/turnpike/dataplane/validate"
)

// Messages of request validation (api.md, Errors; AWS's wording).
const (
	msgInvalidBody          = "Invalid request body"
	msgUnsupportedMediaType = "Unsupported Media Type"
)

// validateRequest is the request validation step (Route.requestValidation,
// dataplane/validate), after authorization and the API key and before the
// cache and the integration, as on AWS:
//   - required parameters first: every missing or blank one is listed in
//     AWS's order, 400 "Missing required request parameters: [a, b]"
//     (BAD_REQUEST_PARAMETERS);
//   - then the body against the schema: a non-empty body whose Content-Type
//     is not JSON is 415 (UNSUPPORTED_MEDIA_TYPE, AWS's passthrough NEVER);
//     a body that is not JSON or breaks the schema is 400 "Invalid request
//     body" (BAD_REQUEST_BODY) with the first violation in the hint. The
//     body is read once, bounded by the body limit, and replayed.
func (x *exchange) validateRequest() bool {
	v := x.route.Validation
	if v == nil {
		return true
	}
	if len(v.Required) > 0 {
		q, _ := url.ParseQuery(x.r.URL.RawQuery) // a bad pair is skipped, as the backend's parser would
		req := validate.Request{Header: x.r.Header, Query: q, Path: x.route.Params(x.segs)}
		if missing := validate.MissingParameters(v.Required, &req); len(missing) > 0 {
			x.fail(gatewayresp.BadRequestParameters, http.StatusBadRequest, validate.MissingMessage(missing),
				"the request lacks or leaves blank: "+strings.Join(missing, ", "))
			return false
		}
	}
	if v.Body == nil {
		return true
	}
	body, ok := x.bufferBody("read for request validation")
	if !ok {
		return false
	}
	if ct := x.r.Header.Get("Content-Type"); len(body) > 0 && !validate.IsJSON(ct) {
		x.fail(gatewayresp.UnsupportedMediaType, http.StatusUnsupportedMediaType, msgUnsupportedMediaType,
			"the route validates JSON bodies and the request's Content-Type is "+ct)
		return false
	}
	doc, err := validate.DecodeBody(body)
	if err == nil {
		err = v.Body.Validate(doc)
	} else {
		err = &bodyNotJSON{err}
	}
	if err != nil {
		x.fail(gatewayresp.BadRequestBody, http.StatusBadRequest, msgInvalidBody, "the request body does not match the route's bodySchema: "+err.Error())
		return false
	}
	return true
}

// bodyNotJSON says that the body did not parse as JSON.
type bodyNotJSON struct{ err error }

func (e *bodyNotJSON) Error() string { return "it is not JSON (" + e.err.Error() + ")" }
