package translate

import "testing"

func TestSubstitute(t *testing.T) {
	vars := map[string]string{"a": "x", "b": "${stageVariables.a}"}
	for _, c := range []struct{ in, out, missing string }{
		{"plain", "plain", ""},
		{"${stageVariables.a}", "x", ""},
		{"http://${stageVariables.a}/${stageVariables.a}", "http://x/x", ""},
		{"${stageVariables.b}", "${stageVariables.a}", ""}, // values are not re-scanned
		{"${stageVariables.nope}-${stageVariables.zzz}", "-", "nope"},
		{"${stageVariables.a", "${stageVariables.a", ""}, // unterminated stays literal
		{"${stageVariables.}", "${stageVariables.}", ""}, // empty name stays literal
		{"$stageVariables.a", "$stageVariables.a", ""},
	} {
		out, missing := substitute(c.in, vars)
		if out != c.out || missing != c.missing {
			t.Errorf("substitute(%q) = %q, %q; want %q, %q", c.in, out, missing, c.out, c.missing)
		}
	}
}
