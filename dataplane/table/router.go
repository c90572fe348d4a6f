package table

import (
	"hash/maphash"
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
	seed         maphash.Seed // of every node's literal table (literals.go)
}

// node is one trie node; nodes are immutable once newRouter returns. It is
// kept small because a table has about one node per route segment: at
// 100,000 routes a node, its slots and its route entry cost ~150 bytes per
// route, where a map per node cost ~400 (docs/benchmarks.md, "Memory per
// Route"). The literal table is inline (no pointer to follow): at 100,000
// routes the trie does not fit the CPU caches, and every pointer a lookup
// follows is a likely cache miss.
type node struct {
	seg    string      // the literal segment that leads here; "" for the root and {var} nodes
	lits   literals    // the literal children (literals.go)
	param  *node       // the {var} child
	routes []nodeRoute // routes whose pattern ends here, and greedy routes whose prefix ends here
}

// nodeRoute is one route of a node. A node has at most one per method and
// kind (exact or greedy), in practice one or two: a linear scan finds it
// faster than a map lookup and costs 32 bytes instead of a map's ~250.
type nodeRoute struct {
	method string // AnyMethod for ANY
	greedy bool
	route  *Route
}

// find returns the route of kind greedy for method, else the ANY one, or
// nil. A request whose method is literally "ANY" finds the ANY route, as
// the method-keyed map did.
func (n *node) find(method string, greedy bool) *Route {
	var anyRoute *Route
	for i := range n.routes {
		e := &n.routes[i]
		switch {
		case e.greedy != greedy:
		case e.method == method:
			return e.route
		case e.method == AnyMethod:
			anyRoute = e.route
		}
	}
	return anyRoute
}

// add records r for method and kind unless the node has one already (the
// first route wins).
func (n *node) add(method string, greedy bool, r *Route) {
	for _, e := range n.routes {
		if e.greedy == greedy && e.method == method {
			return
		}
	}
	n.routes = append(n.routes, nodeRoute{method: method, greedy: greedy, route: r})
}

// newRouter compiles routes whose keys were parsed into keys (same order).
// Conflicting keys were removed by the translator; if two remain, the first wins.
func newRouter(routes []*Route, keys []RouteKey) *Router {
	rt := &Router{root: &node{}, seed: maphash.MakeSeed()}
	children := map[*node]map[string]*node{} // literal children while building
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
				m := children[n]
				if m == nil {
					m = map[string]*node{}
					children[n] = m
				}
				child := m[s.Value]
				if child == nil {
					child = &node{seg: s.Value}
					m[s.Value] = child
				}
				n = child
			case Variable:
				if n.param == nil {
					n.param = &node{}
				}
				n = n.param
			case Greedy:
				n.add(k.Method, true, r)
			}
		}
		if !k.Greedy() {
			n.add(k.Method, false, r)
		}
	}
	for n, m := range children {
		n.lits = newLiterals(rt.seed, m)
	}
	return rt
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
		return n.find(method, false)
	}
	if child := n.lits.get(rt.seed, segs[i]); child != nil {
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
			if r := n.find(method, true); r != nil {
				best, bestDepth = r, i
			}
		}
		if child := n.lits.get(rt.seed, segs[i]); child != nil {
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
