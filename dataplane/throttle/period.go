package throttle

import (
	"time"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

// PeriodBounds returns the UTC calendar period of q that contains now:
// DAY starts at midnight; WEEK on weekday Offset (0 = Sunday); MONTH on day
// Offset+1 (Offset is at most 27, so every month has that day). The period
// is [start, end).
func PeriodBounds(q table.Quota, now time.Time) (start, end time.Time) {
	y, m, d := now.UTC().Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	switch q.Period {
	case table.QuotaWeek:
		back := (int(day.Weekday()) - int(q.Offset) + 7) % 7
		start = day.AddDate(0, 0, -back)
		return start, start.AddDate(0, 0, 7)
	case table.QuotaMonth:
		first := int(q.Offset) + 1
		if d >= first {
			start = time.Date(y, m, first, 0, 0, 0, 0, time.UTC)
		} else {
			start = time.Date(y, m-1, first, 0, 0, 0, 0, time.UTC)
		}
		return start, start.AddDate(0, 1, 0)
	default:
		return day, day.AddDate(0, 0, 1)
	}
}
