package mapping

import (
	"encoding/json"
	"errors"
	"fmt"
)

// DefaultRouteSelection is AWS's usual route selection expression.
const DefaultRouteSelection = "$request.body.action"

// Selection is a compiled WebSocket route selection expression
// (routeSelectionExpression): text and $request.body.JSONPATH variables, in
// the syntax of value expressions ("$request.body.action",
// "${request.body.service}.${request.body.action}"). Immutable once
// compiled; the translator compiles it, the dataplane only evaluates it.
type Selection struct {
	v Value
}

// CompileSelection compiles a route selection expression. Only
// $request.body variables are allowed (a message has nothing else), at least
// one of them, and the whole body ($request.body) is refused: AWS selects by
// a JSON element.
func CompileSelection(src string) (*Selection, error) {
	v, err := compileValue(src, phaseRequest)
	if err != nil {
		return nil, err
	}
	vars := 0
	for _, p := range v.parts {
		switch {
		case p.src == srcLiteral:
		case p.src == srcBody && p.path != nil:
			vars++
		default:
			return nil, errors.New("a route selection expression may use only $request.body.JSONPATH variables")
		}
	}
	if vars == 0 {
		return nil, fmt.Errorf("%q selects nothing: use $request.body.JSONPATH, e.g. %s", src, DefaultRouteSelection)
	}
	return &Selection{v: v}, nil
}

// Select evaluates the expression on a message: the route key it names, or
// "" when the message is not one JSON document or a variable selects
// nothing (the message then goes to $default, as on AWS).
func (s *Selection) Select(body []byte) string {
	in := Input{Body: body}
	for i := range s.v.parts {
		p := &s.v.parts[i]
		if p.src == srcBody && in.bodyValue(p.path) == "" {
			return ""
		}
	}
	return s.v.eval(&in)
}

// String returns the expression as written.
func (s *Selection) String() string { return s.v.src }

// MarshalJSON renders the expression as written.
func (s *Selection) MarshalJSON() ([]byte, error) { return json.Marshal(s.v.src) }
