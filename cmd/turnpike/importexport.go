package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/turnpike-io/turnpike/controllers/awsimport"
)

// runImport is `turnpike import [flags] FILE`: objects on stdout, the report
// on stderr.
func runImport(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var opts awsimport.Options
	var strict bool
	fs := flag.NewFlagSet("turnpike import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&opts.Namespace, "namespace", "", "namespace of the objects (default: none, so kubectl's or standalone's default applies)")
	fs.StringVar(&opts.Name, "name", "", "name of the Api (default: the document's info.title made a valid name)")
	fs.StringVar(&opts.Stage, "stage", "", "stage name (default $default; a template's own stage name otherwise)")
	fs.StringVar(&opts.BasePath, "basepath", "ignore", "what to do with the document's base path, as AWS's importer: ignore, prepend or split")
	fs.Var(&opts.ServiceMap, "service-map", "HOST_OR_FUNCTION=service:port: send an HTTP URI host or a Lambda function (name or ARN) to a Service (repeatable)")
	fs.BoolVar(&strict, "strict", false, "fail when anything is not carried over")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("import needs one FILE (or - for stdin)")
	}
	var data []byte
	var err error
	if fs.Arg(0) == "-" {
		data, err = io.ReadAll(stdin)
	} else {
		data, err = os.ReadFile(fs.Arg(0))
	}
	if err != nil {
		return err
	}
	res, err := awsimport.Import(data, opts)
	if err != nil {
		return err
	}
	if err := res.Report.Write(stderr); err != nil {
		return err
	}
	if strict && len(res.Report.Items) > 0 {
		return fmt.Errorf("--strict: %d items are not carried over (listed above)", len(res.Report.Items))
	}
	return res.WriteYAML(stdout)
}

// runExport is `turnpike export --api A --namespace N (-f DIR | --kubeconfig ...)`.
func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var api, ns, dir, kubeconfig string
	fs := flag.NewFlagSet("turnpike export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&api, "api", "", "name of the Api to export (required)")
	fs.StringVar(&ns, "namespace", "default", "namespace of the Api")
	fs.StringVar(&dir, "f", "", "read the objects from this directory of YAML files (as standalone mode)")
	fs.StringVar(&kubeconfig, "kubeconfig", "", "read the objects from the cluster of this kubeconfig")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if api == "" || fs.NArg() > 0 {
		return errors.New("export needs --api NAME, and no arguments")
	}
	var out []byte
	var err error
	switch {
	case dir != "" && kubeconfig != "":
		return errors.New("export reads either -f DIR or --kubeconfig, not both")
	case dir != "":
		out, err = awsimport.ExportFromDir(dir, api, ns)
	default:
		cfg, cerr := restConfig(kubeconfig)
		if cerr != nil {
			return cerr
		}
		out, err = awsimport.ExportFromCluster(ctx, cfg, api, ns)
	}
	if err != nil {
		return err
	}
	_, err = stdout.Write(out)
	return err
}
