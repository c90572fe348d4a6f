package awsimport

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
)

var (
	literalSegRE = regexp.MustCompile(`^[A-Za-z0-9._~-]+$`)
	varSegRE     = regexp.MustCompile(`^\{([A-Za-z_][A-Za-z0-9_]*)(\+?)\}$`)
	awsVarSegRE  = regexp.MustCompile(`^\{[^{}/]+\}$`)
	routeMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", anyMethod}
)

// convertPaths turns every operation into a Route.
func (c *converter) convertPaths() error {
	prefix := c.basePrefix()
	seen := map[string]string{}
	names := map[string]bool{}
	var optionsCORS *v1alpha1.CORS
	for _, path := range sortedKeys(c.doc.Paths.Map()) {
		c.unhandledExtensions(c.doc.Paths.Value(path).Extensions, path, "")
	}
	for _, po := range operations(c.doc) {
		routePath, key, ok, err := c.routeKey(po, prefix)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		norm := varSegRE.ReplaceAllString(key, "{}")
		norm = regexp.MustCompile(`\{[A-Za-z_][A-Za-z0-9_]*\}`).ReplaceAllString(norm, "{}")
		if prev, dup := seen[norm]; dup {
			return fmt.Errorf("duplicate operation: %s %s and %s are the same route (%s); AWS refuses this too", po.method, po.path, prev, key)
		}
		seen[norm] = po.method + " " + po.path
		spec, err := c.integration(po, routePath)
		if err != nil {
			return err
		}
		if spec.skip {
			continue
		}
		if po.method == "OPTIONS" && spec.in.Type == v1alpha1.IntegrationTypeMock {
			if cors := restCORS(spec.in.Mock); cors != nil {
				optionsCORS = mergeCORS(optionsCORS, cors)
				c.report.note("OPTIONS %s: the CORS preflight mock became the Api's spec.cors (the gateway answers preflights itself)", po.path)
				continue
			}
		}
		r, ok, err := c.route(po, key, spec.in)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		r.Name = uniqueName(names, routeName(c.apiName, key))
		c.routes = append(c.routes, r)
	}
	if optionsCORS != nil && c.api.Spec.CORS == nil {
		c.api.Spec.CORS = c.checkCORS(optionsCORS, "OPTIONS mock integration")
	}
	return nil
}

// route builds the Route of one operation; ok false: not created (reported).
func (c *converter) route(po pathOp, key string, in v1alpha1.Integration) (v1alpha1.Route, bool, error) {
	r := v1alpha1.Route{TypeMeta: typeMeta("Route"), ObjectMeta: objectMeta("", c.opts.Namespace)}
	r.Spec.ApiName = c.apiName
	r.Spec.RouteKey = key
	r.Spec.Integration = in
	if !c.security(&r, po) {
		return r, false, nil
	}
	rv, err := c.requestValidation(po)
	if err != nil {
		return r, false, err
	}
	r.Spec.RequestValidation = rv
	if raw, _ := c.integrationObject(pathOp{path: po.path, method: po.method, op: po.op}); raw != nil {
		r.Spec.Cache = cacheKeys(raw["cacheKeyParameters"])
	}
	c.unhandledExtensions(po.op.Extensions, po.path, po.method, extIntegration, extRequestValidator, extAuth)
	return r, true, nil
}

// cacheKeys converts cacheKeyParameters (method.request.querystring.page)
// into Route.cache.keyParameters; caching itself is a stage setting that an
// OpenAPI export does not carry, so enabled stays false.
func cacheKeys(v any) *v1alpha1.RouteCache {
	var keys []string
	for _, k := range strings1(v) {
		for _, p := range []string{"method.request.querystring.", "method.request.header.", "method.request.path."} {
			if rest, ok := strings.CutPrefix(k, p); ok {
				keys = append(keys, strings.TrimPrefix(strings.TrimPrefix(p, "method.request."), "")+rest)
			}
		}
	}
	if len(keys) == 0 {
		return nil
	}
	if len(keys) > 16 {
		keys = keys[:16]
	}
	return &v1alpha1.RouteCache{KeyParameters: keys}
}

// basePrefix is the path prefix that --basepath asks for.
func (c *converter) basePrefix() string {
	bp := basePathOf(c.doc)
	switch c.opts.BasePath {
	case BasePathPrepend:
		return bp
	case BasePathSplit:
		if i := strings.Index(strings.TrimPrefix(bp, "/"), "/"); i >= 0 {
			return strings.TrimPrefix(bp, "/")[i:]
		}
		return ""
	}
	return ""
}

// routeKey builds the route key of an operation. A path AWS itself rejects
// is an error; a method or parameter name Turnpike cannot route is a report
// item (ok false).
func (c *converter) routeKey(po pathOp, prefix string) (path, key string, ok bool, err error) {
	if b, _ := po.op.Extensions["isDefaultRoute"].(bool); (b || po.path == "/$default") && po.method == anyMethod {
		return "/", v1alpha1.DefaultRouteKey, true, nil
	}
	if err := checkAWSPath(po.path); err != nil {
		return "", "", false, fmt.Errorf("paths.%s: %w", po.path, err)
	}
	path = strings.TrimRight(prefix, "/") + po.path
	if path != "/" {
		path = strings.TrimRight(path, "/")
	}
	for _, seg := range strings.Split(strings.TrimPrefix(path, "/"), "/") {
		if seg == "" || literalSegRE.MatchString(seg) && seg != "." && seg != ".." || varSegRE.MatchString(seg) {
			continue
		}
		c.report.add(po.path, po.method, "paths", "the path segment %q cannot be routed (literals are letters, digits, '.', '_', '~', '-'; variables {name} or {name+} with letters, digits, '_'); the route is not created", seg)
		return "", "", false, nil
	}
	method := po.method
	found := false
	for _, m := range routeMethods {
		found = found || m == method
	}
	if !found {
		c.report.add(po.path, po.method, "paths", "the method %s cannot be routed; the route is not created", method)
		return "", "", false, nil
	}
	return path, method + " " + path, true, nil
}

// checkAWSPath refuses what AWS's importer refuses: a path that does not
// start with "/", an empty segment, a "." or ".." segment, unbalanced braces,
// or a greedy variable that is not the last segment.
func checkAWSPath(p string) error {
	if !strings.HasPrefix(p, "/") {
		return fmt.Errorf("a path must start with \"/\"; AWS rejects %q", p)
	}
	if p == "/" {
		return nil
	}
	segs := strings.Split(p[1:], "/")
	seen := map[string]bool{}
	for i, seg := range segs {
		if name := strings.Trim(seg, "{}+"); awsVarSegRE.MatchString(seg) {
			if seen[name] {
				return fmt.Errorf("the variable {%s} appears twice; AWS rejects %q", name, p)
			}
			seen[name] = true
		}
		switch {
		case seg == "":
			return fmt.Errorf("empty path segment; AWS rejects %q", p)
		case seg == "." || seg == "..":
			return fmt.Errorf("path segment %q; AWS rejects %q", seg, p)
		case strings.ContainsAny(seg, "{}") && !awsVarSegRE.MatchString(seg):
			return fmt.Errorf("path segment %q is neither a literal nor a whole {variable}; AWS rejects %q", seg, p)
		case strings.HasSuffix(seg, "+}") && i != len(segs)-1:
			return fmt.Errorf("the greedy variable %s must be the last segment; AWS rejects %q", seg, p)
		}
	}
	return nil
}

// routeName names a Route after its Api and key: "pets-get-pets-petid".
func routeName(api, key string) string {
	if key == v1alpha1.DefaultRouteKey {
		return dnsSubdomain(api + "-default")
	}
	method, path, _ := strings.Cut(key, " ")
	p := strings.NewReplacer("{", "", "}", "", "+", "").Replace(path)
	if p == "/" {
		p = "root"
	}
	return dnsSubdomain(api + "-" + strings.ToLower(method) + "-" + p)
}

// uniqueName appends -2, -3, ... to name until it is unused.
func uniqueName(used map[string]bool, name string) string {
	n := name
	for i := 2; used[n]; i++ {
		n = fmt.Sprintf("%s-%d", name, i)
	}
	used[n] = true
	return n
}
