package awsimport

import (
	"encoding/json"
	"fmt"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
)

// Import converts an AWS API definition (OpenAPI 3.0/3.1 or Swagger 2.0
// with x-amazon-apigateway-* extensions, or a SAM or CloudFormation
// template; JSON or YAML) into Turnpike objects and a report.
func Import(data []byte, opts Options) (*Result, error) {
	stageSet := opts.Stage != ""
	if err := opts.normalise(); err != nil {
		return nil, err
	}
	js, top, err := toJSON(data)
	if err != nil {
		return nil, err
	}
	kind, err := detect(top)
	if err != nil {
		return nil, err
	}
	var res *Result
	if kind == kindTemplate {
		res, err = importTemplate(data, opts, stageSet)
	} else {
		res, err = importDocument(js, kind, opts, &Report{}, nil)
	}
	if err != nil {
		return nil, err
	}
	noteAPIKeys(res)
	return res, nil
}

// noteAPIKeys notes the Apis whose Routes need API keys but whose stage no
// imported UsagePlan covers: exports carry no plans or keys.
func noteAPIKeys(res *Result) {
	covered := map[string]bool{}
	for _, up := range res.UsagePlans {
		for _, s := range up.Spec.ApiStages {
			covered[s.ApiName] = true
		}
	}
	noted := map[string]bool{}
	for _, r := range res.Routes {
		api := r.Spec.ApiName
		if r.Spec.ApiKeyRequired && !covered[api] && !noted[api] {
			noted[api] = true
			res.Report.note("Routes of Api %q require an API key, and no usage plan came with the source: create a UsagePlan for its stage and API key Secrets (docs/migrate-from-aws.md#api-keys), else they answer 403", api)
		}
	}
}

// stageExtras are Stage settings a template gives beside the document.
type stageExtras struct {
	variables map[string]string
	throttle  *v1alpha1.Throttle
	cache     *v1alpha1.StageCache
}

// importDocument imports one OpenAPI document given as JSON.
func importDocument(js []byte, kind sourceKind, opts Options, rep *Report, extras *stageExtras) (*Result, error) {
	doc, err := loadOpenAPI(js, kind)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("re-encoding the document: %w", err)
	}
	var root map[string]any
	if err := json.Unmarshal(b, &root); err != nil {
		return nil, err
	}
	res, err := importOpenAPI(doc, root, opts, rep, extras)
	if err != nil {
		return nil, err
	}
	res.Report = *rep
	return res, nil
}
