package awsimport

import (
	"net/url"
	"regexp"
	"strings"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
)

// REST requestParameters ("integration.request.header.x":
// "method.request.querystring.y") map onto Turnpike's HTTP-API-style
// parameter mapping as follows (docs/migrate-from-aws.md says the same):
//
//	integration.request.header.X      -> overwrite:header.X
//	integration.request.querystring.X -> overwrite:querystring.X
//	integration.request.path.X        -> the URI's {X} is renamed to the
//	    route parameter it maps from, or, when it maps from anything else,
//	    the URI's path becomes an overwrite:path template
//
// and values:
//
//	method.request.{header,querystring,path}.Y -> $request.{header,querystring,path}.Y
//	method.request.multivalue{header,querystring}.Y -> $request.{header,querystring}.Y (values comma-joined)
//	method.request.body[.JSONPATH]     -> $request.body[.JSONPATH]
//	context.Y, stageVariables.Y        -> $context.Y, $stageVariables.Y
//	'static'                           -> static
//
// HTTP API requestParameters ("append:header.x": "$request.querystring.y")
// are Turnpike's own syntax and are copied. What cannot map (a reserved
// header, a context variable Turnpike does not have) is reported.

var (
	reservedHeaderRE = regexp.MustCompile(`^(access-control-.*|apigw-.*|proxy-.*|x-amz-.*|x-amzn-.*|x-forwarded-.*|x-turnpike-.*|authorization|connection|content-encoding|content-length|content-location|forwarded|host|keep-alive|origin|te|trailers?|transfer-encoding|upgrade|via)$`)
	httpMappingKeyRE = regexp.MustCompile(`^(overwrite:path|(append|overwrite|remove):(header|querystring)[.][^ ]+)$`)
	restKeyRE        = regexp.MustCompile(`^integration\.request\.(header|querystring|path)\.(.+)$`)
	contextVarRE     = regexp.MustCompile(`^(requestId|extendedRequestId|apiId|stage|routeKey|httpMethod|domainName|path|protocol|identity\.sourceIp|identity\.userAgent|identity\.clientCert\.subjectDN|identity\.clientCert\.serialNumber|authorizer\.principalId|authorizer\.claims\.[A-Za-z0-9_:.-]+|authorizer\.[A-Za-z0-9_-]+)$`)
	uriVarRE         = regexp.MustCompile(`\{([A-Za-z0-9._-]+)\}`)
)

// requestParameters converts raw["requestParameters"] into in.
func (c *converter) requestParameters(po pathOp, raw map[string]any, in *v1alpha1.Integration) {
	params := asMap(raw["requestParameters"])
	pathVars := map[string]string{}
	for _, k := range sortedKeys(params) {
		v := str(params[k])
		where := extIntegration + ".requestParameters." + k
		if httpMappingKeyRE.MatchString(k) {
			c.setMapping(po, in, where, k, v)
			continue
		}
		m := restKeyRE.FindStringSubmatch(k)
		if m == nil {
			c.report.add(po.path, po.method, where, "not a parameter mapping Turnpike knows")
			continue
		}
		val, ok := restValue(v)
		if !ok {
			c.report.add(po.path, po.method, where, "the value %q cannot be mapped (Turnpike maps request headers, query strings, path parameters, the body, stage variables, static values and these context variables: requestId, stage, httpMethod, path, identity.sourceIp, authorizer...)", v)
			continue
		}
		switch m[1] {
		case "header":
			c.setMapping(po, in, where, "overwrite:header."+m[2], val)
		case "querystring":
			c.setMapping(po, in, where, "overwrite:querystring."+m[2], val)
		case "path":
			pathVars[m[2]] = val
		}
	}
	rp := asMap(raw["responseParameters"])
	for _, k := range sortedKeys(rp) {
		c.responseParameters(po, in, k, asMap(rp[k]))
	}
	c.pathParameters(po, in, pathVars)
}

// setMapping adds one request mapping, unless the CRD would refuse it.
func (c *converter) setMapping(po pathOp, in *v1alpha1.Integration, where, key, val string) {
	if _, name, ok := strings.Cut(key, ":header."); ok {
		if reservedHeaderRE.MatchString(strings.ToLower(name)) {
			c.report.add(po.path, po.method, where, "the header %q is reserved and cannot be mapped", name)
			return
		}
	}
	if len(key) > 256 || len(val) > 1024 {
		c.report.add(po.path, po.method, where, "longer than a mapping may be (256 key, 1024 value)")
		return
	}
	if in.RequestParameters == nil {
		in.RequestParameters = map[string]string{}
	}
	in.RequestParameters[key] = val
	c.noteStageVariables(val)
}

// responseParameters copies one status code's HTTP API response mapping.
func (c *converter) responseParameters(po pathOp, in *v1alpha1.Integration, code string, m map[string]any) {
	if !regexp.MustCompile(`^[1-5][0-9][0-9]$`).MatchString(code) {
		c.report.add(po.path, po.method, extIntegration+".responseParameters."+code, "not a status code")
		return
	}
	out := v1alpha1.ResponseMapping{}
	for _, k := range sortedKeys(m) {
		_, name, isHeader := strings.Cut(k, "header.")
		if isHeader && reservedHeaderRE.MatchString(strings.ToLower(name)) {
			c.report.add(po.path, po.method, extIntegration+".responseParameters."+code+"."+k, "the header %q is reserved and cannot be mapped", name)
			continue
		}
		out[k] = str(m[k])
	}
	if len(out) == 0 {
		return
	}
	if in.ResponseParameters == nil {
		in.ResponseParameters = map[string]v1alpha1.ResponseMapping{}
	}
	in.ResponseParameters[code] = out
}

// restValue converts a REST mapping value into Turnpike's syntax, braced so
// it can sit inside a path template.
func restValue(v string) (string, bool) {
	if len(v) >= 2 && strings.HasPrefix(v, "'") && strings.HasSuffix(v, "'") {
		return v[1 : len(v)-1], true
	}
	for _, p := range [][2]string{
		{"method.request.header.", "request.header."},
		{"method.request.querystring.", "request.querystring."},
		{"method.request.path.", "request.path."},
		{"method.request.multivalueheader.", "request.header."},
		{"method.request.multivaluequerystring.", "request.querystring."},
		{"stageVariables.", "stageVariables."},
	} {
		if rest, ok := strings.CutPrefix(v, p[0]); ok && rest != "" {
			return "${" + p[1] + rest + "}", true
		}
	}
	if v == "method.request.body" {
		return "${request.body}", true
	}
	if rest, ok := strings.CutPrefix(v, "method.request.body."); ok {
		rest = strings.TrimPrefix(strings.TrimPrefix(rest, "$"), ".")
		return "${request.body." + rest + "}", rest != ""
	}
	if rest, ok := strings.CutPrefix(v, "context."); ok && contextVarRE.MatchString(rest) {
		return "${context." + rest + "}", true
	}
	return "", false
}

// pathParameters applies integration.request.path mappings to the URI of
// an HTTP_PROXY integration: {X} mapped from route parameter Y becomes {Y};
// any other source turns the URI's path into an overwrite:path template.
func (c *converter) pathParameters(po pathOp, in *v1alpha1.Integration, vars map[string]string) {
	if in.Type != v1alpha1.IntegrationTypeHTTPProxy || len(vars) == 0 {
		return
	}
	prefix, path, query, ok := splitURI(in.URI)
	if !ok {
		c.report.add(po.path, po.method, extIntegration+".requestParameters", "path parameters of the URI %q cannot be mapped", in.URI)
		return
	}
	needTemplate := false
	for _, name := range sortedKeys(vars) {
		if _, ok := strings.CutPrefix(vars[name], "${request.path."); !ok {
			needTemplate = true
		}
	}
	rename := func(tpl bool) string {
		return uriVarRE.ReplaceAllStringFunc(path, func(m string) string {
			name := m[1 : len(m)-1]
			v, ok := vars[name]
			if !ok {
				if tpl {
					return "${request.path." + name + "}"
				}
				return m
			}
			if tpl {
				return v
			}
			return "{" + strings.TrimSuffix(strings.TrimPrefix(v, "${request.path."), "}") + "}"
		})
	}
	if query != "" {
		query = "?" + query
	}
	if !needTemplate {
		in.URI = prefix + rename(false) + query
		return
	}
	c.setMapping(po, in, extIntegration+".requestParameters", "overwrite:path", rename(true))
	in.URI = prefix + query
}

// splitURI splits an integration URI template (which may hold {param} and
// ${stageVariables.x}, so it is not a URL yet) into scheme://authority, path
// and query.
func splitURI(uri string) (prefix, path, query string, ok bool) {
	i := strings.Index(uri, "://")
	if i < 0 {
		return "", "", "", false
	}
	rest := uri[i+3:]
	j := strings.IndexAny(rest, "/?")
	if j < 0 {
		return uri, "", "", true
	}
	prefix, rest = uri[:i+3+j], rest[j:]
	path, query, _ = strings.Cut(rest, "?")
	return prefix, path, query, true
}

// useService turns an HTTP_PROXY integration into SERVICE when the URI's
// host is in --service-map (or the operation carries x-turnpike-service);
// the URI's path, if it is not the route's own, becomes overwrite:path.
func (c *converter) useService(po pathOp, in *v1alpha1.Integration, routePath string) {
	t, ok := c.turnpikeService(po)
	prefix, path, query, split := splitURI(in.URI)
	if !ok {
		host := prefix[strings.Index(prefix, "://")+3:]
		if !split {
			return
		}
		if t, ok = c.opts.ServiceMap[host]; !ok {
			h, _, _ := strings.Cut(host, ":")
			t, ok = c.opts.ServiceMap[h]
		}
		if !ok {
			return
		}
	}
	in.Type = v1alpha1.IntegrationTypeService
	in.Service = &v1alpha1.IntegrationService{Name: t.Name, Port: t.Port}
	in.URI = ""
	if !split {
		return
	}
	if _, has := in.RequestParameters["overwrite:path"]; !has && path != "" && !samePath(path, routePath) {
		tpl := uriVarRE.ReplaceAllString(path, "$${request.path.$1}")
		c.setMapping(po, in, extIntegration+".uri", "overwrite:path", tpl)
	}
	q, _ := url.ParseQuery(query)
	for _, k := range sortedKeys(q) {
		c.setMapping(po, in, extIntegration+".uri", "append:querystring."+k, strings.Join(q[k], ","))
	}
}

// samePath says whether a URI path template equals a route path, the
// greedy {name+} of the route matching {name} of the URI.
func samePath(uriPath, routePath string) bool {
	return uriPath == strings.ReplaceAll(routePath, "+}", "}") || (uriPath == "/" && routePath == "/")
}

// turnpikeService reads the operation's x-turnpike-service {name, port}.
func (c *converter) turnpikeService(po pathOp) (ServiceTarget, bool) {
	m := asMap(po.op.Extensions[extTurnpikeService])
	name := str(m["name"])
	port, _ := m["port"].(float64)
	if name == "" || port < 1 || port > 65535 {
		return ServiceTarget{}, false
	}
	return ServiceTarget{Name: name, Port: int32(port)}, true
}
