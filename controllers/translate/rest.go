package translate

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
	"github.com/turnpike-io/turnpike/dataplane/gatewayresp"
	"github.com/turnpike-io/turnpike/dataplane/table"
	"github.com/turnpike-io/turnpike/dataplane/validate"
)

// REST features (api.md: Api gatewayResponses and binaryMediaTypes, Stage
// cache, Route requestValidation and cache), compiled once here so the
// dataplane only looks things up.

// gatewayResponses compiles an Api's gatewayResponses. Anything the schema
// cannot catch (a template with VTL the gateway does not evaluate, an
// unknown $context variable, a reserved header) makes the Api not
// Accepted: serving it with the built-in answers would hide what its author
// asked for.
func gatewayResponses(a *v1alpha1.Api) (*gatewayresp.Responses, *issue) {
	if len(a.Spec.GatewayResponses) == 0 {
		return nil, nil
	}
	specs := make(map[string]gatewayresp.Spec, len(a.Spec.GatewayResponses))
	for k, r := range a.Spec.GatewayResponses {
		specs[k] = gatewayresp.Spec{StatusCode: int(r.StatusCode), ResponseParameters: r.ResponseParameters, ResponseTemplates: r.ResponseTemplates}
	}
	rs, err := gatewayresp.Compile(specs)
	if err != nil {
		return nil, &issue{
			reason:  v1alpha1.ReasonInvalid,
			message: "spec." + err.Error() + "; fix it (the Api is not served until then)",
			stalled: true,
		}
	}
	return rs, nil
}

// binaryMediaTypes are the Api's binaryMediaTypes in lower case, without
// duplicates (media types match in any case).
func binaryMediaTypes(a *v1alpha1.Api) []string {
	if len(a.Spec.BinaryMediaTypes) == 0 {
		return nil
	}
	out := make([]string, 0, len(a.Spec.BinaryMediaTypes))
	for _, t := range a.Spec.BinaryMediaTypes {
		if t = strings.ToLower(t); !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// stageCache is the table's cache of a Stage: nil when the cache is off or
// can hold nothing (maxBytes 0). The defaults are the CRD's (AWS's).
func stageCache(s *v1alpha1.Stage) *table.StageCache {
	c := s.Spec.Cache
	if c == nil || !c.Enabled || c.MaxBytes <= 0 {
		return nil
	}
	out := &table.StageCache{
		TTLSeconds:           c.TTLSeconds,
		MaxBytes:             c.MaxBytes,
		RequireAuthorization: c.RequireAuthorizationForCacheControl == nil || *c.RequireAuthorizationForCacheControl,
		Unauthorized:         c.UnauthorizedCacheControlHeaderStrategy,
		StatusHeader:         c.StatusHeader == nil || *c.StatusHeader,
		FlushToken:           s.Annotations[v1alpha1.FlushCacheAnnotation],
	}
	if out.Unauthorized == "" {
		out.Unauthorized = table.CacheControlSucceedWithHeader
	}
	return out
}

// routeRest is what a Route's REST settings compile to, shared by every
// stage it is served in.
type routeRest struct {
	validation *table.Validation
	cacheKeys  []table.Parameter
}

// compileRouteRest checks and compiles requestValidation and
// cache.keyParameters. A body schema that does not compile is
// InvalidSchema with the validator's message; a parameter the route cannot
// have (path.x without {x} in the route key) is Invalid. Either way the
// Route is not Accepted: serving it without the check would let through
// what its author meant to refuse.
func compileRouteRest(r *v1alpha1.Route) (routeRest, *issue) {
	var out routeRest
	if v := r.Spec.RequestValidation; v != nil {
		required, err := validate.RequiredParameters(v.RequiredParameters)
		if err == nil {
			err = checkPathParams(required, r.Spec.RouteKey)
		}
		if err != nil {
			return out, invalidRest("spec.requestValidation.requiredParameters: " + err.Error())
		}
		out.validation = &table.Validation{Required: required}
		if v.BodySchema != nil && len(v.BodySchema.Raw) > 0 {
			s, err := validate.CompileSchema(v.BodySchema.Raw)
			if err != nil {
				return out, &issue{
					reason:  v1alpha1.ReasonInvalidSchema,
					message: "spec.requestValidation.bodySchema does not compile: " + err.Error() + " (the Route is not served until it does)",
					stalled: true,
				}
			}
			out.validation.Body = s
		}
		if len(out.validation.Required) == 0 && out.validation.Body == nil {
			out.validation = nil
		}
	}
	if c := r.Spec.Cache; c != nil {
		for _, s := range c.KeyParameters {
			p, err := table.ParseParameter(s)
			if err == nil {
				err = checkPathParams([]table.Parameter{p}, r.Spec.RouteKey)
			}
			if err != nil {
				return out, invalidRest("spec.cache.keyParameters: " + err.Error())
			}
			if !slices.Contains(out.cacheKeys, p) {
				out.cacheKeys = append(out.cacheKeys, p)
			}
		}
	}
	return out, nil
}

func invalidRest(msg string) *issue {
	return &issue{reason: v1alpha1.ReasonInvalid, message: msg + " (the Route is not served until it is fixed)", stalled: true}
}

// routeParams are the path variable names of a route key (none for
// $default or a key that does not parse, which is reported elsewhere).
func routeParams(key string) []string {
	rk, err := table.ParseRouteKey(key)
	if err != nil {
		return nil
	}
	return rk.ParamNames()
}

// checkPathParams: every path.x parameter names a variable of the route
// key. The key is parsed only when there is such a parameter (most Routes
// have none, and translation parses every key once already).
func checkPathParams(ps []table.Parameter, routeKey string) error {
	var names []string
	parsed := false
	for _, p := range ps {
		if p.In != table.InPath {
			continue
		}
		if !parsed {
			names, parsed = routeParams(routeKey), true
		}
		if !slices.Contains(names, p.Name) {
			return &pathParamError{p: p}
		}
	}
	return nil
}

type pathParamError struct{ p table.Parameter }

func (e *pathParamError) Error() string {
	return e.p.String() + " names no path variable of the route key (add {" + e.p.Name + "} to it or remove the parameter)"
}

// routeCache decides how route r (built for stage st) is cached: nil when
// the stage has no cache, the Route turns it off, or nothing would be kept.
// GET answers are cached by default; a Route that enables the cache also
// caches its own method (POST /search); an ANY or $default route caches GET
// only. The route's ttlSeconds wins over the stage's; 0 caches nothing.
func routeCache(obj *v1alpha1.Route, st *stageState, r *table.Route, keys []table.Parameter) *table.RouteCache {
	sc := st.table.Cache
	rc := obj.Spec.Cache
	if sc == nil || (rc != nil && !rc.Enabled) || (r.Failure != nil && (r.Canary == nil || r.Canary.Failure != nil)) {
		return nil
	}
	method := "GET"
	if m, _, _ := strings.Cut(obj.Spec.RouteKey, " "); m != "GET" && m != "ANY" && m != table.DefaultRouteKey {
		if rc == nil {
			return nil // only GET is cached unless the Route asks
		}
		method = m
	}
	ttl := sc.TTLSeconds
	if rc != nil && rc.TTLSeconds > 0 {
		ttl = rc.TTLSeconds
	}
	if ttl <= 0 {
		return nil
	}
	return &table.RouteCache{Method: method, TTLSeconds: ttl, KeyParameters: keys, Key: routeCacheKey(r, st.table, ttl, keys)}
}

// routeCacheKey is the identity of a route's entries: a hash of the
// served route (integration resolved for the stage, mappings, validation,
// canary), the stage's variables and canary (mappings read them per
// request) and its cache settings, so entries survive a swap exactly when
// none of that changed.
func routeCacheKey(r *table.Route, st *table.Stage, ttl int32, keys []table.Parameter) string {
	b, err := json.Marshal(struct {
		Route     *table.Route      `json:"r"`
		Variables map[string]string `json:"v"`
		Canary    *table.Canary     `json:"c"`
		TTL       int32             `json:"t"`
		Keys      []table.Parameter `json:"k"`
	}{r, st.Variables, st.Canary, ttl, keys})
	if err != nil { // table values always marshal; never share a key regardless
		b = []byte(r.Object + "\x00" + r.Key + "\x00" + err.Error())
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12])
}
