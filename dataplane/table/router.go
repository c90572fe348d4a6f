package table

import (
	"strings"

	"github.com/turnpike-io/turnpike/dataplane/urlpath"
)

// Router finds the route of a request within one stage. Lookup walks a trie of
// path segments, so its cost depends on the path's length and never on how
// many routes the stage has.
//
// Order (api.md): first routes without a greedy variable, compared segment by
// segment from the left (a literal beats {var}), a route of the request's
// method before ANY; then greedy routes, the one with more segments before the
// greedy variable first, then the same left-to-right rule, then method before
// ANY; then $default. The search backtracks: a literal branch that leads
// nowhere gives way to the {var} branch beside it.
type Router struct {
	root         *node
	defaultRoute *Route
}

type node struct {
	literal map[string]*node // while building; nil once frozen
	lits    *literals        // the frozen literal children (literals.go)
	param   *node
	exact   methodSet // routes whose pattern ends at this node
	greedy  methodSet // greedy routes whose prefix ends at this node
}

type methodSet struct {
	byMethod map[string]*Route
	any      *Route
}

func (m *methodSet) find(method string) *Route {
	if r := m.byMethod[method]; r != nil {
		return r
	}
	return m.any
}

func (m *methodSet) has(method string) bool {
	if method == AnyMethod {
		return m.any != nil
	}
	return m.byMethod[method] != nil
}

func (m *methodSet) add(method string, r *Route) {
	if method == AnyMethod {
		m.any = r
		return
	}
	if m.byMethod == nil {
		m.byMethod = map[string]*Route{}
	}
	m.byMethod[method] = r
}

// newRouter compiles routes whose keys were parsed into keys (same order).
// Conflicting keys were removed by the translator; if two remain, the first wins.
func newRouter(routes []*Route, keys []RouteKey) *Router {
	rt := &Router{root: &node{}}
	for i, r := range routes {
		if r.Key == DefaultRouteKey {
			if rt.defaultRoute == nil {
				rt.defaultRoute = r
			}
			continue
		}
		k := keys[i]
		n := rt.root
		for _, s := range k.Segments {
			switch s.Kind {
			case Literal:
				if n.literal == nil {
					n.literal = map[string]*node{}
				}
				child := n.literal[s.Value]
				if child == nil {
					child = &node{}
					n.literal[s.Value] = child
				}
				n = child
			case Variable:
				if n.param == nil {
					n.param = &node{}
				}
				n = n.param
			case Greedy:
				if !n.greedy.has(k.Method) {
					n.greedy.add(k.Method, r)
				}
			}
		}
		if !k.Greedy() && !n.exact.has(k.Method) {
			n.exact.add(k.Method, r)
		}
	}
	rt.root.freeze()
	return rt
}

// freeze replaces the builder's literal maps of n and its descendants by
// their lookup tables.
func (n *node) freeze() {
	n.lits = newLiterals(n.literal)
	for _, child := range n.literal {
		child.freeze()
	}
	n.literal = nil
	if n.param != nil {
		n.param.freeze()
	}
}

// Lookup returns the route for method and the decoded path segments (without
// the stage prefix), or nil when no route matches (the no-route error).
func (rt *Router) Lookup(method string, segs []string) *Route {
	if r := rt.exact(rt.root, method, segs, 0); r != nil {
		return r
	}
	if r := rt.greedy(method, segs); r != nil {
		return r
	}
	return rt.defaultRoute
}

func (rt *Router) exact(n *node, method string, segs []string, i int) *Route {
	if i == len(segs) {
		return n.exact.find(method)
	}
	if child := n.lits.get(segs[i]); child != nil {
		if r := rt.exact(child, method, segs, i+1); r != nil {
			return r
		}
	}
	if n.param != nil {
		return rt.exact(n.param, method, segs, i+1)
	}
	return nil
}

// greedy searches every prefix literal-first; the first candidate found at a
// depth is the best at that depth, and a deeper candidate beats a shallower one.
func (rt *Router) greedy(method string, segs []string) *Route {
	var best *Route
	bestDepth := -1
	var walk func(n *node, i int)
	walk = func(n *node, i int) {
		if i >= len(segs) {
			return // a greedy variable needs at least one segment
		}
		if i > bestDepth {
			if r := n.greedy.find(method); r != nil {
				best, bestDepth = r, i
			}
		}
		if child := n.lits.get(segs[i]); child != nil {
			walk(child, i+1)
		}
		if n.param != nil {
			walk(n.param, i+1)
		}
	}
	walk(rt.root, 0)
	return best
}

// Params returns r's path parameters for segs: r.ParamNames and their
// decoded values. A greedy variable's value is the rest of the path joined
// with "/" (segments never contain "/": encoded slashes are refused).
func (r *Route) Params(segs []string) urlpath.Params {
	if len(r.ParamNames) == 0 {
		return urlpath.Params{}
	}
	vals := make([]string, 0, len(r.ParamNames))
	for i, s := range r.pattern {
		switch s.Kind {
		case Variable:
			vals = append(vals, segs[i])
		case Greedy:
			vals = append(vals, strings.Join(segs[i:], "/"))
		}
	}
	return urlpath.Params{Names: r.ParamNames, Values: vals}
}
