package translate

import (
	"cmp"
	"slices"
	"strings"

	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

// EndpointSets is the endpoint fast path: the ready endpoints of every Service
// port that has an EndpointSlice, keyed like table.ServiceTarget.Key()
// ("namespace/service:portName"). It reads only EndpointSlices, so endpoint
// churn never re-translates routes; its cost is linear in the number of
// endpoints (plus sorting each set).
//
// An endpoint counts when its ready condition is unset or true and it is not
// terminating. A slice counts only for the Service of its
// kubernetes.io/service-name label, so a slice of another Service never
// touches this one's set. FQDN slices are skipped (the dataplane dials IPs).
// A port whose slices have no ready endpoint maps to an empty set, which the
// dataplane answers with 503. Sets are deduplicated and sorted by address,
// then port.
func EndpointSets(s *Snapshot) table.EndpointSets {
	sets := table.EndpointSets{}
	seen := map[string]map[table.Endpoint]bool{}
	for i := range s.EndpointSlices {
		es := &s.EndpointSlices[i]
		svc := es.Labels[discoveryv1.LabelServiceName]
		if svc == "" || es.AddressType == discoveryv1.AddressTypeFQDN {
			continue
		}
		for _, p := range es.Ports {
			if p.Port == nil {
				continue
			}
			key := es.Namespace + "/" + svc + ":" + derefString(p.Name)
			if seen[key] == nil {
				seen[key] = map[table.Endpoint]bool{}
				sets[key] = []table.Endpoint{}
			}
			for _, ep := range es.Endpoints {
				if !endpointReady(ep) {
					continue
				}
				for _, addr := range ep.Addresses {
					e := table.Endpoint{Address: addr, Port: *p.Port}
					if !seen[key][e] {
						seen[key][e] = true
						sets[key] = append(sets[key], e)
					}
				}
			}
		}
	}
	for _, eps := range sets {
		slices.SortFunc(eps, func(a, b table.Endpoint) int {
			return cmp.Or(strings.Compare(a.Address, b.Address), cmp.Compare(a.Port, b.Port))
		})
	}
	return sets
}

// endpointReady: ready unset or true, and not terminating (EndpointSlice API:
// consumers should treat an unset ready condition as ready).
func endpointReady(ep discoveryv1.Endpoint) bool {
	c := ep.Conditions
	return (c.Ready == nil || *c.Ready) && (c.Terminating == nil || !*c.Terminating)
}

func derefString(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
