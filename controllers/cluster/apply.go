package cluster

import (
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
	"github.com/turnpike-io/turnpike/controllers/translate"
)

// newObject returns an empty object of the kind named by a translate.ObjectRef.
func newObject(kind string) (client.Object, error) {
	switch kind {
	case "Api":
		return &v1alpha1.Api{}, nil
	case "Route":
		return &v1alpha1.Route{}, nil
	case "Stage":
		return &v1alpha1.Stage{}, nil
	case "Authorizer":
		return &v1alpha1.Authorizer{}, nil
	case "UsagePlan":
		return &v1alpha1.UsagePlan{}, nil
	}
	return nil, fmt.Errorf("status writer: unknown kind %q", kind)
}

// applyStatus merges the desired status st into the stored status of obj and
// reports whether anything changed. Conditions go through
// meta.SetStatusCondition, so a condition keeps its LastTransitionTime unless
// its status flips; conditions of a type st no longer has are removed.
func applyStatus(obj client.Object, st translate.ObjectStatus) bool {
	switch o := obj.(type) {
	case *v1alpha1.Api:
		changed := applyCommon(&o.Status.CommonStatus, st)
		changed = set(&o.Status.Endpoints, slices.Clone(st.Endpoints)) || changed
		changed = set(&o.Status.Routes, st.Routes) || changed
		return set(&o.Status.Stages, st.Stages) || changed
	case *v1alpha1.Route:
		return applyCommon(&o.Status.CommonStatus, st)
	case *v1alpha1.Stage:
		changed := applyCommon(&o.Status.CommonStatus, st)
		changed = set(&o.Status.StageName, st.StageName) || changed
		return set(&o.Status.InvokeURLs, slices.Clone(st.InvokeURLs)) || changed
	case *v1alpha1.Authorizer:
		return applyCommon(&o.Status.CommonStatus, st)
	case *v1alpha1.UsagePlan:
		changed := applyCommon(&o.Status.CommonStatus, st)
		return set(&o.Status.ApiKeys, st.ApiKeys) || changed
	}
	return false
}

// applyCommon updates conditions and observedGeneration.
//
// Reconciling=True is the one condition whose lastTransitionTime also
// restarts when it stays True for a new generation: it dates the wait for
// the current generation, which the translator's grace period counts from
// (translate/grace.go), so an edit restarts the wait.
func applyCommon(cs *v1alpha1.CommonStatus, st translate.ObjectStatus) bool {
	before := slices.Clone(cs.Conditions)
	conds := slices.Clone(cs.Conditions)
	for _, c := range st.Conditions {
		if c.ObservedGeneration == 0 {
			c.ObservedGeneration = st.Generation
		}
		prev := meta.FindStatusCondition(conds, c.Type)
		restart := c.Type == v1alpha1.ConditionReconciling && c.Status == metav1.ConditionTrue &&
			prev != nil && prev.Status == metav1.ConditionTrue && prev.ObservedGeneration != c.ObservedGeneration
		meta.SetStatusCondition(&conds, c)
		if restart {
			meta.FindStatusCondition(conds, c.Type).LastTransitionTime = metav1.Now()
		}
	}
	conds = slices.DeleteFunc(conds, func(c metav1.Condition) bool {
		return !slices.ContainsFunc(st.Conditions, func(d metav1.Condition) bool { return d.Type == c.Type })
	})
	cs.Conditions = conds
	changed := !equality.Semantic.DeepEqual(before, conds)
	return set(&cs.ObservedGeneration, st.Generation) || changed
}

// set assigns want to *field and reports whether the value changed (nil and
// empty slices are equal, as they are once serialised with omitempty).
// set stores want in *field when they differ. Slices are passed cloned: the
// object is decoded into again by the client (Update, Get on conflict),
// which would write into the translator's result through a shared array.
func set[T any](field *T, want T) bool {
	if equality.Semantic.DeepEqual(*field, want) {
		return false
	}
	*field = want
	return true
}

// observedGeneration is the stored status.observedGeneration of obj.
func observedGeneration(obj client.Object) int64 {
	if cs := commonStatus(obj); cs != nil {
		return cs.ObservedGeneration
	}
	return 0
}
