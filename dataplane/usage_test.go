package dataplane

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/turnpike-io/turnpike/dataplane/admin"
)

func TestTheUsageReportShowsEachKeysIDUsedAndRemainingQuotaButNeverTheKey(t *testing.T) {
	s, _ := newLimitsServer(t, Options{})
	statuses(s, "/prod/keyed", goldKey, 2)
	w := httptest.NewRecorder()
	s.AdminHandler().ServeHTTP(w, httptest.NewRequest("GET", "/usage/shop/gold", nil))
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	if strings.Contains(w.Body.String(), goldKey) || strings.Contains(w.Body.String(), hashKey(goldKey)) {
		t.Fatalf("the report leaks the key or its full hash: %s", w.Body)
	}
	var rep admin.UsageReport
	if err := json.Unmarshal(w.Body.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Keys) != 1 || rep.Keys[0].ID != hashKey(goldKey)[:12] || rep.Keys[0].Object != "shop/gold-key" ||
		rep.Keys[0].Used == nil || *rep.Keys[0].Used != 2 || *rep.Keys[0].Remaining != 1 || rep.StartDate == nil {
		t.Fatalf("report: %s", w.Body)
	}
}

func TestTheUsageReportOfAnUnknownPlanOrPathIs404(t *testing.T) {
	s, _ := newLimitsServer(t, Options{})
	for _, p := range []string{"/usage/shop/silver", "/usage/shop", "/usage/shop/gold/x"} {
		w := httptest.NewRecorder()
		s.AdminHandler().ServeHTTP(w, httptest.NewRequest("GET", p, nil))
		if w.Code != 404 {
			t.Errorf("%s: %d", p, w.Code)
		}
	}
}

func TestTheUsageReportFailsWhenTheStoreCannotBeRead(t *testing.T) {
	s, _ := newLimitsServer(t, Options{Limiter: downLimiter{}})
	w := httptest.NewRecorder()
	s.AdminHandler().ServeHTTP(w, httptest.NewRequest("GET", "/usage/shop/gold", nil))
	if w.Code != 502 {
		t.Fatalf("status %d", w.Code)
	}
}
