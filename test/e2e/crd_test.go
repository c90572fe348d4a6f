package e2e

import (
	"path/filepath"
	"testing"

	"github.com/turnpike-io/turnpike/test/harness"
)

func TestSamplesApplyWithKubectl(t *testing.T) {
	c := startCluster(t)
	out, err := c.kubectl(t, "apply", "-k", filepath.Join(harness.RepoRoot(), "config", "samples"))
	if err != nil {
		t.Fatal(err)
	}
	t.Log(out)
}
