package table

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// New sorts apis, compiles every stage's router and validates the result. The
// caller hands over apis and must not change them afterwards. A table that
// fails validation is returned with the error; callers keep serving the last
// good table instead of swapping it in.
func New(apis []*Api) (*Table, error) { return NewWithPlans(apis, nil) }

// NewWithPlans is New for a table with usage plans: it also sorts plans and
// links every stage's StagePlans to them (linkPlans).
func NewWithPlans(apis []*Api, plans []*Plan) (*Table, error) {
	return NewWithDomains(apis, plans, nil)
}

// NewWithDomains is NewWithPlans for a table with custom domains: it also
// sorts the domains and links every API mapping to its stage (linkDomains).
func NewWithDomains(apis []*Api, plans []*Plan, domains []*Domain) (*Table, error) {
	t := &Table{Apis: apis, Plans: plans, Domains: domains, hosts: map[string]*Api{}}
	slices.SortFunc(t.Apis, func(a, b *Api) int {
		return strings.Compare(a.Namespace+"/"+a.Name, b.Namespace+"/"+b.Name)
	})
	var errs []error
	for _, a := range t.Apis {
		if err := a.compile(); err != nil {
			errs = append(errs, err)
		}
		for _, h := range a.Hosts {
			if prev, dup := t.hosts[h]; dup {
				errs = append(errs, fmt.Errorf("host %q is claimed by Api %s/%s and %s/%s", h, prev.Namespace, prev.Name, a.Namespace, a.Name))
				continue
			}
			t.hosts[h] = a
		}
	}
	errs = append(errs, t.linkPlans(), t.linkDomains())
	return t, errors.Join(errs...)
}

func (a *Api) compile() error {
	slices.SortFunc(a.Stages, func(x, y *Stage) int { return strings.Compare(x.Name, y.Name) })
	a.stages = make(map[string]*Stage, len(a.Stages))
	var errs []error
	if a.CORS != nil {
		if err := a.CORS.compile(); err != nil {
			errs = append(errs, fmt.Errorf("api %s/%s: %w", a.Namespace, a.Name, err))
		}
	}
	if err := a.validateWebSocket(); err != nil {
		errs = append(errs, fmt.Errorf("api %s/%s: %w", a.Namespace, a.Name, err))
	}
	for _, s := range a.Stages {
		if _, dup := a.stages[s.Name]; dup {
			errs = append(errs, fmt.Errorf("api %s/%s: stage %q appears twice", a.Namespace, a.Name, s.Name))
			continue
		}
		a.stages[s.Name] = s
		compile := s.compile
		if a.Protocol == ProtocolWebSocket {
			compile = s.compileWebSocket
		}
		if err := compile(); err != nil {
			errs = append(errs, fmt.Errorf("api %s/%s stage %q: %w", a.Namespace, a.Name, s.Name, err))
		}
	}
	return errors.Join(errs...)
}

func (s *Stage) compile() error {
	slices.SortFunc(s.Routes, func(x, y *Route) int { return strings.Compare(x.Key, y.Key) })
	keys := make([]RouteKey, len(s.Routes))
	patterns := map[string]string{}
	var errs []error
	for i, r := range s.Routes {
		if err := r.validate(); err != nil {
			errs = append(errs, fmt.Errorf("route %q: %w", r.Key, err))
		}
		if r.Key == DefaultRouteKey {
			continue
		}
		k, err := ParseRouteKey(r.Key)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if prev, dup := patterns[k.Pattern()]; dup {
			errs = append(errs, fmt.Errorf("route keys %q and %q conflict", prev, r.Key))
		}
		patterns[k.Pattern()] = r.Key
		keys[i] = k
		r.ParamNames = k.ParamNames()
		r.pattern = k.Segments
	}
	s.router = newRouter(s.Routes, keys)
	return errors.Join(errs...)
}

// validate is the last guard before a swap: it checks what the translator must
// already have guaranteed, so a translator bug cannot put a broken route live.
func (r *Route) validate() error {
	if err := r.Auth.validate(); err != nil {
		return err
	}
	if err := r.Canary.validate(); err != nil { // a canary may serve while the route fails
		return fmt.Errorf("canary: %w", err)
	}
	if r.Validation != nil {
		if err := r.Validation.validate(); err != nil {
			return err
		}
	}
	if r.Cache != nil {
		if err := r.Cache.validate(); err != nil {
			return err
		}
	}
	if r.Failure != nil {
		if r.Failure.Status < 400 || r.Failure.Status > 599 {
			return fmt.Errorf("failure status %d is not an error status", r.Failure.Status)
		}
		return nil
	}
	return r.Integration.validate()
}

// validate checks that the integration can be served.
func (in *Integration) validate() error {
	if in.TimeoutMillis <= 0 && in.Type != IntegrationMock {
		return errors.New("integration timeout must be positive")
	}
	switch in.Type {
	case IntegrationService:
		if in.Service == nil || in.Service.Name == "" || in.Service.Port <= 0 {
			return errors.New("SERVICE integration without a service port")
		}
	case IntegrationHTTPProxy:
		if !strings.HasPrefix(in.URI, "http://") && !strings.HasPrefix(in.URI, "https://") {
			return fmt.Errorf("HTTP_PROXY uri %q is not an absolute http(s) URL", in.URI)
		}
	case IntegrationMock:
		if in.Mock == nil || in.Mock.Status < 100 || in.Mock.Status > 599 {
			return errors.New("MOCK integration without a valid status")
		}
	case IntegrationFunction:
		return in.validateFunction()
	default:
		return fmt.Errorf("unknown integration type %q", in.Type)
	}
	return nil
}

// validateFunction checks a FUNCTION integration.
func (in *Integration) validateFunction() error {
	switch {
	case in.Service == nil || in.Service.Name == "" || in.Service.Port <= 0:
		return errors.New("FUNCTION integration without a service port")
	case in.PayloadFormatVersion != "1.0" && in.PayloadFormatVersion != "2.0":
		return fmt.Errorf("FUNCTION integration with payload format version %q", in.PayloadFormatVersion)
	case in.Concurrency <= 0:
		return errors.New("FUNCTION integration without a positive concurrency per endpoint")
	}
	return nil
}

// ApiForHost returns the Api served on host (lower-case, without port), or nil.
func (t *Table) ApiForHost(host string) *Api {
	if t == nil {
		return nil
	}
	return t.hosts[host]
}

// Stage returns the stage named name, or nil.
func (a *Api) Stage(name string) *Stage { return a.stages[name] }

// StageNames lists the stage names, sorted (for hints).
func (a *Api) StageNames() []string {
	names := make([]string, len(a.Stages))
	for i, s := range a.Stages {
		names[i] = s.Name
	}
	return names
}

// Lookup finds the route for method and decoded path segments in this stage.
func (s *Stage) Lookup(method string, segs []string) *Route { return s.router.Lookup(method, segs) }

// RouteCount is the number of routes over all stages (for metrics and status).
func (t *Table) RouteCount() int {
	n := 0
	for _, a := range t.Apis {
		for _, s := range a.Stages {
			n += len(s.Routes)
		}
	}
	return n
}
