package cluster

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// PeerAddressAnnotation holds, on a replica Lease, the host:port at which
// the other replicas reach that replica's HTTP listener: WebSocket
// @connections calls for a connection it owns are forwarded there
// (dataplane/websocket).
const PeerAddressAnnotation = "turnpike.io/peer-address"

// DefaultPeerCacheTTL is how long LeasePeers reuses a listing.
const DefaultPeerCacheTTL = 2 * time.Second

// LeasePeers lists the peer addresses of the live replicas from their
// Leases (websocket.Peers). Every replica reads them, not only the status
// leader; a listing is reused for a short while, so a burst of forwarded
// calls costs one API request.
type LeasePeers struct {
	kube kubernetes.Interface
	ns   string
	ttl  time.Duration
	now  func() time.Time

	mu    sync.Mutex
	at    time.Time
	addrs []string
}

// NewLeasePeers reads the replica Leases of opts.LeaseNamespace.
func NewLeasePeers(cfg *rest.Config, opts Options) (*LeasePeers, error) {
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("peers: clientset: %w", err)
	}
	return newLeasePeers(kube, opts.withDefaults().LeaseNamespace), nil
}

func newLeasePeers(kube kubernetes.Interface, ns string) *LeasePeers {
	return &LeasePeers{kube: kube, ns: ns, ttl: DefaultPeerCacheTTL, now: time.Now}
}

// Addresses returns the peer addresses of the replica Leases that have not
// expired, sorted.
func (p *LeasePeers) Addresses(ctx context.Context) ([]string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if p.addrs != nil && now.Sub(p.at) < p.ttl {
		return p.addrs, nil
	}
	list, err := p.kube.CoordinationV1().Leases(p.ns).List(ctx, metav1.ListOptions{LabelSelector: ReplicaLabel + "=true"})
	if err != nil {
		return nil, fmt.Errorf("list replica Leases: %w", err)
	}
	addrs := []string{}
	for i := range list.Items {
		l := &list.Items[i]
		if a := l.Annotations[PeerAddressAnnotation]; a != "" && now.Before(leaseExpiry(l)) {
			addrs = append(addrs, a)
		}
	}
	slices.Sort(addrs)
	p.addrs, p.at = addrs, now
	return addrs, nil
}

// setPeerAddress publishes addr on a replica Lease ("" removes it).
func setPeerAddress(l *coordinationv1.Lease, addr string) {
	if addr == "" {
		delete(l.Annotations, PeerAddressAnnotation)
		return
	}
	if l.Annotations == nil {
		l.Annotations = map[string]string{}
	}
	l.Annotations[PeerAddressAnnotation] = addr
}
