package translate

import (
	"slices"
	"strings"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
	"github.com/turnpike-io/turnpike/dataplane/table"
)

// corsTable turns an Api's cors block into the table's policy: origins and
// header names lower-cased (browsers send origins lower-case and header names
// are case-insensitive), duplicates dropped, order kept (it is the order of
// the Access-Control-Allow-* values). The CRD schema already limits the
// origin syntax; what it cannot express (a wildcard that is not a whole first
// label, an empty label, a port above 65535) makes the Api invalid here,
// with the same parser the table compiles with, so table.New never refuses a
// policy the translator let through. nil in, nil out.
func corsTable(c *v1alpha1.CORS) (*table.CORS, *issue) {
	if c == nil {
		return nil, nil
	}
	for _, o := range c.AllowOrigins {
		if err := table.ParseOriginPattern(o); err != nil {
			return nil, &issue{
				reason:  v1alpha1.ReasonInvalid,
				message: "spec.cors.allowOrigins: " + err.Error(),
				stalled: true,
			}
		}
	}
	if c.AllowCredentials && slices.Contains(c.AllowOrigins, "*") {
		// The CRD's CEL rule rejects this; standalone files and old objects
		// get the same answer here.
		return nil, &issue{
			reason:  v1alpha1.ReasonInvalid,
			message: `spec.cors: allowCredentials cannot be true when allowOrigins contains "*"; list the origins instead`,
			stalled: true,
		}
	}
	return &table.CORS{
		AllowOrigins:     dedupe(c.AllowOrigins, true),
		AllowMethods:     dedupe(c.AllowMethods, false),
		AllowHeaders:     dedupe(c.AllowHeaders, true),
		ExposeHeaders:    dedupe(c.ExposeHeaders, true),
		MaxAgeSeconds:    c.MaxAgeSeconds,
		AllowCredentials: c.AllowCredentials,
	}, nil
}

// dedupe returns a new slice of list without repeats (case-folded when
// lower), first occurrence first; nil for an empty list. It never aliases
// the input: the translator must not share memory with the snapshot.
func dedupe(list []string, lower bool) []string {
	var out []string
	for _, v := range list {
		if lower {
			v = strings.ToLower(v)
		}
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}
