package throttle

import (
	"testing"
	"time"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestPeriodBoundsFollowUTCCalendarPeriods(t *testing.T) {
	tests := []struct {
		name       string
		q          table.Quota
		now        time.Time
		start, end time.Time
	}{
		{"a day runs from midnight to midnight UTC", table.Quota{Period: table.QuotaDay},
			time.Date(2024, 3, 10, 23, 59, 59, 0, time.UTC), day(2024, 3, 10), day(2024, 3, 11)},
		{"a day is UTC whatever the zone of now", table.Quota{Period: table.QuotaDay},
			time.Date(2024, 3, 10, 23, 30, 0, 0, time.FixedZone("UTC-2", -2*3600)), day(2024, 3, 11), day(2024, 3, 12)},
		{"a week starts on Sunday with offset 0", table.Quota{Period: table.QuotaWeek},
			time.Date(2024, 3, 13, 8, 0, 0, 0, time.UTC), day(2024, 3, 10), day(2024, 3, 17)},
		{"a week with offset 3 starts on Wednesday", table.Quota{Period: table.QuotaWeek, Offset: 3},
			time.Date(2024, 3, 12, 8, 0, 0, 0, time.UTC), day(2024, 3, 6), day(2024, 3, 13)},
		{"on its start day the week begins that day", table.Quota{Period: table.QuotaWeek, Offset: 3},
			day(2024, 3, 13), day(2024, 3, 13), day(2024, 3, 20)},
		{"a week with offset 6 spans a year end", table.Quota{Period: table.QuotaWeek, Offset: 6},
			day(2025, 1, 2), day(2024, 12, 28), day(2025, 1, 4)},
		{"a month starts on the 1st with offset 0", table.Quota{Period: table.QuotaMonth},
			time.Date(2024, 1, 31, 23, 0, 0, 0, time.UTC), day(2024, 1, 1), day(2024, 2, 1)},
		{"February of a leap year has 29 days", table.Quota{Period: table.QuotaMonth},
			day(2024, 2, 29), day(2024, 2, 1), day(2024, 3, 1)},
		{"a month with offset 27 starts on the 28th, before it the previous month's", table.Quota{Period: table.QuotaMonth, Offset: 27},
			day(2023, 3, 27), day(2023, 2, 28), day(2023, 3, 28)},
		{"a month with offset 27 in a leap February", table.Quota{Period: table.QuotaMonth, Offset: 27},
			day(2024, 2, 29), day(2024, 2, 28), day(2024, 3, 28)},
		{"a month period before its start day reaches into the previous year", table.Quota{Period: table.QuotaMonth, Offset: 14},
			day(2025, 1, 3), day(2024, 12, 15), day(2025, 1, 15)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start, end := PeriodBounds(tc.q, tc.now)
			if !start.Equal(tc.start) || !end.Equal(tc.end) {
				t.Fatalf("got [%v, %v), want [%v, %v)", start, end, tc.start, tc.end)
			}
		})
	}
}
