package gitops

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/yaml"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
	"github.com/turnpike-io/turnpike/controllers/translate"
)

// objects are the inputs: a served Api/Stage/Route, a Route waiting for a
// Service that may still appear, and objects only their author can fix.
const objects = `
kind: Api
metadata: {name: pets, namespace: shop, generation: 1}
---
kind: Stage
metadata: {name: prod, namespace: shop, generation: 1}
spec: {apiName: pets}
---
kind: Route
metadata: {name: get-pets, namespace: shop, generation: 1}
spec: {apiName: pets, routeKey: "GET /pets", integration: {type: MOCK}}
---
kind: Route
metadata: {name: get-toys, namespace: shop, generation: 1}
spec: {apiName: pets, routeKey: "GET /toys", integration: {type: SERVICE, service: {name: toys, port: 80}}}
---
kind: Route
metadata: {name: get-pets-again, namespace: shop, generation: 1, creationTimestamp: "2030-01-01T00:00:00Z"}
spec: {apiName: pets, routeKey: "GET /pets", integration: {type: MOCK}}
---
kind: Stage
metadata: {name: logs, namespace: shop, generation: 1}
spec: {apiName: pets, accessLog: {format: "$context.httpMethod"}}
---
kind: Route
metadata: {name: bad-schema, namespace: shop, generation: 1}
spec: {apiName: pets, routeKey: "POST /pets", integration: {type: MOCK}, requestValidation: {bodySchema: {type: 12}}}
`

// want is what each object must read as in kstatus and in Argo CD.
var want = map[string]struct{ kstatus, argo string }{
	"Api/pets":             {"Current", "Healthy"},
	"Stage/prod":           {"Current", "Healthy"},
	"Route/get-pets":       {"Current", "Healthy"},
	"Route/get-toys":       {"InProgress", "Progressing"}, // Service "toys" may still appear
	"Route/get-pets-again": {"Failed", "Degraded"},        // RouteConflict
	"Stage/logs":           {"Failed", "Degraded"},        // invalid access log format
	"Route/bad-schema":     {"Failed", "Degraded"},        // InvalidSchema
}

// translated returns every object of objects with the status the translator
// gave it, as the status writer stores it, keyed by kind/name.
func translated(t *testing.T) map[string]*unstructured.Unstructured {
	t.Helper()
	var snap translate.Snapshot
	metas := map[string]map[string]any{}
	for _, doc := range strings.Split(objects, "\n---\n") {
		var u map[string]any
		if err := yaml.Unmarshal([]byte(doc), &u); err != nil {
			t.Fatal(err)
		}
		meta := u["metadata"].(map[string]any)
		metas[u["kind"].(string)+"/"+meta["name"].(string)] = u
		var err error
		switch u["kind"] {
		case "Api":
			var o v1alpha1.Api
			err = yaml.Unmarshal([]byte(doc), &o)
			snap.Apis = append(snap.Apis, o)
		case "Stage":
			var o v1alpha1.Stage
			err = yaml.Unmarshal([]byte(doc), &o)
			snap.Stages = append(snap.Stages, o)
		case "Route":
			var o v1alpha1.Route
			err = yaml.Unmarshal([]byte(doc), &o)
			snap.Routes = append(snap.Routes, o)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	res := translate.Translate(&snap, translate.Options{DefaultDomain: "execute-api.localhost"})
	out := map[string]*unstructured.Unstructured{}
	for _, st := range res.Statuses {
		k := st.Kind + "/" + st.Name
		u := metas[k]
		if u == nil {
			t.Fatalf("status for unknown object %s", k)
		}
		conds, err := json.Marshal(st.Conditions)
		if err != nil {
			t.Fatal(err)
		}
		var c []any
		if err := json.Unmarshal(conds, &c); err != nil {
			t.Fatal(err)
		}
		u["apiVersion"] = v1alpha1.GroupVersion.String()
		u["status"] = map[string]any{"observedGeneration": st.Generation, "conditions": c}
		out[k] = &unstructured.Unstructured{Object: jsonRoundTrip(t, u)}
	}
	return out
}

// jsonRoundTrip gives the object the types an API server response has
// (int64 numbers, no Go structs), as kstatus and Argo CD see it.
func jsonRoundTrip(t *testing.T, u map[string]any) map[string]any {
	t.Helper()
	b, err := json.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	var o unstructured.Unstructured
	if err := o.UnmarshalJSON(b); err != nil {
		t.Fatal(err)
	}
	return o.Object
}

func TestKstatusReadsTranslatorStatusAsCurrentInProgressOrFailed(t *testing.T) {
	objs := translated(t)
	if len(objs) != len(want) {
		t.Fatalf("want %d objects with status, got %d", len(want), len(objs))
	}
	for k, w := range want {
		res, err := status.Compute(objs[k])
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		if string(res.Status) != w.kstatus {
			t.Errorf("%s: kstatus %s (%s), want %s", k, res.Status, res.Message, w.kstatus)
		}
	}
}

func TestKstatusSeesAGenerationTheGatewayHasNotObservedAsInProgress(t *testing.T) {
	u := translated(t)["Route/get-pets"]
	u.SetGeneration(2) // edited after the last status write
	res, err := status.Compute(u)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != status.InProgressStatus {
		t.Fatalf("got %s, want InProgress", res.Status)
	}
	if got := argoHealth(t, readFile(t, "../../config/argocd/health.lua"), u.Object); got.status != "Progressing" {
		t.Fatalf("Argo CD: got %s, want Progressing", got.status)
	}
}

type health struct{ status, message string }

// argoHealth runs an Argo CD health script as Argo CD does: obj is a global
// table converted from the object, and the script returns {status, message}.
func argoHealth(t *testing.T, script string, obj map[string]any) health {
	t.Helper()
	L := lua.NewState(lua.Options{SkipOpenLibs: false})
	defer L.Close()
	L.SetGlobal("obj", toLua(L, obj))
	fn, err := L.LoadString(script)
	if err != nil {
		t.Fatalf("health script does not load: %v", err)
	}
	if err := L.CallByParam(lua.P{Fn: fn, NRet: 1, Protect: true}); err != nil {
		t.Fatalf("health script fails: %v", err)
	}
	ret, ok := L.Get(-1).(*lua.LTable)
	if !ok {
		t.Fatalf("health script returned %v, want a table", L.Get(-1))
	}
	return health{status: ret.RawGetString("status").String(), message: ret.RawGetString("message").String()}
}

func toLua(L *lua.LState, v any) lua.LValue {
	switch v := v.(type) {
	case map[string]any:
		tb := L.NewTable()
		for k, e := range v {
			tb.RawSetString(k, toLua(L, e))
		}
		return tb
	case []any:
		tb := L.NewTable()
		for _, e := range v {
			tb.Append(toLua(L, e))
		}
		return tb
	case string:
		return lua.LString(v)
	case int64:
		return lua.LNumber(v)
	case float64:
		return lua.LNumber(v)
	case bool:
		return lua.LBool(v)
	case nil:
		return lua.LNil
	}
	return lua.LString(fmt.Sprint(v)) // not produced by a JSON round trip
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestArgoCDHealthCheckReadsTranslatorStatusAsHealthyProgressingOrDegraded(t *testing.T) {
	script := readFile(t, "../../config/argocd/health.lua")
	objs := translated(t)
	for k, w := range want {
		h := argoHealth(t, script, objs[k].Object)
		if h.status != w.argo {
			t.Errorf("%s: Argo CD %s (%s), want %s", k, h.status, h.message, w.argo)
		}
		if h.message == "" {
			t.Errorf("%s: Argo CD shows no message", k)
		}
	}
	if h := argoHealth(t, script, map[string]any{"metadata": map[string]any{"name": "new"}}); h.status != "Progressing" {
		t.Errorf("an object without status: got %s, want Progressing", h.status)
	}
}

func TestTheShippedConfigMapAndDocsCarryTheTestedScriptForEveryKind(t *testing.T) {
	script := readFile(t, "../../config/argocd/health.lua")
	var cm struct {
		Data map[string]string `json:"data"`
	}
	if err := yaml.Unmarshal([]byte(readFile(t, "../../config/argocd/argocd-cm.yaml")), &cm); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"Api", "Route", "Stage", "Authorizer", "UsagePlan"} {
		if got := cm.Data["resource.customizations.health.turnpike.io_"+kind]; got != script {
			t.Errorf("argocd-cm.yaml: the %s health check differs from health.lua", kind)
		}
	}
	docs := readFile(t, "../../docs/gitops.md")
	if !strings.Contains(docs, "```lua\n"+script+"```") {
		t.Error("docs/gitops.md does not show health.lua verbatim in a lua block")
	}
}
