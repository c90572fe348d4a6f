package main

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/turnpike-io/turnpike/dataplane"
	"github.com/turnpike-io/turnpike/dataplane/table"
)

// TestSwapBuildersServeHelloAndAlternate checks what the swap test relies
// on, for both build modes: every table serves GET /prod/hello on apiHost
// with swapRoutes+1 routes, consecutive tables route /r1/x/y differently
// (literal vs greedy generations), and the merge mode shares the unchanged
// Apis between tables instead of building them again.
func TestSwapBuildersServeHelloAndAlternate(t *testing.T) {
	for _, mode := range []string{swapFresh, swapMerge} {
		build, err := swapBuilder(mode)
		if err != nil {
			t.Fatal(err)
		}
		var prev *table.Table
		for gen := range 4 {
			tb, err := build(gen)
			if err != nil {
				t.Fatalf("%s gen %d: %v", mode, gen, err)
			}
			if n := tb.RouteCount(); n != swapRoutes+1 {
				t.Errorf("%s gen %d: %d routes, want %d", mode, gen, n, swapRoutes+1)
			}
			st := tb.ApiForHost(apiHost).Stage("prod")
			if r := st.Lookup("GET", []string{"hello"}); r == nil || r.Key != "GET /hello" {
				t.Errorf("%s gen %d: GET /hello matched %v", mode, gen, r)
			}
			greedy := st.Lookup("GET", []string{"r1", "x", "y"}) != nil
			if greedy != (gen%2 == 1) {
				t.Errorf("%s gen %d: /r1/x/y matched = %v", mode, gen, greedy)
			}
			if mode == swapMerge && prev != nil {
				if len(tb.Apis) != swapParts {
					t.Fatalf("merge: %d Apis, want %d", len(tb.Apis), swapParts)
				}
				for i, a := range tb.Apis {
					if shared := a == prev.Apis[i]; shared != (a.Name != "bench") {
						t.Errorf("merge gen %d: Api %s shared with the last table = %v", gen, a.Name, shared)
					}
				}
			}
			prev = tb
		}
	}
	if _, err := swapBuilder("nope"); err == nil {
		t.Error("an unknown build mode was accepted")
	}
}

// BenchmarkSwapBuild is the cost of making one swap's table per mode.
func BenchmarkSwapBuild(b *testing.B) {
	for _, mode := range []string{swapFresh, swapMerge} {
		b.Run(mode, func(b *testing.B) {
			build, err := swapBuilder(mode)
			if err != nil {
				b.Fatal(err)
			}
			gen := 0
			for b.Loop() {
				if _, err := build(gen); err != nil {
					b.Fatal(err)
				}
				gen++
			}
		})
	}
}

// BenchmarkServerSwap is the cost of dataplane.Server.Swap alone, between
// tables of consecutive generations of each mode.
func BenchmarkServerSwap(b *testing.B) {
	for _, mode := range []string{swapFresh, swapMerge} {
		b.Run(mode, func(b *testing.B) {
			s := dataplane.NewServer(dataplane.Options{
				Logger: logr.Discard(), AccessLog: io.Discard, Metrics: prometheus.NewRegistry(),
			})
			build, err := swapBuilder(mode)
			if err != nil {
				b.Fatal(err)
			}
			var tables []*table.Table
			for gen := range 2 {
				tb, err := build(gen)
				if err != nil {
					b.Fatal(err)
				}
				tables = append(tables, tb)
			}
			gen := 0
			for b.Loop() {
				s.Swap(tables[gen%2])
				gen++
			}
		})
	}
}

// TestSwapBudgetNeedsRateAndNoFailure checks the swap budget's verdict: it
// holds only with no failed request and at least 95% of the asked rate.
func TestSwapBudgetNeedsRateAndNoFailure(t *testing.T) {
	ok := swapResult{Mode: swapMerge, SwapPerSec: 1000, Swaps: 24000, Duration: 24 * time.Second}
	slow := ok
	slow.Swaps = 5833
	failed := ok
	failed.Closed.StatusErrors = 1
	r := &results{Swaps: []swapResult{ok, slow, failed}}
	rows := r.swapBudgets(func(b bool) string { return map[bool]string{true: "yes", false: "NO"}[b] })
	for i, want := range []string{"| yes", "| NO", "| NO"} {
		if !strings.HasSuffix(rows[i].measured, want) {
			t.Errorf("row %d: %q, want it to end with %q", i, rows[i].measured, want)
		}
	}
	if !strings.Contains(rows[0].name, "1000 swaps/s (merge)") {
		t.Errorf("budget name %q", rows[0].name)
	}
	var b strings.Builder
	r.writeSwap(&b)
	if row := "| 1000/s | merge | 5833 | 243/s |"; !strings.Contains(b.String(), row) {
		t.Errorf("swap section lacks %q:\n%s", row, b.String())
	}
}
