package e2e

import (
	"path/filepath"
	"testing"
)

func TestSamplesApplyWithKubectl(t *testing.T) {
	c := startCluster(t)
	out, err := c.kubectl(t, "apply", "-k", filepath.Join(repoRoot(), "config", "samples"))
	if err != nil {
		t.Fatal(err)
	}
	t.Log(out)
}
