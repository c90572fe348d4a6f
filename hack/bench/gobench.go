package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// goBench is one line of `go test -bench` output.
type goBench struct {
	Name        string  `json:"name"`
	NsPerOp     float64 `json:"ns_per_op"`
	BytesPerOp  int64   `json:"bytes_per_op"`
	AllocsPerOp int64   `json:"allocs_per_op"`
}

// goBenchCommands are the existing micro-benchmarks the report reuses.
var goBenchCommands = [][]string{
	{"test", "-run", "^$", "-bench", "BenchmarkLookup", "-benchmem", "-benchtime", "1s", "-count", "1", "./dataplane/table/"},
	{"test", "-run", "^$", "-bench", "BenchmarkTranslate10kRoutes", "-benchmem", "-benchtime", "5x", "-count", "3", "./controllers/translate/"},
	{"test", "-run", "^$", "-bench", "BenchmarkFunctionRoundTrip", "-benchmem", "-benchtime", "1s", "-count", "3", "./dataplane/lambda/"},
	{"test", "-run", "^$", "-bench", "BenchmarkFunctionOverService", "-benchmem", "-benchtime", "2s", "-count", "3", "./dataplane/"},
}

// runGoBenches runs the micro-benchmarks pinned to the proxy core (nothing
// else is measured meanwhile) and keeps the best of the repeated counts.
func runGoBenches(c config, res *results) error {
	for i, args := range goBenchCommands {
		// go test repeats each sub-benchmark -count times in a row, so the
		// lookup sizes are interleaved by running the command again instead.
		times := 1
		if i == 0 {
			times = lookupRepetitions
		}
		for range times {
			runs, err := pinnedGoBench(c.proxyCore, args)
			if err != nil {
				return err
			}
			res.LookupRatios = append(res.LookupRatios, lookupRatios(runs)...)
			res.GoBench = mergeBest(res.GoBench, runs)
		}
		cmdText := "go " + strings.Join(args, " ")
		if times > 1 {
			cmdText = fmt.Sprintf("%s   # run %d times", cmdText, times)
		}
		res.GoBenchCmds = append(res.GoBenchCmds, cmdText)
	}
	return nil
}

// pinnedGoBench runs `go args...` (a go test -bench command) on core and
// returns its benchmark lines.
func pinnedGoBench(core int, args []string) ([]goBench, error) {
	argv := append([]string{"-c", strconv.Itoa(core), "go"}, args...)
	var out bytes.Buffer
	cmd := exec.Command("taskset", argv...) //nolint:gosec // fixed go test commands
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out.String())
	}
	return parseGoBench(out.String()), nil
}

// lookupRepetitions is how many times the lookup benchmark runs.
const lookupRepetitions = 10

// parseGoBench reads Benchmark lines, dropping the -GOMAXPROCS suffix.
func parseGoBench(s string) []goBench {
	var l []goBench
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		b := goBench{Name: f[0]}
		if i := strings.LastIndexByte(b.Name, '-'); i > 0 {
			b.Name = b.Name[:i]
		}
		for i := 2; i+1 < len(f); i += 2 {
			switch f[i+1] {
			case "ns/op":
				b.NsPerOp, _ = strconv.ParseFloat(f[i], 64)
			case "B/op":
				b.BytesPerOp, _ = strconv.ParseInt(f[i], 10, 64)
			case "allocs/op":
				b.AllocsPerOp, _ = strconv.ParseInt(f[i], 10, 64)
			}
		}
		l = append(l, b)
	}
	return l
}

// mergeBest appends the new results, keeping only the fastest run per name
// (the least disturbed by other work on the machine).
func mergeBest(have, add []goBench) []goBench {
	for _, b := range add {
		found := false
		for i := range have {
			if have[i].Name == b.Name {
				found = true
				if b.NsPerOp < have[i].NsPerOp {
					have[i] = b
				}
			}
		}
		if !found {
			have = append(have, b)
		}
	}
	return have
}

// lookupLargest is the largest size of BenchmarkLookup: the budget compares
// it with the smallest (10 routes). architecture.md asks for 10 vs 10,000
// within 5%, issue 18 for 10 vs 100,000.
const lookupLargest = "routes=100000"

// lookupRatios pairs, within one run of BenchmarkLookup (the sizes in
// order, 10 first and 100,000 last), the 100,000-route time with the
// 10-route time of the same run. Their median judges the budget: the
// machine's speed drifts over seconds (CPU steal on a shared VM), and a
// ratio taken within one repetition cancels most of that drift.
func lookupRatios(runs []goBench) []float64 {
	var ratios []float64
	small := 0.0
	for _, b := range runs {
		switch {
		case strings.HasSuffix(b.Name, "routes=10"):
			small = b.NsPerOp
		case strings.HasSuffix(b.Name, lookupLargest) && small > 0:
			ratios = append(ratios, b.NsPerOp/small)
			small = 0
		}
	}
	return ratios
}
