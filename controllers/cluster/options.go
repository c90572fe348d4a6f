// Package cluster is the in-cluster source of the gateway (`turnpike serve`):
// informers on the API server feed the shared controllers.Pipeline, and a
// leader-elected StatusWriter writes the conditions back.
//
// Invariants:
//   - Every replica watches and translates: nothing here waits for leadership,
//     and losing the status lease (for example during an API-server outage)
//     never stops the dataplane or the process.
//   - No snapshot is built before every informer, the Secret informers
//     included, has synced, so the first table is complete and a fresh replica
//     is not ready before it has one.
//   - Informer caches survive API-server outages; relists only produce events,
//     and unchanged snapshots are skipped, so an outage never empties the table.
//   - Secrets are cached through one informer per type read (TLS, API keys,
//     AWS credentials); API-key values are replaced by their SHA-256 in the
//     informer transform.
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
	// Identity of this replica in the Lease; defaults to hostname_uuid.
	Identity string
	// LeaseDuration, RenewDeadline and RetryPeriod tune leader election
	// (client-go semantics); zero means the Default* values.
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	// HoldOff is how long the source waits after an event for more events
	// before building a snapshot; MaxDelay bounds the wait under a steady
	// stream of events. Zero means DefaultHoldOff / DefaultMaxDelay.
	HoldOff, MaxDelay time.Duration
	// ReplicaLeaseDuration is how long a replica Lease (replicas.go) stays
	// valid without renewal, ReplicaRenewPeriod how often it is renewed, and
	// ReplicaPollPeriod how often the status leader reads them. Zero means
	// the DefaultReplica* values.
	ReplicaLeaseDuration, ReplicaRenewPeriod, ReplicaPollPeriod time.Duration
	// PeerAddress is the host:port at which the other replicas reach this
	// one's HTTP listener (WebSocket @connections forwarding, peers.go); it
	// is published in the replica Lease. Empty publishes none.
	PeerAddress string
}

// withDefaults fills the zero fields of o.
func (o Options) withDefaults() Options {
	o.LeaseNamespace = cmp.Or(o.LeaseNamespace, os.Getenv("POD_NAMESPACE"), DefaultLeaseNamespace)
	o.LeaseName = cmp.Or(o.LeaseName, DefaultLeaseName)
	if o.Identity == "" {
		host, _ := os.Hostname()
		o.Identity = fmt.Sprintf("%s_%s", cmp.Or(host, "turnpike"), uuid.NewUUID())
	}
	o.LeaseDuration = cmp.Or(o.LeaseDuration, DefaultLeaseDuration)
	o.RenewDeadline = cmp.Or(o.RenewDeadline, DefaultRenewDeadline)
	o.RetryPeriod = cmp.Or(o.RetryPeriod, DefaultRetryPeriod)
	o.HoldOff = cmp.Or(o.HoldOff, DefaultHoldOff)
	o.MaxDelay = max(cmp.Or(o.MaxDelay, DefaultMaxDelay), o.HoldOff)
	return o
}
