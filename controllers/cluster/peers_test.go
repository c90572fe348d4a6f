package cluster

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

// Serve mode's WebSocket peers: every replica publishes its peer address in
// its replica Lease, and LeasePeers (read by every replica) lists the live
// ones: a replica that stops cleanly leaves at once, a crashed one when its
// Lease expires.
func TestLeasePeersListTheLiveReplicasAddresses(t *testing.T) {
	requireEnv(t)
	ns := newNamespace(t)
	start := func(id, addr string, keep bool) context.CancelFunc {
		opts := Options{LeaseNamespace: ns, Identity: id, PeerAddress: addr,
			ReplicaLeaseDuration: 2 * time.Second, ReplicaRenewPeriod: 300 * time.Millisecond}
		rep, err := NewReplicas(restCfg, opts, &recordingDataplane{}, testLogger())
		require.NoError(t, err)
		rep.keepOnStop = keep
		rep.Swap(&table.Table{})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { rep.Run(ctx); close(done) }()
		stop := func() { cancel(); <-done }
		t.Cleanup(stop)
		return stop
	}
	stopA := start("replica-a", "10.0.0.1:8080", false)
	stopB := start("replica-b", "10.0.0.2:8080", true)
	start("replica-c", "", false) // publishes no address

	peers, err := NewLeasePeers(restCfg, Options{LeaseNamespace: ns})
	require.NoError(t, err)
	peers.ttl = 0
	addrs := func() []string {
		a, err := peers.Addresses(context.Background())
		require.NoError(t, err)
		return a
	}
	require.Eventually(t, func() bool { return slices.Equal(addrs(), []string{"10.0.0.1:8080", "10.0.0.2:8080"}) },
		20*time.Second, 100*time.Millisecond, "both addresses are listed")

	stopA() // clean stop: its Lease is deleted
	require.Equal(t, []string{"10.0.0.2:8080"}, addrs())
	stopB() // a crash: its Lease stays until it expires
	require.Equal(t, []string{"10.0.0.2:8080"}, addrs())
	require.Eventually(t, func() bool { return len(addrs()) == 0 }, 10*time.Second, 100*time.Millisecond, "the crashed replica's Lease expires")
}
