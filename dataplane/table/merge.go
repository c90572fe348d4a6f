package table

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Merge assembles one table from parts that NewWithDomains built from
// disjoint inputs, without compiling or linking anything again: an
// incremental translator rebuilds only the parts whose input changed and
// shares the others between generations (structural sharing).
//
// Invariants:
//   - Merge never writes to a part or to anything a part holds (Apis,
//     Stages, Routes, Plans, Domains): parts may be held by published tables,
//     which are read without locks. It allocates its own slices and indexes.
//   - The parts must be independent: every plan a stage of one part names and
//     every stage a domain of one part maps is in that same part (the caller
//     partitions its input so). Merge then equals NewWithDomains over the
//     union of the parts' input, up to the wording of errors.
//   - Apis, Plans and Domains come out sorted as NewWithDomains sorts them;
//     a host or domain claimed in two parts is an error, as in one build.
func Merge(parts []*Table) (*Table, error) {
	t := &Table{
		Apis: []*Api{}, hosts: map[string]*Api{}, plans: map[string]*Plan{},
		domains: domainIndex{byHost: map[string]*Domain{}, mtlsStages: map[*Stage]bool{}},
	}
	for _, p := range parts {
		t.Apis = append(t.Apis, p.Apis...)
		t.Plans = append(t.Plans, p.Plans...)
		t.Domains = append(t.Domains, p.Domains...)
		maps.Copy(t.domains.mtlsStages, p.domains.mtlsStages)
	}
	slices.SortFunc(t.Apis, func(a, b *Api) int {
		return strings.Compare(a.Namespace+"/"+a.Name, b.Namespace+"/"+b.Name)
	})
	slices.SortFunc(t.Plans, func(a, b *Plan) int {
		return cmp.Or(strings.Compare(a.Namespace, b.Namespace), strings.Compare(a.Name, b.Name))
	})
	slices.SortFunc(t.Domains, func(a, b *Domain) int { return strings.Compare(a.Hostname, b.Hostname) })
	var errs []error
	for _, a := range t.Apis {
		for _, h := range a.Hosts {
			if prev, dup := t.hosts[h]; dup {
				errs = append(errs, fmt.Errorf("host %q is claimed by Api %s/%s and %s/%s", h, prev.Namespace, prev.Name, a.Namespace, a.Name))
				continue
			}
			t.hosts[h] = a
		}
	}
	for _, p := range t.Plans {
		if t.plans[p.Namespace+"/"+p.Name] != nil {
			errs = append(errs, fmt.Errorf("plan %s/%s appears twice", p.Namespace, p.Name))
		}
		t.plans[p.Namespace+"/"+p.Name] = p
	}
	for _, d := range t.Domains {
		switch {
		case t.domains.byHost[d.Hostname] != nil:
			errs = append(errs, fmt.Errorf("domain %q: appears twice", d.Hostname))
		case t.hosts[d.Hostname] != nil:
			errs = append(errs, fmt.Errorf("domain %q: is also a default endpoint host", d.Hostname))
		}
		t.domains.byHost[d.Hostname] = d
	}
	if len(t.Plans) == 0 {
		t.Plans = nil
	}
	if len(t.Domains) == 0 {
		t.Domains = nil
	}
	return t, errors.Join(errs...)
}
