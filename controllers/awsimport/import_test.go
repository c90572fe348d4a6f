package awsimport

import (
	"strings"
	"testing"
)

// fixtureCase is one AWS sample with the flags it is imported with.
type fixtureCase struct {
	file string
	opts Options
}

var fixtureCases = []fixtureCase{
	{file: "http-petstore.json", opts: Options{Namespace: "shop", ServiceMap: ServiceMap{"petstore.execute-api.us-west-1.amazonaws.com": {Name: "petstore", Port: 80}}}},
	{file: "request-validation.json", opts: Options{Namespace: "shop"}},
	{file: "http-api-parameter-mapping.yaml", opts: Options{Namespace: "shop"}},
	{file: "http-with-cors.yaml", opts: Options{Namespace: "shop", ServiceMap: ServiceMap{"MyLambdaFunction": {Name: "hello", Port: 8080}}}},
	{file: "lambda-non-proxy.json", opts: Options{Namespace: "shop"}},
	{file: "own/rest-features-sam.yaml", opts: Options{Namespace: "shop"}},
	{file: "sam/api_gateway_responses.yaml", opts: Options{Namespace: "shop"}},
	{file: "sam/http_api_cors.yaml", opts: Options{Namespace: "shop"}},
	{file: "sam/api_request_model.yaml", opts: Options{Namespace: "shop"}},
	{file: "sam/api_lambda_token_auth.yaml", opts: Options{Namespace: "shop", ServiceMap: ServiceMap{"MyAuthFunction": {Name: "authz", Port: 9000}}}},
}

// Every AWS sample imports; every object passes the CRD schema and CEL
// rules; the objects and the report match their golden files (so the report
// lists exactly the items not carried over).
func TestAWSSamplesImportToValidObjectsAndExactReports(t *testing.T) {
	for _, fc := range fixtureCases {
		t.Run(fc.file, func(t *testing.T) {
			res := mustImport(t, fc.file, fc.opts)
			validateObjects(t, res)
			base := goldenBase(fc.file)
			golden(t, base+".objects.yaml", yamlOf(t, res))
			golden(t, base+".report.txt", reportOf(t, res))
		})
	}
}

// Importing the same input twice gives the same bytes.
func TestImportIsDeterministic(t *testing.T) {
	for _, fc := range fixtureCases {
		a := yamlOf(t, mustImport(t, fc.file, fc.opts))
		for range 5 {
			if b := yamlOf(t, mustImport(t, fc.file, fc.opts)); string(a) != string(b) {
				t.Fatalf("%s: two imports differ", fc.file)
			}
		}
	}
}

// goldenBase is the golden file prefix of a fixture: its name without
// directory and extension.
func goldenBase(file string) string {
	file = file[strings.LastIndex(file, "/")+1:]
	return strings.TrimSuffix(strings.TrimSuffix(file, ".json"), ".yaml")
}
