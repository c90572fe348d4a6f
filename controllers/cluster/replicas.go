package cluster

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/turnpike-io/turnpike/controllers"
	"github.com/turnpike-io/turnpike/dataplane/table"
)

// Replica Leases: how every replica says which configuration it serves.
const (
	// ReplicaLeasePrefix starts the name of every replica's Lease (in the
	// lease namespace); the rest is the replica's identity.
	ReplicaLeasePrefix = "turnpike-replica-"
	// ReplicaLabel marks replica Leases, so the leader lists only those.
	ReplicaLabel = "turnpike.io/replica"
	// ServedAnnotation holds a JSON object mapping "namespace/name" of every
	// Api the replica serves to ConfigHash of its table entry.
	ServedAnnotation = "turnpike.io/served"

	DefaultReplicaLeaseDuration = 30 * time.Second
	DefaultReplicaRenewPeriod   = 10 * time.Second
	DefaultReplicaPollPeriod    = 2 * time.Second
)

// Replicas reports which configuration this replica serves, for
// Api.status.dataplane. It wraps the dataplane the pipeline drives: every
// Swap goes to the dataplane first (serving is never delayed), then the
// per-Api hashes of the new table are recorded and written to this
// replica's Lease.
//
// Invariants:
//   - One Lease per process, ReplicaLeasePrefix + identity, created after
//     the first Swap (a replica without a table serves nothing and is not
//     counted), updated on every Swap (at most once per second) and renewed
//     every renew period; holderIdentity, renewTime and leaseDurationSeconds
//     follow leader-election semantics, so a Lease whose renewTime plus
//     duration has passed belongs to a replica that is gone.
//   - On a clean stop the Lease is deleted, so replicas drops at once; a
//     crashed replica drops out when its Lease expires, and the status leader
//     deletes Leases expired for more than another duration.
//   - Hashes depend only on the table, which the translator builds
//     deterministically, so two replicas serving the same configuration
//     publish the same hashes.
type Replicas struct {
	dp       controllers.Dataplane
	kube     kubernetes.Interface
	log      logr.Logger
	ns, name string
	identity string
	// peerAddress is published in the Lease (PeerAddressAnnotation).
	peerAddress string
	duration    time.Duration
	renew       time.Duration
	poll        time.Duration
	// keepOnStop leaves the Lease behind on stop, as a crash does (tests).
	keepOnStop bool
	// https: this replica has an HTTPS listener (ServedHashes).
	https bool
	// hashes memoizes ConfigHash across swaps; only Swap uses it (the
	// pipeline calls Swap from one goroutine at a time).
	hashes servedHashCache

	mu      sync.Mutex
	served  map[string]string // replaced, never mutated
	swapped bool
	signal  chan struct{}
	// problem says why the Lease cannot be written ("" when it can, or when
	// the last failure was transient); failing is set from the first failure
	// of a streak, so a streak is logged once.
	problem string
	failing bool
}

// Problem says why this replica cannot write its Lease, when only an
// operator can fix it (a missing namespace, no permission); "" otherwise.
func (r *Replicas) Problem() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.problem
}

// recordWrite logs the first failure of a streak (with what to do when the
// Lease namespace is the cause) and the recovery, not every retry.
func (r *Replicas) recordWrite(ctx context.Context, err error) {
	problem := ""
	if err != nil {
		problem = leaseProblem(ctx, r.kube, r.ns, r.name, replicaLeaseConsequence)
	}
	r.mu.Lock()
	wasFailing, prevProblem := r.failing, r.problem
	r.failing, r.problem = err != nil, problem
	r.mu.Unlock()
	switch {
	case err == nil && wasFailing:
		r.log.Info("the replica Lease is written again", "lease", r.ns+"/"+r.name)
	case err == nil:
	case problem != "" && problem != prevProblem:
		r.log.Info("WARNING: "+problem, "lease", r.ns+"/"+r.name)
	case !wasFailing && problem == "":
		r.log.Error(err, "cannot record the served configuration in the replica Lease; will retry", "lease", r.ns+"/"+r.name)
	}
}

// NewReplicas returns a Replicas that wraps dp; give it to the pipeline as
// its dataplane and to the StatusWriter (TrackReplicas), which runs it.
func NewReplicas(cfg *rest.Config, opts Options, dp controllers.Dataplane, log logr.Logger) (*Replicas, error) {
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("replicas: clientset: %w", err)
	}
	return newReplicas(opts.withDefaults(), kube, dp, log), nil
}

// newReplicas assembles a Replicas; opts must have its defaults.
func newReplicas(opts Options, kube kubernetes.Interface, dp controllers.Dataplane, log logr.Logger) *Replicas {
	return &Replicas{
		dp: dp, kube: kube, log: log,
		ns: opts.LeaseNamespace, name: ReplicaLeaseName(opts.Identity), identity: opts.Identity, peerAddress: opts.PeerAddress,
		duration: cmp.Or(opts.ReplicaLeaseDuration, DefaultReplicaLeaseDuration),
		renew:    cmp.Or(opts.ReplicaRenewPeriod, DefaultReplicaRenewPeriod),
		poll:     cmp.Or(opts.ReplicaPollPeriod, DefaultReplicaPollPeriod),
		signal:   make(chan struct{}, 1),
		https:    !opts.NoHTTPSListener,
	}
}

// ReplicaLeaseName is the Lease name of the replica with identity id: the
// prefix plus id lower-cased, with every character a Lease name cannot
// hold replaced by "-", at most 253 characters.
func ReplicaLeaseName(id string) string {
	b := []byte(strings.ToLower(id))
	for i, c := range b {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' && c != '.' {
			b[i] = '-'
		}
	}
	name := ReplicaLeasePrefix + strings.Trim(string(b), "-.")
	return strings.TrimRight(name[:min(len(name), 253)], "-.")
}

// ConfigHash is the hash of one Api as a replica serves it: its entry in the
// table (stages, routes, authorizers and plans) and its custom-domain
// mappings, each with its TLS settings and whether the replica serves it
// over HTTPS. 16 hex digits of a SHA-256 of their JSON.
func ConfigHash(a *table.Api, domains []ServedMapping) string {
	raw, err := json.Marshal(struct {
		Api     *table.Api      `json:"api"`
		Domains []ServedMapping `json:"domains,omitempty"`
	}{a, domains})
	if err != nil { // a table that cannot be encoded still differs from others
		raw = fmt.Appendf(nil, "unencodable %s/%s: %v", a.Namespace, a.Name, err)
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:8])
}

// ServedMapping is one custom-domain mapping to an Api as a replica serves
// it. HTTPS is false on a replica without an HTTPS listener, so two
// replicas whose listeners differ publish different hashes for an Api with
// TLS domains, and status.dataplane does not count both as up to date.
type ServedMapping struct {
	Hostname string     `json:"hostname"`
	BasePath string     `json:"basePath"`
	Stage    string     `json:"stage"`
	TLS      *table.TLS `json:"tls,omitempty"`
	HTTPS    bool       `json:"https"`
}

// ServedHashes maps "namespace/name" of every Api in t to its ConfigHash on
// a replica that has an HTTPS listener or not.
func ServedHashes(t *table.Table, httpsListener bool) map[string]string {
	var c servedHashCache
	return c.hashes(t, httpsListener)
}

// servedHashCache remembers the ConfigHash of every Api of the last table by
// its pointer. A published table is immutable and table.Merge shares the
// compiled Apis of unchanged parts with the next table, so an Api seen
// last time with the same domain mappings has the same hash: a swap after
// a one-Route change encodes one Api instead of all of them.
type servedHashCache struct {
	last map[*table.Api]cachedHash
}

type cachedHash struct {
	domains []ServedMapping
	hash    string
}

// hashes is ServedHashes, reusing the hashes of Apis of the last table.
func (c *servedHashCache) hashes(t *table.Table, httpsListener bool) map[string]string {
	domains := map[string][]ServedMapping{}
	for _, d := range t.Domains {
		for _, m := range d.Mappings {
			key := m.Namespace + "/" + m.Api
			domains[key] = append(domains[key], ServedMapping{Hostname: d.Hostname, BasePath: m.BasePath, Stage: m.Stage,
				TLS: d.TLS, HTTPS: httpsListener && d.TLS != nil})
		}
	}
	out := make(map[string]string, len(t.Apis))
	next := make(map[*table.Api]cachedHash, len(t.Apis))
	for _, a := range t.Apis {
		key := a.Namespace + "/" + a.Name
		h, ok := c.last[a]
		if !ok || !slices.Equal(h.domains, domains[key]) {
			h = cachedHash{domains: domains[key], hash: ConfigHash(a, domains[key])}
		}
		next[a], out[key] = h, h.hash
	}
	c.last = next
	return out
}

// Swap serves t, then records what this replica now serves.
func (r *Replicas) Swap(t *table.Table) {
	r.dp.Swap(t)
	if t == nil {
		return
	}
	served := r.hashes.hashes(t, r.https)
	r.mu.Lock()
	r.served, r.swapped = served, true
	r.mu.Unlock()
	select {
	case r.signal <- struct{}{}:
	default:
	}
}

// UpdateEndpoints passes endpoint sets on: endpoints are not configuration.
func (r *Replicas) UpdateEndpoints(sets table.EndpointSets) { r.dp.UpdateEndpoints(sets) }

// Served is this replica's map of Api "namespace/name" to ConfigHash (nil
// before the first Swap). The map is never modified; do not modify it.
func (r *Replicas) Served() map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.served
}

// Run keeps this replica's Lease current until ctx is done, then deletes it.
// Failed writes are logged and retried at the next renewal or Swap.
func (r *Replicas) Run(ctx context.Context) {
	renew := time.NewTicker(r.renew)
	defer renew.Stop()
	for {
		select {
		case <-ctx.Done():
			r.release()
			return
		case <-r.signal:
		case <-renew.C:
		}
		r.mu.Lock()
		served, swapped := r.served, r.swapped
		r.mu.Unlock()
		if !swapped {
			continue
		}
		if err := r.write(ctx, served); ctx.Err() == nil {
			r.recordWrite(ctx, err)
		}
		// Bound Lease writes under a burst of swaps; the last one still lands.
		select {
		case <-ctx.Done():
		case <-time.After(min(time.Second, r.renew/2)):
		}
	}
}

// write creates or updates the Lease with served and a fresh renewTime.
func (r *Replicas) write(ctx context.Context, served map[string]string) error {
	raw, err := json.Marshal(served)
	if err != nil {
		return err
	}
	leases := r.kube.CoordinationV1().Leases(r.ns)
	now := metav1.NewMicroTime(time.Now())
	secs := max(1, int32(r.duration/time.Second))
	lease, err := leases.Get(ctx, r.name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		lease = &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{
			Name: r.name, Namespace: r.ns, Labels: map[string]string{ReplicaLabel: "true"},
		}}
		setReplicaLease(lease, r.identity, string(raw), now, secs)
		setPeerAddress(lease, r.peerAddress)
		_, err = leases.Create(ctx, lease, metav1.CreateOptions{})
		return err
	}
	if err != nil {
		return err
	}
	setReplicaLease(lease, r.identity, string(raw), now, secs)
	setPeerAddress(lease, r.peerAddress)
	_, err = leases.Update(ctx, lease, metav1.UpdateOptions{})
	return err
}

func setReplicaLease(l *coordinationv1.Lease, identity, served string, now metav1.MicroTime, secs int32) {
	if l.Annotations == nil {
		l.Annotations = map[string]string{}
	}
	l.Annotations[ServedAnnotation] = served
	l.Spec.HolderIdentity = &identity
	l.Spec.LeaseDurationSeconds = &secs
	l.Spec.RenewTime = &now
	if l.Spec.AcquireTime == nil {
		l.Spec.AcquireTime = &now
	}
}

// release deletes the Lease on a clean stop (bounded by 5 seconds).
func (r *Replicas) release() {
	r.mu.Lock()
	swapped := r.swapped
	r.mu.Unlock()
	if r.keepOnStop || !swapped {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := r.kube.CoordinationV1().Leases(r.ns).Delete(ctx, r.name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		r.log.Error(err, "cannot delete the replica Lease; it expires on its own", "lease", r.ns+"/"+r.name)
	}
}

// Live lists the replica Leases that have not expired at now and returns
// what each serves. Leases expired for more than one more duration are
// deleted (their replica crashed; a replica that was only slow recreates
// its Lease at its next renewal). Only the status leader calls it.
func (r *Replicas) Live(ctx context.Context, now time.Time) ([]map[string]string, error) {
	leases := r.kube.CoordinationV1().Leases(r.ns)
	list, err := leases.List(ctx, metav1.ListOptions{LabelSelector: ReplicaLabel + "=true"})
	if err != nil {
		return nil, err
	}
	var live []map[string]string
	for i := range list.Items {
		l := &list.Items[i]
		expiry := leaseExpiry(l)
		switch {
		case now.Before(expiry):
			served := map[string]string{}
			if err := json.Unmarshal([]byte(l.Annotations[ServedAnnotation]), &served); err != nil {
				r.log.V(1).Info("replica Lease with an unreadable served annotation counts as serving nothing", "lease", l.Name)
			}
			live = append(live, served)
		case now.After(expiry.Add(r.duration)):
			err := leases.Delete(ctx, l.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{ResourceVersion: &l.ResourceVersion}})
			if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
				r.log.Error(err, "cannot delete an expired replica Lease", "lease", l.Name)
			}
		}
	}
	return live, nil
}

// leaseExpiry is renewTime plus leaseDurationSeconds (the zero time when
// either is missing: such a Lease counts as expired).
func leaseExpiry(l *coordinationv1.Lease) time.Time {
	if l.Spec.RenewTime == nil || l.Spec.LeaseDurationSeconds == nil {
		return time.Time{}
	}
	return l.Spec.RenewTime.Add(time.Duration(*l.Spec.LeaseDurationSeconds) * time.Second)
}
