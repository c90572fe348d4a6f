package standalone

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"

	"github.com/turnpike-io/turnpike/controllers/translate"
)

// logCapture records every log line of a funcr logger.
type logCapture struct {
	mu    sync.Mutex
	lines []string
}

func newCaptureLogger(t *testing.T) (logr.Logger, *logCapture) {
	t.Helper()
	c := &logCapture{}
	log := funcr.New(func(prefix, args string) {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.lines = append(c.lines, args)
		t.Log(args)
	}, funcr.Options{})
	return log, c
}

// has reports whether one line contains every part.
func (c *logCapture) has(parts ...string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, line := range c.lines {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			return true
		}
	}
	return false
}

func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustLoad(t *testing.T, dir string) (*translate.Snapshot, []FileError, *logCapture) {
	t.Helper()
	log, logs := newCaptureLogger(t)
	snap, errs, err := Load(dir, log)
	if err != nil {
		t.Fatal(err)
	}
	return snap, errs, logs
}

func routeYAML(name, key string) string {
	return "apiVersion: turnpike.io/v1alpha1\nkind: Route\nmetadata: {name: " + name + "}\nspec: {apiName: pets, routeKey: '" + key + "', integration: {type: MOCK}}\n"
}

const apiYAML = "apiVersion: turnpike.io/v1alpha1\nkind: Api\nmetadata: {name: pets}\nspec: {}\n"

func routeNames(snap *translate.Snapshot) []string {
	var names []string
	for _, r := range snap.Routes {
		names = append(names, r.Name)
	}
	return names
}

func TestLoadDefaultsTheNamespaceToDefault(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a.yaml", apiYAML+"---\n"+
		"apiVersion: v1\nkind: Service\nmetadata: {name: pets, namespace: shop}\nspec: {ports: [{port: 80}]}\n")
	snap, errs, _ := mustLoad(t, dir)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if len(snap.Apis) != 1 || snap.Apis[0].Namespace != "default" {
		t.Fatalf("Apis = %+v, want one in namespace default", snap.Apis)
	}
	if len(snap.Services) != 1 || snap.Services[0].Namespace != "shop" {
		t.Fatalf("Services = %+v, want one in namespace shop (set in the file)", snap.Services)
	}
}

func TestLoadMergesStringDataIntoDataWithStringDataWinning(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "tls.yaml", "apiVersion: v1\nkind: Secret\nmetadata: {name: k}\ntype: kubernetes.io/tls\n"+
		"data: {tls.crt: b2xk, tls.key: eA==}\nstringData: {tls.crt: new-certificate}\n")
	snap, errs, _ := mustLoad(t, dir)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if len(snap.Secrets) != 1 {
		t.Fatalf("Secrets = %d, want 1", len(snap.Secrets))
	}
	s := snap.Secrets[0]
	if got := string(s.Data["tls.crt"]); got != "new-certificate" {
		t.Errorf("data[tls.crt] = %q, want the stringData value", got)
	}
	if got := string(s.Data["tls.key"]); got != "x" {
		t.Errorf("data[tls.key] = %q, want x", got)
	}
	if s.StringData != nil {
		t.Errorf("stringData = %v, want it cleared as the API server does", s.StringData)
	}
}

func TestLoadHashesAPIKeysSoNoKeyValueStaysInMemory(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "keys.yaml", "apiVersion: v1\nkind: Secret\nmetadata: {name: k}\ntype: turnpike.io/api-key\n"+
		"stringData: {key: new-key-value-of-twenty-chars}\n")
	snap, errs, _ := mustLoad(t, dir)
	if len(errs) > 0 || len(snap.Secrets) != 1 {
		t.Fatalf("errs %v, secrets %d", errs, len(snap.Secrets))
	}
	sum := sha256.Sum256([]byte("new-key-value-of-twenty-chars"))
	if got, want := string(snap.Secrets[0].Data["key"]), hex.EncodeToString(sum[:]); got != want {
		t.Errorf("data.key = %q, want its SHA-256 %q", got, want)
	}
}

func TestReloadKeepsTheLastGoodVersionOfAFileThatFailsACELRule(t *testing.T) {
	dir := t.TempDir()
	log, logs := newCaptureLogger(t)
	l, err := NewLoader(dir, log)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "routes.yaml", routeYAML("a", "GET /a")+"---\n"+routeYAML("b", "GET /b"))
	if _, _, err := l.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "routes.yaml", routeYAML("a", "GET /a")+"---\n"+routeYAML("c", "GET /c/{p+}/x"))
	snap, changed, err := l.Reload(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if changed {
		t.Error("Reload reported a change although the bad file must be ignored")
	}
	if got := routeNames(snap); strings.Join(got, ",") != "a,b" {
		t.Errorf("routes = %v, want the last good version a,b", got)
	}
	if !logs.has("routes.yaml", `"line"=6`, "a greedy variable {name+} may only be the last path segment", "keeping its last good version") {
		t.Error("the CEL message with file and line was not logged")
	}
	if errs := l.Errors(); len(errs) != 1 || errs[0].Line != 6 {
		t.Errorf("Errors() = %v, want one error at line 6", errs)
	}
}

func TestLoadMalformedYAMLDoesNotAffectOtherFiles(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a.yaml", routeYAML("a", "GET /a"))
	writeFile(t, dir, "b.yaml", routeYAML("b", "GET /b")+"---\n# comment\nkind: Route\n  bad: indentation\n")
	snap, errs, logs := mustLoad(t, dir)
	if got := routeNames(snap); strings.Join(got, ",") != "a" {
		t.Errorf("routes = %v, want only a: b.yaml never parsed, so it contributes nothing", got)
	}
	if len(errs) != 1 || errs[0].File != "b.yaml" || errs[0].Line != 8 {
		t.Fatalf("errors = %v, want one in b.yaml at line 8", errs)
	}
	if !logs.has("b.yaml", "contributes nothing") {
		t.Error("the syntax error was not logged")
	}
}

func TestLoadOrdersObjectsWithoutTimestampsByFileNameThenPosition(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "20-more.yaml", routeYAML("third", "GET /c"))
	writeFile(t, dir, "10-first.yml", routeYAML("first", "GET /a")+"---\n"+routeYAML("second", "GET /b"))
	writeFile(t, dir, "30-dated.yaml", strings.Replace(routeYAML("dated", "GET /d"),
		"metadata: {name: dated}", "metadata: {name: dated, creationTimestamp: '2024-05-01T10:00:00Z', uid: u-1, generation: 4}", 1))
	snap, errs, _ := mustLoad(t, dir)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if got := strings.Join(routeNames(snap), ","); got != "first,second,third,dated" {
		t.Fatalf("routes = %s", got)
	}
	for i, want := range []time.Time{SyntheticEpoch, SyntheticEpoch.Add(time.Second), SyntheticEpoch.Add(2 * time.Second)} {
		r := snap.Routes[i]
		if !r.CreationTimestamp.Time.Equal(want) {
			t.Errorf("%s: creationTimestamp %v, want %v", r.Name, r.CreationTimestamp, want)
		}
		if r.Generation != 1 || r.UID == "" {
			t.Errorf("%s: generation %d uid %q, want 1 and a derived uid", r.Name, r.Generation, r.UID)
		}
	}
	dated := snap.Routes[3]
	if dated.CreationTimestamp.Year() != 2024 || dated.UID != "u-1" || dated.Generation != 4 {
		t.Errorf("values set in the file were replaced: %v %q %d", dated.CreationTimestamp, dated.UID, dated.Generation)
	}
}

func TestLoadGivesStableUIDsAcrossLoads(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a.yaml", routeYAML("a", "GET /a")+"---\n"+routeYAML("b", "GET /b"))
	first, _, _ := mustLoad(t, dir)
	second, _, _ := mustLoad(t, dir)
	if first.Routes[0].UID != second.Routes[0].UID || first.Routes[0].UID == first.Routes[1].UID {
		t.Fatalf("uids %q %q then %q", first.Routes[0].UID, first.Routes[1].UID, second.Routes[0].UID)
	}
}

func TestLoadIgnoresSecretsOfOtherTypes(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "s.yaml", "apiVersion: v1\nkind: Secret\nmetadata: {name: opaque}\nstringData: {a: b}\n---\n"+
		"apiVersion: v1\nkind: Secret\nmetadata: {name: docker}\ntype: kubernetes.io/dockerconfigjson\n---\n"+
		"apiVersion: v1\nkind: Secret\nmetadata: {name: tls}\ntype: kubernetes.io/tls\ndata: {tls.crt: '', tls.key: ''}\n")
	snap, errs, logs := mustLoad(t, dir)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if len(snap.Secrets) != 1 || snap.Secrets[0].Name != "tls" {
		t.Fatalf("Secrets = %+v, want only the TLS one", snap.Secrets)
	}
	if !logs.has("ignoring Secret", `"name"="docker"`, "kubernetes.io/dockerconfigjson") || !logs.has("ignoring Secret", `"name"="opaque"`) {
		t.Error("ignored Secrets were not logged")
	}
}

func TestLoadIgnoresUnknownKindsWithALogLine(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "mixed.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {}\n---\n"+apiYAML)
	snap, errs, logs := mustLoad(t, dir)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if len(snap.Apis) != 1 {
		t.Fatalf("Apis = %d, want 1: an unknown kind must not fail the file", len(snap.Apis))
	}
	if !logs.has("ignoring object", `"kind"="Deployment"`, `"line"=1`) {
		t.Error("the ignored Deployment was not logged")
	}
}

func TestLoadKeepsTheFirstOfDuplicateObjectsByFileOrder(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "b.yaml", routeYAML("dup", "GET /from-b"))
	writeFile(t, dir, "a.yaml", routeYAML("dup", "GET /from-a"))
	snap, errs, logs := mustLoad(t, dir)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if len(snap.Routes) != 1 || snap.Routes[0].Spec.RouteKey != "GET /from-a" {
		t.Fatalf("Routes = %+v, want only the one of a.yaml", snap.Routes)
	}
	if !logs.has("duplicate object ignored", `"file"="b.yaml"`, `"first"="a.yaml:1"`) {
		t.Error("the duplicate was not logged")
	}
}

func TestLoadAppliesTheCRDDefaults(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a.yaml", apiYAML+"---\n"+routeYAML("r", "GET /r")+"---\n"+
		"apiVersion: turnpike.io/v1alpha1\nkind: Stage\nmetadata: {name: prod}\nspec: {apiName: pets}\n")
	snap, errs, _ := mustLoad(t, dir)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if a := snap.Apis[0].Spec; a.Protocol != "HTTP" || a.MaxRequestBodyBytes != 10485760 {
		t.Errorf("Api spec = %+v, want protocol HTTP and maxRequestBodyBytes 10485760", a)
	}
	if r := snap.Routes[0].Spec; r.AuthorizationType != "NONE" || r.Integration.TimeoutMillis != 29000 {
		t.Errorf("Route spec = %+v, want authorizationType NONE and timeoutMillis 29000", r)
	}
	if s := snap.Stages[0].Spec; s.StageName != "" {
		t.Errorf("stageName = %q, want none: it defaults to metadata.name in the translator, not the schema", s.StageName)
	}
}

func TestLoadReadsOnlyVisibleYAMLFilesAndFollowsSymlinks(t *testing.T) {
	dir := t.TempDir()
	other := t.TempDir()
	writeFile(t, other, "target.yaml", routeYAML("linked", "GET /l"))
	if err := os.Symlink(filepath.Join(other, "target.yaml"), filepath.Join(dir, "linked.yaml")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, ".hidden.yaml", routeYAML("hidden", "GET /h"))
	writeFile(t, dir, "notes.txt", routeYAML("txt", "GET /t"))
	if err := os.Mkdir(filepath.Join(dir, "sub.yaml"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "sub.yaml"), "nested.yaml", routeYAML("nested", "GET /n"))
	snap, errs, _ := mustLoad(t, dir)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if got := strings.Join(routeNames(snap), ","); got != "linked" {
		t.Fatalf("routes = %s, want only the symlinked file", got)
	}
}

func TestReloadReportsAChangeOnlyWhenTheEffectiveSetChanges(t *testing.T) {
	dir := t.TempDir()
	log, _ := newCaptureLogger(t)
	l, err := NewLoader(dir, log)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "a.yaml", routeYAML("a", "GET /a"))
	steps := []struct {
		name        string
		edit        func()
		wantChanged bool
		wantRoutes  string
	}{
		{"the first load", func() {}, true, "a"},
		{"nothing changed", func() {}, false, "a"},
		{"a comment added", func() { writeFile(t, dir, "a.yaml", "# hi\n"+routeYAML("a", "GET /a")) }, false, "a"},
		{"a route added", func() { writeFile(t, dir, "b.yaml", routeYAML("b", "GET /b")) }, true, "a,b"},
		{"a file removed", func() { _ = os.Remove(filepath.Join(dir, "a.yaml")) }, true, "b"},
	}
	for _, s := range steps {
		s.edit()
		snap, changed, err := l.Reload(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if changed != s.wantChanged || strings.Join(routeNames(snap), ",") != s.wantRoutes {
			t.Errorf("%s: changed=%v routes=%v, want %v %s", s.name, changed, routeNames(snap), s.wantChanged, s.wantRoutes)
		}
	}
}

func TestSplitDocumentsReportsTheFirstContentLine(t *testing.T) {
	docs := splitDocuments([]byte("---\n# c\n\na: 1\n--- # x\nb: 2\n---\n# only a comment\n"))
	if len(docs) != 2 || docs[0].contentLine != 4 || docs[1].contentLine != 6 {
		t.Fatalf("docs = %+v", docs)
	}
}

// Editing a file that holds an ignored duplicate (a comment is enough)
// logs the duplicate again, even though no object changed.
func TestAnEditOfAFileWithADuplicateLogsItAgain(t *testing.T) {
	dir := t.TempDir()
	log, logs := newCaptureLogger(t)
	l, err := NewLoader(dir, log)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "a.yaml", apiYAML+"---\n"+routeYAML("r", "GET /a"))
	writeFile(t, dir, "b.yaml", routeYAML("r", "GET /b"))
	count := func() (n int) {
		for _, line := range logs.lines {
			if strings.Contains(line, "duplicate object ignored") {
				n++
			}
		}
		return n
	}
	if _, _, err := l.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	before := count()
	writeFile(t, dir, "b.yaml", "# still ignored\n"+routeYAML("r", "GET /b"))
	if _, changed, err := l.Reload(context.Background()); err != nil || changed {
		t.Fatalf("reload: changed %v, %v (nothing served changed)", changed, err)
	}
	if count() != before+1 {
		t.Fatalf("editing b.yaml logged the ignored duplicate %d times, then %d", before, count())
	}
	writeFile(t, dir, "b.yaml", routeYAML("other", "GET /b"))
	if _, _, err := l.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	after := count()
	writeFile(t, dir, "b.yaml", "# no duplicate now\n"+routeYAML("other", "GET /b"))
	if _, _, err := l.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if count() != after {
		t.Fatal("a duplicate was logged for a file that no longer holds one")
	}
}
