package awsimport

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func exportOf(t *testing.T, res *Result) []byte {
	t.Helper()
	out, err := Export(ExportInput{Api: res.Apis[0], Routes: res.Routes, Authorizers: res.Authorizers})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The export of an imported AWS sample is stable (a golden file), and
// importing the export gives the same Api, Routes and Authorizers, so it
// serves the same answers.
func TestExportOfImportedSamplesIsStableAndRoundTrips(t *testing.T) {
	for _, fc := range fixtureCases {
		t.Run(fc.file, func(t *testing.T) {
			res := mustImport(t, fc.file, fc.opts)
			doc := exportOf(t, res)
			base := goldenBase(fc.file)
			golden(t, base+".export.yaml", doc)
			if again := exportOf(t, mustImport(t, fc.file, fc.opts)); string(again) != string(doc) {
				t.Fatal("two exports differ")
			}
			back, err := Import(doc, Options{Namespace: fc.opts.Namespace, Name: res.Apis[0].Name, Stage: res.Stages[0].Spec.StageName})
			if err != nil {
				t.Fatalf("import of the export: %v", err)
			}
			validateObjects(t, back)
			if diff := cmp.Diff(res.Apis[0].Spec, back.Apis[0].Spec); diff != "" {
				t.Errorf("Api differs after export and import (-before +after):\n%s", diff)
			}
			if diff := cmp.Diff(res.Routes, back.Routes); diff != "" {
				t.Errorf("Routes differ after export and import (-before +after):\n%s", diff)
			}
			if diff := cmp.Diff(res.Authorizers, back.Authorizers); diff != "" {
				t.Errorf("Authorizers differ after export and import (-before +after):\n%s", diff)
			}
			if len(back.Report.Items) != 0 {
				t.Errorf("the export of Turnpike objects should import without losses, got:\n%s", reportOf(t, back))
			}
		})
	}
}

// The round trip serves the same answers: the PetStore export, imported
// again, answers the probes as the first import did.
func TestRoundTripServesTheSameAnswers(t *testing.T) {
	be := newBackend(t)
	opts := Options{Namespace: "shop", ServiceMap: ServiceMap{"petstore.execute-api.us-west-1.amazonaws.com": {Name: "petstore", Port: 80}}}
	res := mustImport(t, "http-petstore.json", opts)
	back, err := Import(exportOf(t, res), Options{Namespace: "shop", Name: "example-pet-store"})
	if err != nil {
		t.Fatal(err)
	}
	g := startGateway(t, files(t, back, be.serviceYAML("petstore", "shop")))
	resp, body := g.do(t, "GET", "example-pet-store", "shop", "/pets/7?x=1", nil, "")
	if resp.StatusCode != 200 || be.req().URL.Path != "/petstore/pets/7" || be.req().URL.RawQuery != "x=1" {
		t.Fatalf("%d %s; backend saw %s?%s", resp.StatusCode, body, be.req().URL.Path, be.req().URL.RawQuery)
	}
}
