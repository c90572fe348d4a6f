package standalone

import (
	"context"
	"testing"

	"github.com/turnpike-io/turnpike/config/crd"
)

func TestEmbeddedCRDsPassTheAPIServersCRDValidation(t *testing.T) {
	crds, err := crd.CRDs()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range crds {
		if err := ValidateCRD(context.Background(), c); err != nil {
			t.Errorf("a cluster would refuse %s: %v", c.Name, err)
		}
	}
}
