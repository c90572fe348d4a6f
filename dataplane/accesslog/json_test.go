package accesslog

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

// AppendJSON must write what encoding/json writes for an Entry, value for
// value, for any strings (quotes, control characters, invalid UTF-8,
// non-ASCII) and with the omitempty fields both empty and set.
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "Z", "/", `"`, `\`, "\n", "\t", "\x00", "\x1f", "\x7f", "é", "☃", "\u2028", "\xff", "\xc3", "<", "&", " "}
	str := func() string {
		var b strings.Builder
		for range rng.IntN(12) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		return b.String()
	}
	for i := range 2000 {
		e := Entry{
			RequestID: str(), IP: str(), RequestTime: str(), HTTPMethod: str(), RouteKey: str(), Path: str(),
			Status: rng.IntN(600), Protocol: str(), ResponseLength: rng.Int64(), ResponseLatency: rng.Int64N(1000),
			IntegrationLatency: -rng.Int64N(5), IntegrationStatus: rng.IntN(600), IntegrationError: str(),
			ErrorMessage: str(), ErrorHint: str(), Stage: str(), DomainName: str(), API: str(),
			PrincipalID: str(), AuthorizerError: str(), Canary: i%2 == 0,
		}
		line := e.AppendJSON(nil)
		if !bytes.HasSuffix(line, []byte("}\n")) || bytes.Count(line, []byte("\n")) != 1 {
			t.Fatalf("entry %d: not one line: %q", i, line)
		}
		want, err := json.Marshal(&e)
		if err != nil {
			t.Fatal(err)
		}
		var got, exp map[string]any
		if err := json.Unmarshal(line, &got); err != nil {
			t.Fatalf("entry %d: invalid JSON %q: %v", i, line, err)
		}
		if err := json.Unmarshal(want, &exp); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, exp) {
			t.Fatalf("entry %d:\n got %s\nwant %s", i, line, want)
		}
	}
}

// The writer fills requestTime from Time, in AWS's layout, when the caller
// left it empty; an explicit RequestTime is kept.
func TestRequestTimeFilledByTheWriter(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf, 4)
	at := time.Date(2026, 11, 26, 14, 3, 9, 0, time.FixedZone("", 3600))
	l.Log(Entry{RequestID: "a", Time: at})
	l.Log(Entry{RequestID: "b", Time: at.Add(time.Second)})
	l.Log(Entry{RequestID: "c", Time: at, RequestTime: "given"})
	l.Close()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	want := []string{"26/Nov/2026:14:03:09 +0100", "26/Nov/2026:14:03:10 +0100", "given"}
	for i, line := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		if m["requestTime"] != want[i] {
			t.Errorf("line %d requestTime %v, want %s", i, m["requestTime"], want[i])
		}
	}
}
