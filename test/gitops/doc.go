// Package gitops tests that the status the translator produces reads as
// health in the GitOps tools: kstatus (Flux, kubectl wait, cli-utils) and
// the Argo CD Lua health checks shipped in config/argocd and docs/gitops.md.
// It holds tests only; the objects under test are real translator output,
// never hand-written conditions, so a change in the translator's conditions
// that the tools would misread fails here.
package gitops
