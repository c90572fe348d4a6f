package translate

import (
	"fmt"
	"strings"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
)

// Fields of features that are not built yet. An object that sets one of them
// to a value that changes behaviour is not served (a Route keeps its key and
// answers 500), so nothing is ever served without a feature its owner asked
// for. Values that switch a feature off change nothing and are served: an
// AWS user who copies such a block expects it to be harmless.
//
// Every field of the contract is built now: the lists are empty, and a field
// the contract adds before its feature goes here (api.md, "later").

// apiNotImplemented lists the Api fields that need a feature not built yet.
func apiNotImplemented(*v1alpha1.Api) []string { return nil }

// routeNotImplemented lists the Route fields that need a feature not built yet.
func routeNotImplemented(*v1alpha1.Route) []string { return nil }

// listFields joins field names for a sentence: "a", "a and b", "a, b and c".
func listFields(f []string) string {
	if len(f) == 1 {
		return f[0]
	}
	return strings.Join(f[:len(f)-1], ", ") + " and " + f[len(f)-1]
}

// notImplementedIssue is the Programmed=False issue of an object that uses
// fields (non-empty) of features not built yet; consequence says what happens
// meanwhile.
func notImplementedIssue(fields []string, consequence string) *issue {
	verb := "is"
	if len(fields) > 1 {
		verb = "are"
	}
	return &issue{
		reason:  v1alpha1.ReasonNotImplemented,
		message: fmt.Sprintf("%s %s not implemented yet; remove or reset %s (%s)", listFields(fields), verb, pronoun(fields), consequence),
		stalled: true,
	}
}

func pronoun(fields []string) string {
	if len(fields) == 1 {
		return "it"
	}
	return "them"
}
