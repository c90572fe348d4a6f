package harness

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// RIEModule is the Lambda Runtime Interface Emulator's main package and
// version (the version in the environment's package list).
const RIEModule = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d"

var (
	rieOnce sync.Once
	riePath string
	rieErr  error
)

// RIE returns bin/aws-lambda-rie, building it from the Go module proxy with
// `go install` when it is missing (about a minute the first time; CI's
// `make test` builds it first).
func RIE(t testing.TB) string {
	t.Helper()
	rieOnce.Do(func() {
		bin := filepath.Join(RepoRoot(), "bin")
		riePath = filepath.Join(bin, "aws-lambda-rie")
		if _, err := os.Stat(riePath); err == nil {
			return
		}
		cmd := exec.Command("go", "install", RIEModule)
		cmd.Env = append(os.Environ(), "GOBIN="+bin, "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			rieErr = fmt.Errorf("go install %s: %w\n%s", RIEModule, err, out)
		}
	})
	if rieErr != nil {
		t.Fatal(rieErr)
	}
	return riePath
}
