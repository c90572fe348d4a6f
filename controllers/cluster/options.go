// Package cluster is the in-cluster source of the gateway (`turnpike serve`):
// watches on the API server (client-go Reflectors, watch.go) feed the shared
// controllers.Pipeline, and a leader-elected StatusWriter writes the
// conditions back.
//
// Invariants:
//   - Every replica watches and translates: nothing here waits for leadership,
//     and losing the status lease (for example during an API-server outage)
//     never stops the dataplane or the process.
//   - No snapshot is built before every watch, the two Secret watches
//     included, has listed its resource, so the first table is complete and a
//     fresh replica is not ready before it has one.
//   - The watches' stores survive API-server outages; relists replace their
//     contents at once, and unchanged snapshots are skipped, so an outage
//     never empties the table. After an outage every watch retries at least
//     once a second, so edits apply within seconds of the API server's return.
//   - Secrets are watched once per type read (TLS, API keys, AWS
//     credentials), filtered by type; API-key values are replaced by their
//     SHA-256 before they are stored.
package cluster

import (
	"cmp"
	"fmt"
	"os"
	"time"

	"k8s.io/apimachinery/pkg/util/uuid"
)

// Defaults of Options.
const (
	DefaultLeaseName      = "turnpike-status"
	DefaultLeaseNamespace = "turnpike-system"
	DefaultHoldOff        = 50 * time.Millisecond
	DefaultMaxDelay       = 500 * time.Millisecond
	DefaultLeaseDuration  = 15 * time.Second
	DefaultRenewDeadline  = 10 * time.Second
	DefaultRetryPeriod    = 2 * time.Second
)

// Options configure the cluster source and the status writer.
type Options struct {
	// Namespace restricts every watch to one namespace; "" watches all.
	Namespace string
	// LeaderElect makes the StatusWriter write only while it holds the Lease
	// LeaseNamespace/LeaseName. When false it always writes (one replica).
	LeaderElect bool
	// LeaseNamespace defaults to $POD_NAMESPACE, then DefaultLeaseNamespace.
	LeaseNamespace string
	// LeaseName defaults to DefaultLeaseName.
	LeaseName string
	// Identity of this replica in both its Leases; defaults to NewIdentity()
	// (set it once per process: each default is a new random id).
	Identity string
	// LeaseDuration, RenewDeadline and RetryPeriod tune leader election
	// (client-go semantics); zero means the Default* values.
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	// HoldOff is how long the source waits after an event for more events
	// before building a snapshot; MaxDelay bounds the wait under a steady
	// stream of events. Zero means DefaultHoldOff / DefaultMaxDelay.
	HoldOff, MaxDelay time.Duration
	// NoHTTPSListener: this replica runs without an HTTPS listener; its
	// replica Lease says so, so status.dataplane does not count it as
	// serving the Apis that have TLS domains like a replica that has one.
	NoHTTPSListener bool
	// ReplicaLeaseDuration is how long a replica Lease (replicas.go) stays
	// valid without renewal, ReplicaRenewPeriod how often it is renewed, and
	// ReplicaPollPeriod how often the status leader reads them. Zero means
	// the DefaultReplica* values.
	ReplicaLeaseDuration, ReplicaRenewPeriod, ReplicaPollPeriod time.Duration
	// PeerAddress is the host:port at which the other replicas reach this
	// one's HTTP listener (WebSocket @connections forwarding, peers.go); it
	// is published in the replica Lease. Empty publishes none.
	PeerAddress string
	// Sums, when set, is given every snapshot's per-object fingerprints
	// before the snapshot is applied; pass its Fingerprint and Of to the
	// pipeline (controllers.WithFingerprint, controllers.IncrementalTranslate)
	// so that a change costs what the changed Apis cost.
	Sums *Sums
}

// NewIdentity is a replica identity: hostname_uuid. A process makes one and
// uses it for both its Leases (status and replica), so Options passed to
// NewStatusWriter and NewReplicas must share it.
func NewIdentity() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s_%s", cmp.Or(host, "turnpike"), uuid.NewUUID())
}

// withDefaults fills the zero fields of o.
func (o Options) withDefaults() Options {
	o.LeaseNamespace = cmp.Or(o.LeaseNamespace, os.Getenv("POD_NAMESPACE"), DefaultLeaseNamespace)
	o.LeaseName = cmp.Or(o.LeaseName, DefaultLeaseName)
	if o.Identity == "" {
		o.Identity = NewIdentity()
	}
	o.LeaseDuration = cmp.Or(o.LeaseDuration, DefaultLeaseDuration)
	o.RenewDeadline = cmp.Or(o.RenewDeadline, DefaultRenewDeadline)
	o.RetryPeriod = cmp.Or(o.RetryPeriod, DefaultRetryPeriod)
	o.HoldOff = cmp.Or(o.HoldOff, DefaultHoldOff)
	o.MaxDelay = max(cmp.Or(o.MaxDelay, DefaultMaxDelay), o.HoldOff)
	return o
}
