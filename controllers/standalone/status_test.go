package standalone

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/turnpike-io/turnpike/controllers/translate"
)

func status(name string, ready metav1.ConditionStatus, reason, message string) translate.ObjectStatus {
	return translate.ObjectStatus{
		ObjectRef: translate.ObjectRef{Kind: "Route", Namespace: "default", Name: name},
		Conditions: []metav1.Condition{
			{Type: "Accepted", Status: metav1.ConditionTrue, Reason: "Accepted"},
			{Type: "Ready", Status: ready, Reason: reason, Message: message},
		},
	}
}

func TestStatusLogPrintsOnlyObjectsWhoseConditionsChanged(t *testing.T) {
	var s StatusLog
	steps := []struct {
		name     string
		statuses []translate.ObjectStatus
		want     int
	}{
		{"the first call prints every object", []translate.ObjectStatus{
			status("a", metav1.ConditionTrue, "Ready", ""),
			status("b", metav1.ConditionFalse, "RouteConflict", "GET /x is served by Route a."),
		}, 2},
		{"an unchanged set prints nothing", []translate.ObjectStatus{
			status("a", metav1.ConditionTrue, "Ready", ""),
			status("b", metav1.ConditionFalse, "RouteConflict", "GET /x is served by Route a."),
		}, 0},
		{"one changed object is printed alone", []translate.ObjectStatus{
			status("a", metav1.ConditionTrue, "Ready", ""),
			status("b", metav1.ConditionTrue, "Ready", ""),
		}, 1},
		{"an object that disappears prints nothing", []translate.ObjectStatus{
			status("b", metav1.ConditionTrue, "Ready", ""),
		}, 0},
		{"an object that comes back is printed again", []translate.ObjectStatus{
			status("a", metav1.ConditionTrue, "Ready", ""),
			status("b", metav1.ConditionTrue, "Ready", ""),
		}, 1},
	}
	for _, step := range steps {
		log, logs := newCaptureLogger(t)
		s.LogStatuses(log, step.statuses)
		if got := len(logs.lines); got != step.want {
			t.Errorf("%s: %d lines, want %d: %q", step.name, got, step.want, logs.lines)
		}
	}
}

func TestStatusLogPrintsReasonAndMessageWhenNotReady(t *testing.T) {
	var s StatusLog
	log, logs := newCaptureLogger(t)
	s.LogStatuses(log, []translate.ObjectStatus{
		status("a", metav1.ConditionTrue, "Ready", ""),
		status("b", metav1.ConditionFalse, "RouteConflict", "served by Route a"),
	})
	if !logs.has("object is not ready", `"name"="b"`, `"reason"="RouteConflict"`, `"message"="served by Route a"`) {
		t.Error("the not-ready object lacks its reason and message")
	}
	if !logs.has("object is ready", `"name"="a"`) || logs.has(`"name"="a"`, "reason") {
		t.Error("the ready object was not printed as ready, or printed with a reason")
	}
}

func TestSameStateIgnoresOrderAndTimesButNotContent(t *testing.T) {
	c := func(typ, status, reason string) metav1.Condition {
		return metav1.Condition{Type: typ, Status: metav1.ConditionStatus(status), Reason: reason, Message: "m", LastTransitionTime: metav1.Now()}
	}
	state := conditionState([]metav1.Condition{c("Ready", "True", "Ok"), c("Accepted", "True", "Ok")})
	for _, tc := range []struct {
		name  string
		conds []metav1.Condition
		want  bool
	}{
		{"same, other order and times", []metav1.Condition{c("Accepted", "True", "Ok"), c("Ready", "True", "Ok")}, true},
		{"another reason", []metav1.Condition{c("Accepted", "True", "Ok"), c("Ready", "True", "Other")}, false},
		{"a duplicate type", []metav1.Condition{c("Ready", "True", "Ok"), c("Ready", "True", "Ok")}, false},
		{"one fewer", []metav1.Condition{c("Ready", "True", "Ok")}, false},
	} {
		if got := sameState(state, tc.conds); got != tc.want {
			t.Errorf("%s: sameState = %v, want %v", tc.name, got, tc.want)
		}
	}
}
