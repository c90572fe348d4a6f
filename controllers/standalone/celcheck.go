package standalone

import (
	"context"
	"math"

	celgo "github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/interpreter"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel/model"
	apiservercel "k8s.io/apiserver/pkg/cel"
	"k8s.io/apiserver/pkg/cel/common"
	"k8s.io/apiserver/pkg/cel/environment"
	"k8s.io/utils/ptr"
)

// celCheck answers one question fast: would the API server's CEL validator
// (cel.Validator of k8s.io/apiextensions-apiserver) report nothing for a
// create request of this object? It runs the same rules, compiled by the
// same upstream cel.Compile with the same environment, declared types and
// per-call cost limit, on the same CEL values; what it does not do is
// rebuild schema adaptors on every field access. Upstream hands CEL a
// model.Structural, whose Properties() copies every property schema into a
// new map on each call, and a CEL field access (self.type) calls it twice:
// that was 28% of a new 1,000-object file's parse. celCheck hands CEL
// cachedSchema instead, built once per CRD version.
//
// It is only a pre-check: it reports pass when every rule the upstream
// validator would evaluate for a create returned true within the cost
// budget, and "not sure" otherwise (a rule false or failing, a cost near
// the budget). On "not sure" the caller runs the upstream validator, so the
// errors of an invalid object are the API server's, message for message,
// and an object passes only if upstream's rules pass (the rule set
// evaluated here is upstream's, node for node: see newCELNode).
type celCheck struct {
	root *celNode
}

// celNode mirrors one node of the tree that cel.NewValidator builds: the
// rules of one schema node and the nodes below it that hold rules.
type celNode struct {
	// schema is the node's schema as CEL sees it (with type and object meta
	// for a resource root, as upstream adds on every evaluation).
	schema   common.Schema
	programs []celgo.Program
	props    map[string]*celNode
	items    *celNode
	// additional validates every value of a map (additionalProperties).
	additional *celNode
}

// newCELCheck builds the check for a structural schema whose defaults are
// pruned, the one given to cel.NewValidator. It returns nil when the schema
// has no rules, or when it uses something the check does not mirror (allOf
// branches with rules, transition rules with optionalOldSelf, a rule that
// does not compile): the caller then always runs the upstream validator.
func newCELCheck(s *structuralschema.Structural, perCallLimit uint64) *celCheck {
	if cel.NewValidator(s, true, perCallLimit) == nil {
		return nil
	}
	b := celBuilder{
		perCallLimit: perCallLimit,
		envSet:       environment.MustBaseEnvSet(environment.DefaultCompatibilityVersion()),
		supported:    true,
	}
	root := b.node(s, true, model.SchemaDeclType(s, true))
	if !b.supported || root == nil {
		return nil
	}
	return &celCheck{root: root}
}

type celBuilder struct {
	perCallLimit uint64
	envSet       *environment.EnvSet
	// supported turns false on anything the check does not mirror.
	supported bool
}

// node is upstream's validator() (validation.go) for a node whose
// validation schema is its node schema (no allOf): the same compilation
// inputs and the same rules for skipping properties, so that the check
// evaluates exactly the rules upstream evaluates.
func (b *celBuilder) node(s *structuralschema.Structural, isResourceRoot bool, declType *apiservercel.DeclType) *celNode {
	if s.ValueValidation != nil && len(s.ValueValidation.AllOf) > 0 {
		b.supported = false
		return nil
	}
	n := &celNode{}
	n.programs = b.compile(s, declType)
	var elemType *apiservercel.DeclType
	if declType != nil {
		elemType = declType.ElemType
	}
	if s.Items != nil {
		n.items = b.node(s.Items, s.Items.XEmbeddedResource, elemType)
	}
	for k, prop := range s.Properties {
		fieldType, ok := propertyDeclType(k, &prop, declType)
		if !ok {
			continue
		}
		if p := b.node(&prop, prop.XEmbeddedResource, fieldType); p != nil {
			if n.props == nil {
				n.props = map[string]*celNode{}
			}
			n.props[k] = p
		}
	}
	if s.AdditionalProperties != nil && s.AdditionalProperties.Structural != nil {
		n.additional = b.node(s.AdditionalProperties.Structural, s.AdditionalProperties.Structural.XEmbeddedResource, elemType)
	}
	if len(n.programs) == 0 && n.items == nil && n.additional == nil && len(n.props) == 0 {
		return nil
	}
	sts := s
	if isResourceRoot {
		sts = model.WithTypeAndObjectMeta(s)
	}
	n.schema = newCachedSchema(sts)
	return n
}

// propertyDeclType is the CEL type upstream's validator() gives property k
// of an object of type declType; ok is false where upstream leaves the
// property out of CEL validation.
func propertyDeclType(k string, prop *structuralschema.Structural, declType *apiservercel.DeclType) (*apiservercel.DeclType, bool) {
	if escaped, ok := apiservercel.Escape(k); ok {
		if declType == nil {
			return nil, false
		}
		f, ok := declType.Fields[escaped]
		if !ok {
			return nil, false
		}
		return f.Type, true
	}
	t := model.SchemaDeclType(prop, prop.XEmbeddedResource)
	return t, t != nil
}

// compile compiles the node's rules as upstream does and keeps the
// programs a create request evaluates. Transition rules (oldSelf) are not
// evaluated on create, unless optionalOldSelf is set, which the check does
// not mirror.
func (b *celBuilder) compile(s *structuralschema.Structural, declType *apiservercel.DeclType) []celgo.Program {
	if len(s.XValidations) == 0 {
		return nil
	}
	results, err := cel.Compile(s, declType, b.perCallLimit, b.envSet, cel.StoredExpressionsEnvLoader())
	if err != nil {
		b.supported = false
		return nil
	}
	var programs []celgo.Program
	for i, r := range results {
		switch {
		case r.Error != nil:
			b.supported = false
		case r.UsesOldSelf && ptr.Deref(s.XValidations[i].OptionalOldSelf, false):
			b.supported = false
		case r.UsesOldSelf, r.Program == nil:
			// Skipped by upstream for a create request / an empty rule.
		default:
			programs = append(programs, r.Program)
		}
	}
	return programs
}

// passes reports whether the upstream validator would return no errors for
// obj (a custom resource after pruning and defaulting) in a create request
// with the given cost budget. It is conservative: false means "run the
// upstream validator", which also covers a total cost that merely reaches
// the budget (upstream's outcome there can depend on map order).
func (c *celCheck) passes(ctx context.Context, obj any, costBudget int64) bool {
	remaining, ok := c.root.passes(ctx, obj, costBudget)
	return ok && remaining > 0
}

// passes walks obj as upstream's Validator.validate does: the node's
// rules, then the values of a map (the properties that have rules, every
// value for additionalProperties) or the items of a list. Null values are
// not validated, as upstream.
func (n *celNode) passes(ctx context.Context, obj any, remaining int64) (int64, bool) {
	if n == nil || obj == nil {
		return remaining, true
	}
	remaining, ok := n.evaluate(ctx, obj, remaining)
	if !ok {
		return remaining, false
	}
	switch obj := obj.(type) {
	case []any:
		if n.items == nil {
			return remaining, true
		}
		for _, v := range obj {
			if remaining, ok = n.items.passes(ctx, v, remaining); !ok {
				return remaining, false
			}
		}
	case map[string]any:
		for k, v := range obj {
			if n.additional != nil {
				if remaining, ok = n.additional.passes(ctx, v, remaining); !ok {
					return remaining, false
				}
			}
			if p, found := n.props[k]; found {
				if remaining, ok = p.passes(ctx, v, remaining); !ok {
					return remaining, false
				}
			}
		}
	}
	return remaining, true
}

// evaluate runs the node's programs on obj with upstream's activation
// (self bound to the CEL value of obj) and charges their actual cost.
func (n *celNode) evaluate(ctx context.Context, obj any, remaining int64) (int64, bool) {
	if len(n.programs) == 0 {
		return remaining, true
	}
	if remaining <= 0 {
		return remaining, false
	}
	act := &selfActivation{self: common.UnstructuredToVal(obj, n.schema)}
	for _, p := range n.programs {
		result, details, err := p.ContextEval(ctx, act)
		if details == nil {
			return remaining, false
		}
		cost := details.ActualCost()
		if cost == nil || *cost > math.MaxInt64 || int64(*cost) > remaining {
			return remaining, false
		}
		remaining -= int64(*cost)
		if err != nil || result != types.True {
			return remaining, false
		}
	}
	return remaining, true
}

// selfActivation binds self, as upstream's activation for a create request
// (which has no oldSelf).
type selfActivation struct {
	self any
}

func (a *selfActivation) ResolveName(name string) (any, bool) {
	if name == cel.ScopedVarName {
		return a.self, true
	}
	return nil, false
}

func (a *selfActivation) Parent() interpreter.Activation { return nil }
