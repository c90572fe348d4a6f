package translate

import (
	"cmp"
	"container/heap"
	"crypto/sha256"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

// ObjectSums fingerprints the objects of one Snapshot for Incremental. Each
// slice is index-aligned with the Snapshot slice of its kind. A sum must
// change whenever anything the translation reads of the object changes
// (metadata including creationTimestamp, spec, stored status conditions);
// Shared must change whenever Services, EndpointSlices or Secrets change,
// which every part of the translation may read.
type ObjectSums struct {
	Apis, Routes, Stages, Authorizers, UsagePlans [][sha256.Size]byte
	Shared                                        [sha256.Size]byte
}

// Incremental translates snapshots one part at a time and reuses the result
// of every part whose input did not change since the last call.
//
// A part is a set of Api groups (an Api with the Stages, Routes and
// Authorizers that name it) closed under every coupling the translator has
// between groups: UsagePlans join the groups of their apiStages (key claims,
// plan links), all Stages with custom domains share one part (hostname
// claims are global), and Apis whose default hosts collide share one part.
// Within a part Translate runs unchanged, so each part's result is the full
// translation restricted to it; table.Merge then shares the parts' compiled
// Apis without touching them.
//
// Time: a part's result is reused at another Options.Now only when both
// times are set, the new one is later and the part's NextChange is zero
// (nothing in it depends on time); options other than Now that differ from
// the last call drop every memo.
//
// Incremental is not safe for concurrent use. Its results are immutable and
// may share structure with earlier results.
type Incremental struct {
	opts Options
	memo map[[sha256.Size]byte]memoEntry
	// merge keeps the last merged statuses for the next call.
	merge statusMerge
	// Reused and Translated count the parts of the last call (tests, bench).
	Reused, Translated int
}

// memoEntry is one part's result and the Now it was computed at.
type memoEntry struct {
	res Result
	now time.Time
}

// Translate returns what Translate(s, o) returns, reusing unchanged parts.
// sums must describe s (ObjectSums).
func (in *Incremental) Translate(s *Snapshot, sums *ObjectSums, o Options) Result {
	if in.memo == nil || !sameOptions(in.opts, o) {
		in.memo = map[[sha256.Size]byte]memoEntry{}
	}
	in.opts = o
	in.Reused, in.Translated = 0, 0
	parts := partition(s, o)
	next := make(map[[sha256.Size]byte]memoEntry, len(parts))
	tables := make([]*table.Table, 0, len(parts))
	runs := make([][]ObjectStatus, 0, len(parts))
	keys := make([][sha256.Size]byte, 0, len(parts))
	translated := make([]bool, 0, len(parts))
	var errs []error
	var nextChange time.Time
	for _, p := range parts {
		key := p.sum(sums)
		e, ok := in.memo[key]
		fresh := !ok || !reusable(e, o.Now)
		if fresh {
			e = memoEntry{res: Translate(p.snapshot(s), o), now: o.Now}
			in.Translated++
		} else {
			in.Reused++
		}
		keys, translated = append(keys, key), append(translated, fresh)
		next[key] = e
		tables = append(tables, e.res.Table)
		runs = append(runs, e.res.Statuses)
		errs = append(errs, e.res.Err)
		if c := e.res.NextChange; !c.IsZero() && (nextChange.IsZero() || c.Before(nextChange)) {
			nextChange = c
		}
	}
	in.memo = next
	t, err := table.Merge(tables)
	statuses := in.merge.merge(keys, runs, translated)
	return Result{Table: t, Statuses: statuses, NextChange: nextChange, Err: errors.Join(append(errs, err)...)}
}

// statusMerge merges the parts' statuses (each run sorted as
// Result.Statuses) into one sorted slice, and keeps the result with the
// part each status came from. The next merge then copies, in order, the
// statuses of the parts it reuses and merges only the translated parts'
// statuses into them: one pass with a comparison per status, instead of a
// k-way merge over 100 parts (a heap fix per status), when one part of
// 100,000 statuses changed. The slices it returns are never written again.
type statusMerge struct {
	statuses []ObjectStatus
	owner    []int32             // index into keys of each status's part
	keys     [][sha256.Size]byte // the parts' memo keys
}

// merge merges runs (the statuses of the parts with memo keys keys;
// translated says which were translated in this call) and remembers it.
func (m *statusMerge) merge(keys [][sha256.Size]byte, runs [][]ObjectStatus, translated []bool) []ObjectStatus {
	total, fresh := 0, 0
	for i, r := range runs {
		total += len(r)
		if translated[i] {
			fresh++
		}
	}
	var out []ObjectStatus
	var owner []int32
	if m.statuses != nil && fresh <= len(runs)/4 {
		out, owner = m.patch(keys, runs, translated, total)
	}
	if out == nil || len(out) != total { // first call, many parts translated, or a part key seen twice
		out, owner = mergeRuns(runs, func(int) bool { return true }, total)
	}
	m.statuses, m.owner, m.keys = out, owner, keys
	return out
}

// patch merges the last statuses of the parts reused now with the
// statuses of the translated parts.
func (m *statusMerge) patch(keys [][sha256.Size]byte, runs [][]ObjectStatus, translated []bool, total int) ([]ObjectStatus, []int32) {
	now := make(map[[sha256.Size]byte]int32, len(keys))
	for i, k := range keys {
		if !translated[i] {
			now[k] = int32(i)
		}
	}
	remap := make([]int32, len(m.keys)) // last part index → this call's, or -1
	for i, k := range m.keys {
		remap[i] = -1
		if j, ok := now[k]; ok {
			remap[i] = j
		}
	}
	newStatuses, newOwner := mergeRuns(runs, func(i int) bool { return translated[i] }, 0)
	out, owner := make([]ObjectStatus, 0, total), make([]int32, 0, total)
	j := 0
	for i := range m.statuses {
		part := remap[m.owner[i]]
		if part < 0 {
			continue
		}
		for j < len(newStatuses) && statusBefore(&newStatuses[j], &m.statuses[i]) {
			out, owner = append(out, newStatuses[j]), append(owner, newOwner[j])
			j++
		}
		out, owner = append(out, m.statuses[i]), append(owner, part)
	}
	return append(out, newStatuses[j:]...), append(owner, newOwner[j:]...)
}

// mergeRuns k-way merges the runs use selects, with each status's run index.
func mergeRuns(runs [][]ObjectStatus, use func(int) bool, total int) ([]ObjectStatus, []int32) {
	h := make(statusHeap, 0, len(runs))
	for i, r := range runs {
		if len(r) > 0 && use(i) {
			h = append(h, statusRun{r, int32(i)})
		}
	}
	heap.Init(&h)
	out, owner := make([]ObjectStatus, 0, total), make([]int32, 0, total)
	for len(h) > 0 {
		out, owner = append(out, h[0].statuses[0]), append(owner, h[0].part)
		if h[0].statuses = h[0].statuses[1:]; len(h[0].statuses) == 0 {
			heap.Pop(&h)
		} else {
			heap.Fix(&h, 0)
		}
	}
	return out, owner
}

// statusBefore orders statuses as Result.Statuses: kind, namespace, name.
func statusBefore(a, b *ObjectStatus) bool {
	return a.Compare(&b.ObjectRef) < 0
}

// statusRun is the rest of one part's sorted statuses.
type statusRun struct {
	statuses []ObjectStatus
	part     int32
}

// statusHeap orders non-empty runs by their first status.
type statusHeap []statusRun

func (h statusHeap) Len() int           { return len(h) }
func (h statusHeap) Less(i, j int) bool { return statusBefore(&h[i].statuses[0], &h[j].statuses[0]) }
func (h statusHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *statusHeap) Push(x any)        { *h = append(*h, x.(statusRun)) }
func (h *statusHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// reusable says whether a result computed at e.now holds at now: at the
// same time, or at any later time when nothing in the part depends on time
// (NextChange zero with a clock set). A part with a pending NextChange is
// translated again at every other Now: a grace period that starts without a
// stored status starts at Now, so its deadline moves with Now.
func reusable(e memoEntry, now time.Time) bool {
	if e.now.Equal(now) {
		return true
	}
	return !e.now.IsZero() && !now.IsZero() && now.After(e.now) && e.res.NextChange.IsZero()
}

// sameOptions compares every option but Now.
func sameOptions(a, b Options) bool {
	return a.DefaultDomain == b.DefaultDomain && a.SharedLimits == b.SharedLimits &&
		a.GracePeriod == b.GracePeriod && a.NoHTTPSListener == b.NoHTTPSListener &&
		slices.Equal(a.DenyEgress, b.DenyEgress)
}

// part is the indexes, per kind, of the objects of one part, in snapshot
// order.
type part struct {
	apis, routes, stages, authorizers, plans []int
}

// sum fingerprints the part's input: its objects' sums by kind and the
// shared objects.
func (p *part) sum(sums *ObjectSums) [sha256.Size]byte {
	h := sha256.New()
	h.Write(sums.Shared[:])
	for k, idx := range [][]int{p.apis, p.routes, p.stages, p.authorizers, p.plans} {
		of := [][][sha256.Size]byte{sums.Apis, sums.Routes, sums.Stages, sums.Authorizers, sums.UsagePlans}[k]
		h.Write([]byte{byte(k), 0xff})
		for _, i := range idx {
			h.Write(of[i][:])
		}
	}
	var out [sha256.Size]byte
	copy(out[:], h.Sum(nil))
	return out
}

// snapshot is the part's Snapshot: its objects and every shared object.
func (p *part) snapshot(s *Snapshot) *Snapshot {
	return &Snapshot{
		Apis: pick(s.Apis, p.apis), Routes: pick(s.Routes, p.routes), Stages: pick(s.Stages, p.stages),
		Authorizers: pick(s.Authorizers, p.authorizers), UsagePlans: pick(s.UsagePlans, p.plans),
		Services: s.Services, EndpointSlices: s.EndpointSlices, Secrets: s.Secrets,
	}
}

func pick[T any](all []T, idx []int) []T {
	out := make([]T, len(idx))
	for j, i := range idx {
		out[j] = all[i]
	}
	return out
}

// groupKey names an Api group: the namespace and the Api name that the
// group's objects name (or, for a UsagePlan, a name no Api can have).
type groupKey struct{ ns, api string }

// domainsGroup is the group every Stage with custom domains joins.
var domainsGroup = groupKey{ns: "\x00domains"}

// partition splits s into parts (see Incremental), ordered by the first
// group key of each part so that results do not depend on map order.
func partition(s *Snapshot, o Options) []*part {
	g := &groups{ids: map[groupKey]int{}}
	apis := g.assign(len(s.Apis), func(i int) groupKey { return groupKey{s.Apis[i].Namespace, s.Apis[i].Name} })
	routes := g.assign(len(s.Routes), func(i int) groupKey { return groupKey{s.Routes[i].Namespace, s.Routes[i].Spec.ApiName} })
	stages := g.assign(len(s.Stages), func(i int) groupKey { return groupKey{s.Stages[i].Namespace, s.Stages[i].Spec.ApiName} })
	auths := g.assign(len(s.Authorizers), func(i int) groupKey {
		return groupKey{s.Authorizers[i].Namespace, s.Authorizers[i].Spec.ApiName}
	})
	plans := g.assign(len(s.UsagePlans), func(i int) groupKey { return groupKey{s.UsagePlans[i].Namespace, "\x00plan/" + s.UsagePlans[i].Name} })
	g.coupleHosts(s, apis, cmp.Or(strings.ToLower(o.DefaultDomain), DefaultDomain))
	for i := range s.Stages {
		if len(s.Stages[i].Spec.Domains) > 0 {
			g.union(stages[i], g.id(domainsGroup))
		}
	}
	for i := range s.UsagePlans {
		for _, as := range s.UsagePlans[i].Spec.ApiStages {
			g.union(plans[i], g.id(groupKey{s.UsagePlans[i].Namespace, as.ApiName}))
		}
	}
	return g.parts(apis, routes, stages, auths, plans)
}

// coupleHosts joins the groups of Apis whose default endpoint hosts are
// equal (the older one keeps the host, which is decided within a part).
func (g *groups) coupleHosts(s *Snapshot, apis []int, domain string) {
	hosts := make(map[string]int, len(s.Apis))
	for i := range s.Apis {
		a := &s.Apis[i]
		h := strings.ToLower(a.Name + "." + a.Namespace + "." + domain)
		if prev, ok := hosts[h]; ok {
			g.union(prev, apis[i])
			continue
		}
		hosts[h] = apis[i]
	}
}

// groups is a union-find over group keys.
type groups struct {
	ids    map[groupKey]int
	keys   []groupKey
	parent []int
}

func (g *groups) id(k groupKey) int {
	if id, ok := g.ids[k]; ok {
		return id
	}
	id := len(g.parent)
	g.ids[k] = id
	g.keys = append(g.keys, k)
	g.parent = append(g.parent, id)
	return id
}

// assign returns the group id of each of n objects.
func (g *groups) assign(n int, key func(int) groupKey) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = g.id(key(i))
	}
	return out
}

func (g *groups) find(x int) int {
	for g.parent[x] != x {
		g.parent[x] = g.parent[g.parent[x]]
		x = g.parent[x]
	}
	return x
}

func (g *groups) union(a, b int) {
	if ra, rb := g.find(a), g.find(b); ra != rb {
		g.parent[max(ra, rb)] = min(ra, rb)
	}
}

// parts collects the objects of each part by kind, in snapshot order, and
// orders the parts by their smallest group key.
func (g *groups) parts(kinds ...[]int) []*part {
	ofGroup := make([]*part, len(g.parent)) // group id -> its part
	first := map[*part]groupKey{}
	var out []*part
	for id := range g.parent {
		r := g.find(id)
		if ofGroup[r] == nil {
			ofGroup[r] = &part{}
			out = append(out, ofGroup[r])
			first[ofGroup[r]] = g.keys[id]
		}
		p := ofGroup[r]
		ofGroup[id] = p
		if less(g.keys[id], first[p]) {
			first[p] = g.keys[id]
		}
	}
	for k, ids := range kinds {
		for i, group := range ids {
			p := ofGroup[group]
			switch k {
			case 0:
				p.apis = append(p.apis, i)
			case 1:
				p.routes = append(p.routes, i)
			case 2:
				p.stages = append(p.stages, i)
			case 3:
				p.authorizers = append(p.authorizers, i)
			default:
				p.plans = append(p.plans, i)
			}
		}
	}
	slices.SortFunc(out, func(a, b *part) int {
		return cmp.Or(strings.Compare(first[a].ns, first[b].ns), strings.Compare(first[a].api, first[b].api))
	})
	return out
}

func less(a, b groupKey) bool { return a.ns < b.ns || a.ns == b.ns && a.api < b.api }
