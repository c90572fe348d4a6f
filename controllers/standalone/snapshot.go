package standalone

import (
	"crypto/sha256"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
	"github.com/turnpike-io/turnpike/controllers/translate"
)

// The snapshot kinds, in translate.Snapshot's field order; the first
// numSummedKinds are those of translate.ObjectSums, in its order.
const (
	kindApi = iota
	kindRoute
	kindStage
	kindAuthorizer
	kindUsagePlan
	kindService
	kindEndpointSlice
	kindSecret
	numKinds
	numSummedKinds = kindUsagePlan + 1
)

// kindOf is obj's snapshot kind.
func kindOf(obj kubeObject) int {
	switch obj.(type) {
	case *v1alpha1.Api:
		return kindApi
	case *v1alpha1.Route:
		return kindRoute
	case *v1alpha1.Stage:
		return kindStage
	case *v1alpha1.Authorizer:
		return kindAuthorizer
	case *v1alpha1.UsagePlan:
		return kindUsagePlan
	case *corev1.Service:
		return kindService
	case *discoveryv1.EndpointSlice:
		return kindEndpointSlice
	case *corev1.Secret:
		return kindSecret
	}
	panic(fmt.Sprintf("standalone: object of unexpected type %T", obj))
}

// count adds p to the segment's per-kind counts and sums.
func (s *segment) count(p placed) {
	k := kindOf(p.obj)
	s.kinds[k]++
	switch {
	case k < numSummedKinds:
		s.sums[k] = append(s.sums[k], p.sum)
	case k == kindService || k == kindSecret:
		s.shared = append(s.shared, p.sum)
	}
}

// snapshotOf builds the snapshot of segs: each kind's slice in segment
// order, then file order. It also returns where each segment's objects of
// each kind start. What base (the assembly of the last snapshot built, or
// nil) already holds is not copied object by object:
//   - a kind whose objects all come from segments base holds at the same
//     positions shares base's slice (the snapshot is immutable), so an edit
//     of a Route does not copy the Apis, and an edit of a Stage not the
//     Routes;
//   - otherwise a segment base holds is copied from base's slice in one
//     piece, its objects there being struct copies with their timestamps
//     already; the other segments' objects are copied one by one.
func snapshotOf(segs []*segment, base *assembly) (*translate.Snapshot, [][numKinds]int) {
	starts := make([][numKinds]int, len(segs))
	var total [numKinds]int
	for i, seg := range segs {
		starts[i] = total
		for k, n := range seg.kinds {
			total[k] += n
		}
	}
	snap := &translate.Snapshot{}
	for k := range numKinds {
		if base.holdsKind(segs, starts, total, k) {
			share(snap, base.snap, k)
			continue
		}
		grow(snap, k, total[k])
		for _, seg := range segs {
			if seg.kinds[k] == 0 {
				continue
			}
			if j, ok := base.indexOf(seg); ok {
				appendRange(snap, base.snap, k, base.kindStart[j][k], seg.kinds[k])
				continue
			}
			for _, p := range seg.objs {
				if kindOf(p.obj) == k {
					appendObject(snap, p)
				}
			}
		}
	}
	return nullEmpty(snap), starts
}

// holdsKind says whether base's snapshot has exactly the objects of kind k
// that segs place at starts (totals: their count per kind): every segment
// with objects of kind k is base's, at the same position.
func (a *assembly) holdsKind(segs []*segment, starts [][numKinds]int, total [numKinds]int, k int) bool {
	if a == nil || total[k] == 0 || lengths(a.snap)[k] != total[k] {
		return false
	}
	for i, seg := range segs {
		if seg.kinds[k] == 0 {
			continue
		}
		if j, ok := a.index[seg]; !ok || a.kindStart[j][k] != starts[i][k] {
			return false
		}
	}
	return true
}

// share sets snap's slice of kind k to from's.
func share(snap, from *translate.Snapshot, k int) {
	switch k {
	case kindApi:
		snap.Apis = from.Apis
	case kindRoute:
		snap.Routes = from.Routes
	case kindStage:
		snap.Stages = from.Stages
	case kindAuthorizer:
		snap.Authorizers = from.Authorizers
	case kindUsagePlan:
		snap.UsagePlans = from.UsagePlans
	case kindService:
		snap.Services = from.Services
	case kindEndpointSlice:
		snap.EndpointSlices = from.EndpointSlices
	case kindSecret:
		snap.Secrets = from.Secrets
	}
}

// grow gives snap's slice of kind k (empty) capacity for n objects.
func grow(snap *translate.Snapshot, k, n int) {
	switch k {
	case kindApi:
		snap.Apis = make([]v1alpha1.Api, 0, n)
	case kindRoute:
		snap.Routes = make([]v1alpha1.Route, 0, n)
	case kindStage:
		snap.Stages = make([]v1alpha1.Stage, 0, n)
	case kindAuthorizer:
		snap.Authorizers = make([]v1alpha1.Authorizer, 0, n)
	case kindUsagePlan:
		snap.UsagePlans = make([]v1alpha1.UsagePlan, 0, n)
	case kindService:
		snap.Services = make([]corev1.Service, 0, n)
	case kindEndpointSlice:
		snap.EndpointSlices = make([]discoveryv1.EndpointSlice, 0, n)
	case kindSecret:
		snap.Secrets = make([]corev1.Secret, 0, n)
	}
}

// indexOf finds seg among a's segments (a may be nil).
func (a *assembly) indexOf(seg *segment) (int, bool) {
	if a == nil {
		return 0, false
	}
	i, ok := a.index[seg]
	return i, ok
}

// lengths is the length of each of snap's slices.
func lengths(snap *translate.Snapshot) [numKinds]int {
	return [numKinds]int{len(snap.Apis), len(snap.Routes), len(snap.Stages), len(snap.Authorizers),
		len(snap.UsagePlans), len(snap.Services), len(snap.EndpointSlices), len(snap.Secrets)}
}

// nullEmpty sets snap's empty slices to nil but Routes, which is never nil,
// as snapshots were built before (controllers.Fingerprint encodes nil and
// empty slices differently).
func nullEmpty(snap *translate.Snapshot) *translate.Snapshot {
	snap.Apis, snap.Stages = nilIfEmpty(snap.Apis), nilIfEmpty(snap.Stages)
	snap.Authorizers, snap.UsagePlans = nilIfEmpty(snap.Authorizers), nilIfEmpty(snap.UsagePlans)
	snap.Services, snap.EndpointSlices, snap.Secrets = nilIfEmpty(snap.Services), nilIfEmpty(snap.EndpointSlices), nilIfEmpty(snap.Secrets)
	return snap
}

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

// appendRange appends n objects of kind k of from, starting at i, to snap.
func appendRange(snap, from *translate.Snapshot, k, i, n int) {
	switch k {
	case kindApi:
		snap.Apis = append(snap.Apis, from.Apis[i:i+n]...)
	case kindRoute:
		snap.Routes = append(snap.Routes, from.Routes[i:i+n]...)
	case kindStage:
		snap.Stages = append(snap.Stages, from.Stages[i:i+n]...)
	case kindAuthorizer:
		snap.Authorizers = append(snap.Authorizers, from.Authorizers[i:i+n]...)
	case kindUsagePlan:
		snap.UsagePlans = append(snap.UsagePlans, from.UsagePlans[i:i+n]...)
	case kindService:
		snap.Services = append(snap.Services, from.Services[i:i+n]...)
	case kindEndpointSlice:
		snap.EndpointSlices = append(snap.EndpointSlices, from.EndpointSlices[i:i+n]...)
	case kindSecret:
		snap.Secrets = append(snap.Secrets, from.Secrets[i:i+n]...)
	}
}

// appendObject adds a copy of p's object, with p's creationTimestamp, to the
// snapshot slice of its kind.
func appendObject(snap *translate.Snapshot, p placed) {
	switch o := p.obj.(type) {
	case *v1alpha1.Api:
		snap.Apis = append(snap.Apis, *o)
		snap.Apis[len(snap.Apis)-1].CreationTimestamp = p.created
	case *v1alpha1.Route:
		snap.Routes = append(snap.Routes, *o)
		snap.Routes[len(snap.Routes)-1].CreationTimestamp = p.created
	case *v1alpha1.Stage:
		snap.Stages = append(snap.Stages, *o)
		snap.Stages[len(snap.Stages)-1].CreationTimestamp = p.created
	case *v1alpha1.Authorizer:
		snap.Authorizers = append(snap.Authorizers, *o)
		snap.Authorizers[len(snap.Authorizers)-1].CreationTimestamp = p.created
	case *v1alpha1.UsagePlan:
		snap.UsagePlans = append(snap.UsagePlans, *o)
		snap.UsagePlans[len(snap.UsagePlans)-1].CreationTimestamp = p.created
	case *corev1.Service:
		snap.Services = append(snap.Services, *o)
		snap.Services[len(snap.Services)-1].CreationTimestamp = p.created
	case *corev1.Secret:
		snap.Secrets = append(snap.Secrets, *o)
		snap.Secrets[len(snap.Secrets)-1].CreationTimestamp = p.created
	case *discoveryv1.EndpointSlice:
		snap.EndpointSlices = append(snap.EndpointSlices, *o)
		snap.EndpointSlices[len(snap.EndpointSlices)-1].CreationTimestamp = p.created
	default:
		panic(fmt.Sprintf("standalone: object of unexpected type %T", p.obj))
	}
}

// sumsOf is the translate.ObjectSums of the snapshot of segs: the stamped
// sums of the five kinds in snapshot order, and one sum over the Services
// and Secrets (EndpointSlices are not read by the translation).
func sumsOf(segs []*segment) *translate.ObjectSums {
	var total [numSummedKinds]int
	for _, seg := range segs {
		for k := range total {
			total[k] += len(seg.sums[k])
		}
	}
	var by [numSummedKinds][][sha256.Size]byte
	for k := range by {
		if total[k] > 0 {
			by[k] = make([][sha256.Size]byte, 0, total[k])
		}
	}
	shared := sha256.New()
	for _, seg := range segs {
		for k := range by {
			by[k] = append(by[k], seg.sums[k]...)
		}
		for _, sum := range seg.shared {
			shared.Write(sum[:])
		}
	}
	out := &translate.ObjectSums{Apis: by[kindApi], Routes: by[kindRoute], Stages: by[kindStage],
		Authorizers: by[kindAuthorizer], UsagePlans: by[kindUsagePlan]}
	copy(out.Shared[:], shared.Sum(nil))
	return out
}

// sameObjects says whether two assemblies hold equal objects with equal
// timestamps in the same order. A segment of next that prev holds too
// covers the same positions with the same objects; the others are compared
// object by object (identical objects are equal, others are compared), so
// objects that only moved between files of equal order still count as
// equal.
func sameObjects(prev, next *assembly) bool {
	if prev.n != next.n {
		return false
	}
	cur := 0 // the segment of prev holding the position being compared
	for _, seg := range next.segs {
		if _, ok := prev.index[seg]; ok {
			continue
		}
		for j := range seg.objs {
			pos := seg.start + j
			for pos >= prev.segs[cur].start+len(prev.segs[cur].objs) {
				cur++
			}
			a, b := &prev.segs[cur].objs[pos-prev.segs[cur].start], &seg.objs[j]
			if !a.created.Equal(&b.created) || a.obj != b.obj && !equality.Semantic.DeepEqual(a.obj, b.obj) {
				return false
			}
		}
	}
	return true
}
