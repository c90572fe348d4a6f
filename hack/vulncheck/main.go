// Command vulncheck reads `govulncheck -format json` on stdin and fails on a
// reachable vulnerability: a finding whose trace reaches a vulnerable
// function (govulncheck's own exit code 3 condition), unless it is in the
// Go standard library and listed in the accepted file (-accepted) with the
// reason. Module vulnerabilities are never accepted: upgrade the module. An
// accepted entry that is no longer found fails too, so the list only ever
// holds what is still true. It prints one line per reachable vulnerability.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// message is one object of govulncheck's JSON stream (the fields read here).
type message struct {
	Finding *struct {
		OSV          string `json:"osv"`
		FixedVersion string `json:"fixed_version"`
		Trace        []struct {
			Module   string `json:"module"`
			Version  string `json:"version"`
			Package  string `json:"package"`
			Function string `json:"function"`
		} `json:"trace"`
	} `json:"finding"`
	OSV *struct {
		ID      string `json:"id"`
		Summary string `json:"summary"`
	} `json:"osv"`
}

// reachable is a vulnerability govulncheck found called from our code.
type reachable struct {
	id, module, found, fixed, summary, via string
}

func main() {
	acceptedPath := flag.String("accepted", "", "file of accepted standard-library vulnerabilities: `GO-YYYY-NNNN reason` per line")
	flag.Parse()
	accepted, err := readAccepted(*acceptedPath)
	if err == nil {
		err = check(os.Stdin, os.Stdout, accepted)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "vulncheck:", err)
		os.Exit(1)
	}
}

func check(in io.Reader, out io.Writer, accepted map[string]string) error {
	found, err := readFindings(in)
	if err != nil {
		return err
	}
	var failed []string
	for _, id := range sortedKeys(found) {
		r := found[id]
		reason, ok := accepted[id]
		switch {
		case ok && r.module == "stdlib":
			fmt.Fprintf(out, "accepted  %s %s@%s (fixed in %s): %s; accepted: %s\n", id, r.module, r.found, r.fixed, r.summary, reason)
		case ok:
			failed = append(failed, id+" is in module "+r.module+": only standard-library vulnerabilities may be accepted; upgrade to "+r.fixed)
			fmt.Fprintf(out, "REACHABLE %s %s@%s (fixed in %s): %s, via %s\n", id, r.module, r.found, r.fixed, r.summary, r.via)
		default:
			failed = append(failed, id+" ("+r.module+"@"+r.found+", fixed in "+r.fixed+")")
			fmt.Fprintf(out, "REACHABLE %s %s@%s (fixed in %s): %s, via %s\n", id, r.module, r.found, r.fixed, r.summary, r.via)
		}
	}
	for _, id := range sortedKeys(accepted) {
		if _, ok := found[id]; !ok {
			failed = append(failed, id+" is accepted but no longer found: remove it from the accepted file")
		}
	}
	fmt.Fprintf(out, "%d reachable vulnerabilities, %d accepted (standard library)\n", len(found), len(found)-countNotAccepted(found, accepted))
	if len(failed) > 0 {
		return errors.New("\n  " + strings.Join(failed, "\n  "))
	}
	return nil
}

func countNotAccepted(found map[string]reachable, accepted map[string]string) int {
	n := 0
	for id, r := range found {
		if _, ok := accepted[id]; !ok || r.module != "stdlib" {
			n++
		}
	}
	return n
}

// readFindings keeps the findings whose trace reaches a function.
func readFindings(in io.Reader) (map[string]reachable, error) {
	dec := json.NewDecoder(in)
	summaries := map[string]string{}
	found := map[string]reachable{}
	for {
		var m message
		if err := dec.Decode(&m); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("reading govulncheck's JSON: %w", err)
		}
		if m.OSV != nil {
			summaries[m.OSV.ID] = m.OSV.Summary
		}
		f := m.Finding
		if f == nil || len(f.Trace) == 0 || f.Trace[0].Function == "" {
			continue // the module or package is used, the vulnerable code is not reached
		}
		if _, seen := found[f.OSV]; seen {
			continue
		}
		first, last := f.Trace[0], f.Trace[len(f.Trace)-1]
		found[f.OSV] = reachable{id: f.OSV, module: first.Module, found: first.Version, fixed: f.FixedVersion,
			via: last.Package + "." + last.Function}
	}
	for id, r := range found {
		r.summary = summaries[id]
		found[id] = r
	}
	return found, nil
}

func readAccepted(path string) (map[string]string, error) {
	out := map[string]string{}
	if path == "" {
		return out, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, reason, _ := strings.Cut(line, " ")
		if strings.TrimSpace(reason) == "" {
			return nil, fmt.Errorf("%s: %s has no reason", path, id)
		}
		out[id] = strings.TrimSpace(reason)
	}
	return out, sc.Err()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
