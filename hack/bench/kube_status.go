package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
)

// waitRouteStatus polls Route name in namespace bench (every 20 ms, up to
// 5 minutes) until the gateway has stored Ready=True for generation 1, and
// returns the time since start.
func waitRouteStatus(cl client.Client, name string, start time.Time) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for ctx.Err() == nil {
		r := &v1alpha1.Route{}
		if err := cl.Get(ctx, client.ObjectKey{Namespace: "bench", Name: name}, r); err == nil &&
			r.Status.ObservedGeneration >= 1 && meta.IsStatusConditionTrue(r.Status.Conditions, v1alpha1.ConditionReady) {
			return time.Since(start), nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return 0, fmt.Errorf("route %s: no Ready status within 5 minutes", name)
}

// metricValue is metricSum, or -1 when the gateway cannot be read.
func metricValue(addr, name string) float64 {
	v, err := metricSum(addr, name)
	if err != nil {
		return -1
	}
	return v
}

// profileKubeEdits saves a 20-s CPU profile of the gateway while Routes are
// applied one after the other (each waited for until it serves), and prints
// its top functions to stderr.
func profileKubeEdits(c config, p *proc, dir, kubeconfig, addr, admin string, port int) error {
	const seconds = 20
	done := make(chan error, 1)
	go func() {
		done <- fetch("http://"+admin+"/debug/pprof/profile?seconds="+strconv.Itoa(seconds), c.kubeProfile)
	}()
	deadline := time.Now().Add(seconds * time.Second)
	edits := 0
	for i := 1000; time.Now().Before(deadline); i++ {
		if _, _, err := kubectlApplyRoute(p, dir, kubeconfig, addr, port, i); err != nil {
			return err
		}
		edits++
	}
	if err := <-done; err != nil {
		return err
	}
	top, _ := exec.Command("go", "tool", "pprof", "-top", "-nodecount=40", c.turnpike, c.kubeProfile).CombinedOutput() //nolint:gosec // the harness's own files
	fmt.Fprintf(os.Stderr, "CPU profile of %d kubectl applies saved in %s\n%s\n", edits, c.kubeProfile, top)
	// And where the memory is: the heap after a forced GC, beside it.
	heap := strings.TrimSuffix(c.kubeProfile, ".cpu.pprof") + ".heap.pprof"
	if err := fetch("http://"+admin+"/debug/pprof/heap?gc=1", heap); err != nil {
		return err
	}
	top, _ = exec.Command("go", "tool", "pprof", "-top", "-sample_index=inuse_space", "-nodecount=30", c.turnpike, heap).CombinedOutput() //nolint:gosec // the harness's own files
	fmt.Fprintf(os.Stderr, "heap profile saved in %s\n%s\n", heap, top)
	return nil
}
