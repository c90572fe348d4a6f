package admin

import (
	"net/http"
	"strings"
	"time"

	"github.com/turnpike-io/turnpike/dataplane/table"
	"github.com/turnpike-io/turnpike/dataplane/throttle"
)

// UsageReport is the answer of GET /usage/{namespace}/{plan} on the admin
// listener, like AWS GetUsage: each key's id (a hash prefix, never the key)
// with the requests its quota counted in the current period.
type UsageReport struct {
	Namespace string `json:"namespace"`
	Plan      string `json:"plan"`
	// Quota is the plan's quota; nil when the plan has none (then nothing is
	// counted and keys carry no usage).
	Quota *table.Quota `json:"quota"`
	// StartDate and EndDate bound the current period [start, end), UTC.
	StartDate *time.Time `json:"startDate,omitempty"`
	EndDate   *time.Time `json:"endDate,omitempty"`
	Keys      []KeyUsage `json:"keys"`
}

// KeyUsage is one key's line of a UsageReport.
type KeyUsage struct {
	ID     string `json:"id"`
	Object string `json:"object"`
	// Used and Remaining are set when the plan has a quota.
	Used      *int64 `json:"used,omitempty"`
	Remaining *int64 `json:"remaining,omitempty"`
}

// usageHandler serves GET /usage/{namespace}/{plan}: 404 for a plan that is
// not served, 502 when the shared store cannot be read.
func usageHandler(o Options) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/usage/"), "/")
		if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
			http.Error(w, "use GET /usage/{namespace}/{plan}", http.StatusNotFound)
			return
		}
		p := o.Table().Plan(parts[0], parts[1])
		if p == nil {
			http.Error(w, "no served UsagePlan "+parts[0]+"/"+parts[1], http.StatusNotFound)
			return
		}
		rep := UsageReport{Namespace: p.Namespace, Plan: p.Name, Quota: p.Quota, Keys: make([]KeyUsage, 0, len(p.Keys))}
		if p.Quota != nil {
			start, end := throttle.PeriodBounds(*p.Quota, o.Now())
			rep.StartDate, rep.EndDate = &start, &end
		}
		for i := range p.Keys {
			k := &p.Keys[i]
			ku := KeyUsage{ID: k.ID, Object: k.Object}
			if p.Quota != nil {
				used, err := o.Limiter.Usage(r.Context(), p.QuotaID(k), *p.Quota)
				if err != nil {
					http.Error(w, "reading the quota counters failed: "+err.Error(), http.StatusBadGateway)
					return
				}
				remaining := max(p.Quota.Limit-used, 0)
				ku.Used, ku.Remaining = &used, &remaining
			}
			rep.Keys = append(rep.Keys, ku)
		}
		writeJSON(w, rep)
	})
}
