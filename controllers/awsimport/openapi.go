package awsimport

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
)

// AWS extension names (api-gateway-swagger-extensions).
const (
	extPrefix            = "x-amazon-apigateway-"
	extIntegration       = "x-amazon-apigateway-integration"
	extIntegrations      = "x-amazon-apigateway-integrations"
	extAuthorizer        = "x-amazon-apigateway-authorizer"
	extAuthType          = "x-amazon-apigateway-authtype"
	extAuth              = "x-amazon-apigateway-auth"
	extCORS              = "x-amazon-apigateway-cors"
	extAPIKeySource      = "x-amazon-apigateway-api-key-source" //nolint:gosec // an extension name, not a credential
	extBinaryMediaTypes  = "x-amazon-apigateway-binary-media-types"
	extGatewayResponses  = "x-amazon-apigateway-gateway-responses"
	extRequestValidators = "x-amazon-apigateway-request-validators"
	extRequestValidator  = "x-amazon-apigateway-request-validator"
	extEndpointConfig    = "x-amazon-apigateway-endpoint-configuration"
	extImportExport      = "x-amazon-apigateway-importexport-version"
	// Turnpike's own extensions carry what AWS's cannot express (export
	// writes them, import reads them): a Service target and a non-Lambda
	// authorizer target.
	extTurnpikeService    = "x-turnpike-service"
	extTurnpikeAuthorizer = "x-turnpike-authorizer"
	extTurnpikeAPI        = "x-turnpike-api"
)

// converter turns one OpenAPI document into the objects of one Api.
type converter struct {
	opts     Options
	doc      *openapi3.T
	apiName  string
	protocol v1alpha1.Protocol
	report   *Report
	// root is the whole document as JSON values, for inlining $refs of
	// request body schemas.
	root map[string]any
	// schemes are the security schemes by name.
	schemes map[string]*scheme
	// validators and defaultValidator are the request validators.
	validators       map[string]validatorSpec
	defaultValidator string
	// stageVariables are the stage variables the Routes use.
	stageVariables map[string]bool

	api         v1alpha1.Api
	routes      []v1alpha1.Route
	authorizers []v1alpha1.Authorizer
}

// importOpenAPI converts a loaded document into a Result.
func importOpenAPI(doc *openapi3.T, root map[string]any, opts Options, rep *Report, extras *stageExtras) (*Result, error) {
	c := &converter{opts: opts, doc: doc, root: root, report: rep, stageVariables: map[string]bool{}}
	c.apiName = opts.Name
	if c.apiName == "" {
		title := ""
		if doc.Info != nil {
			title = doc.Info.Title
		}
		c.apiName = dnsLabel(title)
	}
	c.protocol = detectProtocol(doc)
	if err := checkSchemaCycles(root); err != nil {
		return nil, err
	}
	c.convertAPI()
	if err := c.convertSchemes(); err != nil {
		return nil, err
	}
	if err := c.convertValidators(); err != nil {
		return nil, err
	}
	if err := c.convertPaths(); err != nil {
		return nil, err
	}
	res := &Result{Apis: []v1alpha1.Api{c.api}, Routes: c.routes, Authorizers: c.authorizers}
	if extras == nil {
		extras = &stageExtras{}
	}
	st := c.stage(extras.variables)
	st.Spec.Throttle, st.Spec.Cache = extras.throttle, extras.cache
	res.Stages = []v1alpha1.Stage{st}
	return res, nil
}

// detectProtocol: HTTP for documents exported from (or written for) HTTP
// APIs, REST otherwise. AWS marks HTTP API exports with
// x-amazon-apigateway-importexport-version; payloadFormatVersion, JWT
// authorizers and isDefaultRoute exist only in HTTP APIs. Swagger 2.0 is
// always REST (HTTP APIs import OpenAPI 3 only).
func detectProtocol(doc *openapi3.T) v1alpha1.Protocol {
	if _, ok := doc.Extensions[extImportExport]; ok {
		return v1alpha1.ProtocolHTTP
	}
	if doc.Components != nil {
		for _, s := range doc.Components.SecuritySchemes {
			if s == nil || s.Value == nil {
				continue
			}
			if a, ok := s.Value.Extensions[extAuthorizer].(map[string]any); ok && strings.EqualFold(str(a["type"]), "jwt") {
				return v1alpha1.ProtocolHTTP
			}
		}
	}
	for _, po := range operations(doc) {
		if in, ok := po.op.Extensions[extIntegration].(map[string]any); ok {
			if _, ok := in["payloadFormatVersion"]; ok {
				return v1alpha1.ProtocolHTTP
			}
		}
		if b, ok := po.op.Extensions["isDefaultRoute"].(bool); ok && b {
			return v1alpha1.ProtocolHTTP
		}
	}
	return v1alpha1.ProtocolREST
}

// pathOp is one operation of the document.
type pathOp struct {
	path   string
	method string
	item   *openapi3.PathItem
	op     *openapi3.Operation
}

// methodOrder is the order of operations within a path: AWS's methods, then ANY.
var methodOrder = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", anyMethod}

// operations lists the document's operations, paths sorted, methods in
// methodOrder, then any others (TRACE, ...) sorted.
func operations(doc *openapi3.T) []pathOp {
	var out []pathOp
	paths := make([]string, 0, doc.Paths.Len())
	for p := range doc.Paths.Map() {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		item := doc.Paths.Value(p)
		ops := item.Operations()
		methods := make([]string, 0, len(ops))
		for m := range ops {
			methods = append(methods, m)
		}
		slices.SortFunc(methods, func(a, b string) int {
			ia, ib := slices.Index(methodOrder, a), slices.Index(methodOrder, b)
			if ia < 0 {
				ia = len(methodOrder)
			}
			if ib < 0 {
				ib = len(methodOrder)
			}
			if ia != ib {
				return ia - ib
			}
			return strings.Compare(a, b)
		})
		for _, m := range methods {
			out = append(out, pathOp{path: p, method: m, item: item, op: ops[m]})
		}
	}
	return out
}

// str returns v as a string: strings as they are, numbers and booleans in
// their JSON form ("payloadFormatVersion": 1.0 is "1.0"), nil as "".
func str(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	default:
		return fmt.Sprint(x)
	}
}

// unhandledExtensions reports every x-amazon-apigateway-* key of ext that is
// not in handled.
func (c *converter) unhandledExtensions(ext map[string]any, path, method string, handled ...string) {
	keys := make([]string, 0, len(ext))
	for k := range ext {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if strings.HasPrefix(k, extPrefix) && !slices.Contains(handled, k) {
			c.report.add(path, method, k, "%s", unsupportedExtensionReason(k))
		}
	}
}

// unsupportedExtensionReason says why an extension is not carried over.
func unsupportedExtensionReason(k string) string {
	switch k {
	case "x-amazon-apigateway-policy":
		return "resource policies are not supported; restrict callers with an authorizer, API keys or a NetworkPolicy"
	case "x-amazon-apigateway-documentation":
		return "documentation parts are not kept; the OpenAPI document stays your documentation"
	case "x-amazon-apigateway-minimum-compression-size":
		return "response compression is not supported"
	case "x-amazon-apigateway-tag-value":
		return "tags are not kept; use labels"
	case "x-amazon-apigateway-importer-version":
		return "not needed"
	default:
		return "this extension is not supported"
	}
}
