package main

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"

	"github.com/KimMachineGun/automemlimit/memlimit"
	"github.com/go-logr/logr"
)

// limitedGCPercent is GOGC when a memory limit is in force and GOGC is not
// set: at the default 100 the collector costs about a tenth of a proxied
// request's CPU (docs/benchmarks.md); a larger heap target cuts that, and the
// memory limit keeps the heap from outgrowing the container.
const limitedGCPercent = 400

// memLimitRatio is the share of the container's memory limit given to the Go
// heap (GOMEMLIMIT); the rest is for stacks, buffers in the kernel's
// accounting and headroom.
const memLimitRatio = 0.9

// tuneRuntime sizes the Go runtime to its container, once at start:
//   - GOMAXPROCS: Go (1.25 and later) follows the cgroup CPU limit and the
//     CPU affinity by itself and updates it when they change; nothing to do.
//   - GOMEMLIMIT: unless set in the environment, 90% of the cgroup memory
//     limit when there is one.
//   - GOGC: unless set in the environment, 400 while a memory limit is in
//     force (from the cgroup or GOMEMLIMIT); otherwise Go's default 100.
//
// What it chose goes to the start-up log.
func tuneRuntime(log logr.Logger) {
	if os.Getenv("GOMEMLIMIT") == "" {
		_, err := memlimit.SetGoMemLimitWithOpts(
			memlimit.WithRatio(memLimitRatio),
			memlimit.WithProvider(memlimit.FromCgroup),
		)
		if err != nil {
			log.V(1).Info("no cgroup memory limit found; GOMEMLIMIT not set", "reason", err.Error())
		}
	}
	limit := debug.SetMemoryLimit(-1) // reads the current value
	limited := limit != math.MaxInt64
	gc := "GOGC from the environment"
	if os.Getenv("GOGC") == "" {
		if limited {
			debug.SetGCPercent(limitedGCPercent)
			gc = strconv.Itoa(limitedGCPercent) + " (memory limit in force)"
		} else {
			gc = "100 (no memory limit)"
		}
	}
	memLimit := "none"
	if limited {
		memLimit = formatMiB(limit)
	}
	log.Info("runtime", "GOMAXPROCS", runtime.GOMAXPROCS(0), "GOMEMLIMIT", memLimit, "GOGC", gc)
}

func formatMiB(n int64) string { return strconv.FormatInt(n>>20, 10) + "MiB" }
