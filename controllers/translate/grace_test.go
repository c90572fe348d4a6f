package translate

import (
	"testing"
	"time"
)

func TestANegativeGracePeriodNeverGivesUpAndSchedulesNothing(t *testing.T) {
	s := loadCase(t, "testdata/waiting_past_the_grace_period_is_stalled.in.yaml")
	opts := testOptions
	opts.GracePeriod = -1
	res := Translate(s, opts)
	if !res.NextChange.IsZero() {
		t.Errorf("NextChange = %v, want none", res.NextChange)
	}
	for _, st := range res.Statuses {
		for _, c := range st.Conditions {
			if c.Type == "Stalled" && c.Status == "True" {
				t.Errorf("%s %s is Stalled without a grace period: %s", st.Kind, st.Name, c.Message)
			}
		}
	}
	opts.GracePeriod = time.Minute
	if res := Translate(s, opts); res.NextChange.IsZero() {
		t.Error("a positive grace period schedules the end of the waits")
	}
}
