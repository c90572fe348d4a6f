package request

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/turnpike-io/turnpike/dataplane/auth"
)

// answer is the authorizer's whole answer as cached: the decision or policy
// and the context. It is evaluated per request (evaluate), never stored as a
// decision, so a cached IAM policy is checked against every route it is used
// for. Immutable once parsed.
type answer struct {
	simple      bool
	authorized  bool // simple answers only
	principalID string
	statements  []statement
	context     map[string]any
	usageKey    string
	size        int // bytes of the raw answer, for the cache's memory bound
}

// statement is one IAM policy statement with Action and Resource patterns.
type statement struct {
	allow     bool
	actions   []string
	resources []string
}

// wireAnswer is both answer shapes on the wire.
type wireAnswer struct {
	IsAuthorized       *bool          `json:"isAuthorized"`
	PrincipalID        any            `json:"principalId"`
	PolicyDocument     *wirePolicy    `json:"policyDocument"`
	Context            map[string]any `json:"context"`
	UsageIdentifierKey string         `json:"usageIdentifierKey"`
}

type wirePolicy struct {
	Statement json.RawMessage `json:"Statement"`
}

type wireStatement struct {
	Effect   string          `json:"Effect"`
	Action   json.RawMessage `json:"Action"`
	Resource json.RawMessage `json:"Resource"`
}

// parseAnswer reads a simple answer ({"isAuthorized": bool, "context": {}})
// or an IAM-policy answer ({principalId, policyDocument, context,
// usageIdentifierKey}). Anything else is malformed: the caller fails closed.
func parseAnswer(body []byte, simple bool) (*answer, error) {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var w wireAnswer
	if err := d.Decode(&w); err != nil {
		return nil, fmt.Errorf("the answer is not a JSON object: %w", err)
	}
	a := &answer{simple: simple, context: w.Context, usageKey: w.UsageIdentifierKey, size: len(body)}
	if simple {
		if w.IsAuthorized == nil {
			return nil, errors.New("the simple answer has no boolean isAuthorized")
		}
		a.authorized = *w.IsAuthorized
		return a, nil
	}
	a.principalID = auth.Stringify(w.PrincipalID)
	if w.PolicyDocument == nil || len(w.PolicyDocument.Statement) == 0 {
		return nil, errors.New("the answer has no policyDocument.Statement")
	}
	var err error
	a.statements, err = parseStatements(w.PolicyDocument.Statement)
	return a, err
}

func parseStatements(raw json.RawMessage) ([]statement, error) {
	var list []wireStatement
	if err := json.Unmarshal(raw, &list); err != nil {
		var one wireStatement
		if err := json.Unmarshal(raw, &one); err != nil {
			return nil, errors.New("policyDocument.Statement is neither a statement nor a list of them")
		}
		list = []wireStatement{one}
	}
	out := make([]statement, 0, len(list))
	for i, w := range list {
		var st statement
		switch {
		case strings.EqualFold(w.Effect, "Allow"):
			st.allow = true
		case strings.EqualFold(w.Effect, "Deny"):
		default:
			return nil, fmt.Errorf("statement %d has Effect %q, not Allow or Deny", i, w.Effect)
		}
		var okA, okR bool
		st.actions, okA = oneOrMany(w.Action)
		st.resources, okR = oneOrMany(w.Resource)
		if !okA || !okR {
			return nil, fmt.Errorf("statement %d needs Action and Resource strings", i)
		}
		out = append(out, st)
	}
	return out, nil
}

// oneOrMany reads a string or a non-empty list of strings.
func oneOrMany(raw json.RawMessage) ([]string, bool) {
	var s string
	if json.Unmarshal(raw, &s) == nil && s != "" {
		return []string{s}, true
	}
	var l []string
	if json.Unmarshal(raw, &l) == nil && len(l) > 0 {
		return l, true
	}
	return nil, false
}

// evaluate decides the request from the answer. IAM semantics: an explicit
// Deny that matches wins, then an Allow that matches; nothing matching is an
// implicit deny.
func (a *answer) evaluate(q *auth.Request) *auth.Result {
	res := &auth.Result{PrincipalID: a.principalID, Context: a.context, UsageIdentifierKey: a.usageKey}
	if a.simple {
		if !a.authorized {
			res.Outcome, res.Error = auth.OutcomeForbidden, "the authorizer answered isAuthorized=false"
		}
		return res
	}
	arn := q.RouteARN()
	switch a.decide(actionInvoke, arn) {
	case decisionDeny:
		res.Outcome, res.Error = auth.OutcomeExplicitDeny, "the authorizer's policy denies "+arn
	case decisionNone:
		res.Outcome, res.Error = auth.OutcomeForbidden, "the authorizer's policy does not allow "+arn
	default:
		res.InvalidateCache = a.decide(actionInvalidateCache, arn) == decisionAllow
	}
	return res
}

// IAM actions the gateway evaluates, lower case.
const (
	actionInvoke          = "execute-api:invoke"
	actionInvalidateCache = "execute-api:invalidatecache"
)

// decision is a policy's verdict on one action and resource.
type decision int

const (
	decisionNone decision = iota // nothing matches: implicit deny
	decisionAllow
	decisionDeny // an explicit Deny matches; it wins
)

// decide evaluates the policy for action on arn with IAM semantics: an
// explicit Deny that matches wins, then an Allow that matches.
func (a *answer) decide(action, arn string) decision {
	d := decisionNone
	for _, st := range a.statements {
		if !st.matches(action, arn) {
			continue
		}
		if !st.allow {
			return decisionDeny
		}
		d = decisionAllow
	}
	return d
}

func (st *statement) matches(actionName, arn string) bool {
	action := false
	for _, p := range st.actions {
		if glob(strings.ToLower(p), actionName) {
			action = true
			break
		}
	}
	if !action {
		return false
	}
	for _, p := range st.resources {
		if glob(p, arn) {
			return true
		}
	}
	return false
}

// glob matches s against an IAM pattern: '*' is any run of characters
// (slashes included), '?' any one character; everything else is literal and
// case-sensitive. Linear backtracking on the last '*' keeps it O(len(p)*len(s)).
func glob(p, s string) bool {
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == s[si]):
			pi++
			si++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
