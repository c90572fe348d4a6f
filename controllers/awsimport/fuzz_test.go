package awsimport

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzImport: any input gives objects or an error, never a panic, and
// whatever is produced exports.
func FuzzImport(f *testing.F) {
	for _, dir := range []string{"aws", "sam", "own", "malformed"} {
		files, _ := filepath.Glob(filepath.Join("testdata", dir, "*"))
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Import(data, Options{Namespace: "fuzz"})
		if err != nil {
			return
		}
		for i := range res.Apis {
			if _, err := Export(ExportInput{Api: res.Apis[i], Routes: res.Routes, Authorizers: res.Authorizers}); err != nil {
				t.Fatalf("export of an import failed: %v", err)
			}
		}
	})
}
