package e2e

import (
	"os"
	"testing"

	"github.com/turnpike-io/turnpike/test/harness"
)

// TestMain removes the binaries the tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	harness.RemoveBuilt()
	os.Exit(code)
}
