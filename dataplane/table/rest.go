package table

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// REST features of routes and stages: request validation and the response
// cache (api.md Route.requestValidation, Route.cache, Stage.cache). The
// table holds their configuration only: the JSON Schema validator behind
// BodySchema comes from dataplane/validate (a third-party library the
// table's closure does not link), the cache entries live in the dataplane's
// cache store (dataplane/cache), keyed by the identities found here.

// Parameter locations of requiredParameters and cache keyParameters.
const (
	InHeader      = "header"
	InPath        = "path"
	InQueryString = "querystring"
)

// Parameter is a request parameter: "querystring.q", "header.x-id",
// "path.petId".
type Parameter struct {
	// In is InHeader, InPath or InQueryString.
	In string
	// Name is the parameter's name as written (headers match in any case).
	Name string
}

var parameterPattern = regexp.MustCompile(`^(querystring|header|path)\.([A-Za-z0-9._~-]+)$`)

// ParseParameter reads "querystring.x", "header.x" or "path.x".
func ParseParameter(s string) (Parameter, error) {
	m := parameterPattern.FindStringSubmatch(s)
	if m == nil {
		return Parameter{}, fmt.Errorf("%q is not querystring.NAME, header.NAME or path.NAME", s)
	}
	return Parameter{In: m[1], Name: m[2]}, nil
}

// String is the parameter as written in the Route ("header.x-id").
func (p Parameter) String() string { return p.In + "." + p.Name }

// MarshalText writes the parameter as String does (table dump, golden files).
func (p Parameter) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// Validation is a route's request validator (requestValidation).
type Validation struct {
	// Required are the required parameters in the order AWS lists missing
	// ones: by location (header, path, querystring), then by name.
	Required []Parameter `json:"required,omitempty"`
	// Body checks the JSON body; nil leaves the body unchecked.
	Body BodySchema `json:"bodySchema,omitempty"`
}

// BodySchema is a compiled JSON Schema (dataplane/validate implements it).
type BodySchema interface {
	// Validate checks a JSON document decoded with numbers kept exact; the
	// error describes the first violation.
	Validate(doc any) error
}

// StageCache is a stage's response cache (Stage.spec.cache); nil is off.
type StageCache struct {
	// TTLSeconds is the default time to live of an entry.
	TTLSeconds int32 `json:"ttlSeconds"`
	// MaxBytes bounds the stage's entries in memory (weighted by size).
	MaxBytes int64 `json:"maxBytes"`
	// RequireAuthorization: "Cache-Control: max-age=0" refreshes an entry
	// only for callers whose authorizer policy allows
	// execute-api:InvalidateCache (requireAuthorizationForCacheControl).
	RequireAuthorization bool `json:"requireAuthorizationForCacheControl,omitempty"`
	// Unauthorized is what a refresh from any other caller gets
	// (CacheControlSucceedWithHeader and the other strategies).
	Unauthorized string `json:"unauthorizedCacheControlHeaderStrategy,omitempty"`
	// StatusHeader adds "X-Cache: Hit|Miss" to answers of cached routes.
	StatusHeader bool `json:"statusHeader,omitempty"`
	// FlushToken is the Stage's turnpike.io/flush-cache annotation: a new
	// value flushes the stage's entries.
	FlushToken string `json:"flushToken,omitempty"`
}

// Strategies for an unauthorized "Cache-Control: max-age=0" (AWS's names).
const (
	CacheControlFailWith403          = "FAIL_WITH_403"
	CacheControlSucceedWithHeader    = "SUCCEED_WITH_RESPONSE_HEADER"
	CacheControlSucceedWithoutHeader = "SUCCEED_WITHOUT_RESPONSE_HEADER"
)

// RouteCache says how a route's answers are cached; nil: not cached.
type RouteCache struct {
	// Method is the one request method whose answers are cached: GET, or
	// the route's own method when its Route enables the cache.
	Method string `json:"method"`
	// TTLSeconds is the time to live of the route's entries (positive).
	TTLSeconds int32 `json:"ttlSeconds"`
	// KeyParameters are the parameters whose values vary the entry;
	// parameters left out do not (AWS cacheKeyParameters).
	KeyParameters []Parameter `json:"keyParameters,omitempty"`
	// Key is the identity of the route's entries: it changes when anything
	// that shapes the route's answers changes (integration, mappings,
	// settings), so an edited route never serves entries of its old
	// configuration while an unrelated swap keeps them.
	Key string `json:"key"`
}

func (v *Validation) validate() error {
	for _, p := range v.Required {
		if p.Name == "" || (p.In != InHeader && p.In != InPath && p.In != InQueryString) {
			return fmt.Errorf("required parameter %q is malformed", p.String())
		}
	}
	return nil
}

func (c *RouteCache) validate() error {
	switch {
	case c.TTLSeconds <= 0:
		return errors.New("cache ttl must be positive")
	case c.Method == "" || strings.ToUpper(c.Method) != c.Method:
		return fmt.Errorf("cache method %q is not an upper-case method", c.Method)
	case c.Key == "":
		return errors.New("cache key is empty")
	}
	return nil
}
