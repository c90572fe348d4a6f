package dataplane

import (
	"fmt"
	"strings"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

// resolveStage is the stage step: on the default endpoint the first path
// segment names the stage, else the $default stage serves the whole path;
// a custom domain's API mapping has chosen it already (step_host.go).
func (x *exchange) resolveStage() bool {
	if x.stage != nil { // a custom domain's mapping chose it
		return true
	}
	segs := x.path.dec
	if len(segs) > 0 && segs[0] != table.DefaultStage {
		if st := x.api.Stage(segs[0]); st != nil {
			x.stage, x.segs = st, segs[1:]
			x.rest = x.path.escaped[1+len(x.path.raw[0]):]
			if x.rest == "" {
				x.rest = "/"
			}
			return true
		}
	}
	if st := x.api.Stage(table.DefaultStage); st != nil {
		x.stage, x.segs, x.rest = st, segs, x.path.escaped
		return true
	}
	typ, status, msg := noRoute(x.api.Protocol)
	x.fail(typ, status, msg, stageHint(x.api, segs))
	return false
}

func stageHint(api *table.Api, segs []string) string {
	have := "this Api has no stages"
	if names := api.StageNames(); len(names) > 0 {
		have = "this Api has stages: " + strings.Join(names, ", ")
	}
	if len(segs) == 0 {
		return "the path names no stage and there is no $default stage; " + have
	}
	return fmt.Sprintf("no stage named %q; %s", segs[0], have)
}
