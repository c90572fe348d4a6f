package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const validationSample = "../../controllers/awsimport/testdata/aws/request-validation.json"

// import writes objects to stdout and the report to stderr; --strict fails
// when the report has items; export reads the imported files back.
func TestImportAndExportCommands(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"import", "--namespace", "shop", "--stage", "prod", validationSample}, &out, &errb); code != 0 {
		t.Fatalf("import: exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "kind: Route") || !strings.Contains(errb.String(), "not carried over: GET /validation:") {
		t.Fatalf("stdout:\n%s\nstderr:\n%s", out.String(), errb.String())
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "api.yaml"), out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var strictOut, strictErr bytes.Buffer
	if code := run([]string{"import", "--strict", validationSample}, &strictOut, &strictErr); code != 1 || strictOut.Len() != 0 ||
		!strings.Contains(strictErr.String(), "--strict: 4 items are not carried over") {
		t.Fatalf("--strict: exit %d, stdout %q, stderr %s", code, strictOut.String(), strictErr.String())
	}
	var exp, expErr bytes.Buffer
	if code := run([]string{"export", "--api", "reqvalidators-sample", "--namespace", "shop", "-f", dir}, &exp, &expErr); code != 0 {
		t.Fatalf("export: exit %d: %s", code, expErr.String())
	}
	if !strings.Contains(exp.String(), "x-amazon-apigateway-request-validator: all") {
		t.Fatalf("export:\n%s", exp.String())
	}
	if code := run([]string{"export", "--api", "nope", "--namespace", "shop", "-f", dir}, &exp, &expErr); code != 1 ||
		!strings.Contains(expErr.String(), `no Api "nope" in namespace "shop"`) {
		t.Fatalf("export of a missing Api: exit %d: %s", code, expErr.String())
	}
	if code := run([]string{"import", "--basepath", "strip", validationSample}, &out, &errb); code != 1 {
		t.Fatalf("bad --basepath: exit %d", code)
	}
}
