package standalone

import (
	"strings"
	"testing"
)

// TestLoadRefusesANonStringWhereAStringBelongs proves issue 17's finding
// fixed: YAML 1.1 reads an unquoted n, yes, on, ... as a boolean and a bare
// number as a number; in metadata such a value is an error for its file at
// the line of its key (kubectl apply refuses the same file with a type
// error), never read as absent (namespace "default", labels dropped).
// Quoted, the same values load.
func TestLoadRefusesANonStringWhereAStringBelongs(t *testing.T) {
	cases := []struct {
		name, doc string
		line      int
		field     string
	}{
		{"namespace n in flow style", "apiVersion: turnpike.io/v1alpha1\nkind: Api\nmetadata: {name: pets, namespace: n}\n", 5, "metadata.namespace"},
		{"namespace yes in block style", "apiVersion: turnpike.io/v1alpha1\nkind: Api\nmetadata:\n  name: pets\n  namespace: yes\n", 7, "metadata.namespace"},
		{"a numeric name", "apiVersion: v1\nkind: Service\nmetadata:\n  name: 123\nspec: {ports: [{port: 80}]}\n", 6, "metadata.name"},
		{"a boolean label value", "apiVersion: v1\nkind: Secret\ntype: turnpike.io/api-key\nmetadata:\n  name: k\n  labels:\n    gold: on\nstringData: {key: abcdefghijklmnopqrstuvwxyz}\n", 8, "metadata.labels"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, "a.yaml", apiYAML)
			writeFile(t, dir, "b.yaml", "# the second object\n---\n"+c.doc)
			snap, errs, _ := mustLoad(t, dir)
			if len(errs) != 1 || errs[0].File != "b.yaml" || errs[0].Line != c.line ||
				!strings.Contains(errs[0].Message, c.field) || !strings.Contains(errs[0].Message, "quote the value") {
				t.Fatalf("errors = %v, want one in b.yaml at line %d about %s", errs, c.line, c.field)
			}
			if len(snap.Apis) != 1 || snap.Apis[0].Namespace != "default" || len(snap.Services) != 0 || len(snap.Secrets) != 0 {
				t.Fatalf("snapshot has %d Apis, %d Services, %d Secrets: b.yaml must contribute nothing", len(snap.Apis), len(snap.Services), len(snap.Secrets))
			}
		})
	}
	t.Run("quoted, the same values load", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, dir, "a.yaml", "apiVersion: turnpike.io/v1alpha1\nkind: Api\nmetadata: {name: pets, namespace: 'n'}\n")
		snap, errs, _ := mustLoad(t, dir)
		if len(errs) != 0 || len(snap.Apis) != 1 || snap.Apis[0].Namespace != "n" {
			t.Fatalf("errors %v, Apis %+v: want the Api in namespace n", errs, snap.Apis)
		}
	})
}
