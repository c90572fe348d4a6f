package translate

import (
	"github.com/turnpike-io/turnpike/api/v1alpha1"
	"github.com/turnpike-io/turnpike/dataplane/mapping"
)

// routeMaps are a Route's compiled mappings, shared by all its stages.
type routeMaps struct {
	request  *mapping.Request
	response *mapping.Response
}

// routeMappings compiles the Route's requestParameters and
// responseParameters once, for every stage it is served in (values read
// $stageVariables at request time, so one compiled mapping serves all
// stages and the canary). An expression the schema cannot catch (an unknown
// $context variable, a JSONPath with a filter, a reserved header in a
// hand-written object that skipped the schema) makes the Route not Accepted:
// serving it without the mapping would send backends requests they do not
// expect, and only the Route's author can fix it.
func routeMappings(r *v1alpha1.Route) (*mapping.Request, *mapping.Response, *issue) {
	in := &r.Spec.Integration
	req, err := mapping.CompileRequest(in.RequestParameters)
	if err != nil {
		return nil, nil, invalidMapping(err)
	}
	resp, err := mapping.CompileResponse(in.ResponseParameters)
	if err != nil {
		return nil, nil, invalidMapping(err)
	}
	return req, resp, nil
}

func invalidMapping(err error) *issue {
	return &issue{
		reason:  v1alpha1.ReasonInvalid,
		message: "spec.integration." + err.Error() + "; fix the mapping (the Route is not served until then)",
		stalled: true,
	}
}
