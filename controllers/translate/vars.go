package translate

import (
	"strings"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
)

// varPrefix opens a stage variable reference: ${stageVariables.name}.
const varPrefix = "${stageVariables."

// substitute replaces every ${stageVariables.name} in s by the variable's
// value. It returns the first name vars does not define ("" when all are
// defined). Text that only looks like a reference (no closing brace, empty
// name) is kept as it is, and so is the rest of s after it. Values are
// inserted once, never re-scanned.
func substitute(s string, vars map[string]string) (out, missing string) {
	if !strings.Contains(s, varPrefix) {
		return s, ""
	}
	var b strings.Builder
	for {
		i := strings.Index(s, varPrefix)
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i+len(varPrefix):], '}')
		if j <= 0 {
			break // no closing brace, or an empty name: not a reference
		}
		name := s[i+len(varPrefix) : i+len(varPrefix)+j]
		v, ok := vars[name]
		if !ok && missing == "" {
			missing = name
		}
		b.WriteString(s[:i])
		b.WriteString(v)
		s = s[i+len(varPrefix)+j+1:]
	}
	b.WriteString(s)
	return b.String(), missing
}

// substituteIn substitutes the variables of stage st into the value of field.
// With st == nil nothing is substituted and skip reports that the value uses
// stage variables, so it cannot be checked yet. A variable st does not define
// gives a StageVariableNotFound issue: only the user can fix it (in the Stage
// or the Route).
func substituteIn(value, field string, st *stageState) (out string, iss *issue, skip bool) {
	if st == nil {
		return value, nil, strings.Contains(value, varPrefix)
	}
	out, missing := substitute(value, st.table.Variables)
	if missing == "" {
		return out, nil, false
	}
	stage := "Stage " + quote(st.obj.Name)
	if st.name != st.obj.Name {
		stage += " (stage name " + quote(st.name) + ")"
	}
	return out, &issue{
		reason: v1alpha1.ReasonStageVariableNotFound,
		message: stage + " does not define stage variable " + quote(missing) +
			" used in " + field + "; define it in the Stage or change the Route (the Route answers 500 in that stage)",
		hint:    "stage variable " + quote(missing) + " used in " + field + " is not defined in stage " + quote(st.name),
		stalled: true,
	}, false
}
