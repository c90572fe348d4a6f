package mapping

import "testing"

func TestSelectionPicksTheKeyOrNothing(t *testing.T) {
	sel, err := CompileSelection("$request.body.action")
	if err != nil {
		t.Fatal(err)
	}
	nested, err := CompileSelection("${request.body.service}.${request.body.op[0]}")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		sel  *Selection
		body string
		want string
	}{
		{sel, `{"action":"send"}`, "send"},
		{sel, `{"action":42}`, "42"},
		{sel, `{"other":"x"}`, ""},
		{sel, `not json`, ""},
		{sel, `{"action":"a"} {"action":"b"}`, ""},
		{sel, ``, ""},
		{nested, `{"service":"chat","op":["join","leave"]}`, "chat.join"},
		{nested, `{"service":"chat"}`, ""}, // one variable selects nothing: no key at all
	} {
		if got := tc.sel.Select([]byte(tc.body)); got != tc.want {
			t.Errorf("%s on %s = %q, want %q", tc.sel, tc.body, got, tc.want)
		}
	}
	for _, bad := range []string{"", "action", "$request.header.x", "$request.body", "$context.requestId", "$request.body..a"} {
		if _, err := CompileSelection(bad); err == nil {
			t.Errorf("CompileSelection(%q) accepted it", bad)
		}
	}
}
