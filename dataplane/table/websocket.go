package table

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// WebSocket Apis (api.md: protocol WEBSOCKET; docs/websocket.md).
//   - A WEBSOCKET Api's stages have no path router: a connection opens on
//     the stage's path and each event picks its route by key ($connect,
//     $disconnect, the key its message selects, else $default), through
//     Stage.WebSocketRoute.
//   - The route selection expression is compiled once by the translator
//     (Api.RouteSelection); the table only carries it.
//   - The @connections credentials (Api.Management) are configuration like
//     any other; the secret key is never rendered (json "-"), only its
//     fingerprint, so a rotation still changes the Api's hash.

// ProtocolWebSocket is an AWS WebSocket API.
const ProtocolWebSocket Protocol = "WEBSOCKET"

// Route keys of WebSocket Apis besides DefaultRouteKey.
const (
	ConnectRouteKey    = "$connect"
	DisconnectRouteKey = "$disconnect"
)

// Management is who may call the @connections API of a WEBSOCKET Api.
type Management struct {
	// Credentials are the access keys that may sign @connections requests
	// (AWS Signature Version 4, service execute-api), sorted by AccessKeyID.
	Credentials []Credential `json:"credentials"`
}

// Credential is one access key pair of a turnpike.io/aws-credentials Secret.
type Credential struct {
	// AccessKeyID names the key (not a secret: it appears in every signed
	// request).
	AccessKeyID string `json:"accessKeyId"`
	// SecretAccessKey signs; never rendered.
	SecretAccessKey string `json:"-"`
	// Fingerprint is a short hash of the secret key, rendered so that a
	// rotated key changes the table's JSON (and the Api's config hash).
	Fingerprint string `json:"fingerprint"`
	// Secret is "namespace/name" of the Secret it came from.
	Secret string `json:"secret"`
}

// Secret returns the secret access key of id; ok is false for an unknown id.
func (m *Management) Secret(id string) (secret string, ok bool) {
	if m == nil {
		return "", false
	}
	i, found := slices.BinarySearchFunc(m.Credentials, id, func(c Credential, id string) int { return strings.Compare(c.AccessKeyID, id) })
	if !found {
		return "", false
	}
	return m.Credentials[i].SecretAccessKey, true
}

// WebSocketRoute returns the route with key in a WEBSOCKET stage, or nil.
func (s *Stage) WebSocketRoute(key string) *Route { return s.byKey[key] }

// compileWebSocket indexes the routes of a WEBSOCKET stage by key.
func (s *Stage) compileWebSocket() error {
	slices.SortFunc(s.Routes, func(x, y *Route) int { return strings.Compare(x.Key, y.Key) })
	s.byKey = make(map[string]*Route, len(s.Routes))
	var errs []error
	for _, r := range s.Routes {
		if err := r.validate(); err != nil {
			errs = append(errs, fmt.Errorf("route %q: %w", r.Key, err))
		}
		if strings.HasPrefix(r.Key, "$") && r.Key != DefaultRouteKey && r.Key != ConnectRouteKey && r.Key != DisconnectRouteKey {
			errs = append(errs, fmt.Errorf("route key %q is not a WebSocket route key", r.Key))
		}
		if _, dup := s.byKey[r.Key]; dup {
			errs = append(errs, fmt.Errorf("route key %q appears twice", r.Key))
			continue
		}
		s.byKey[r.Key] = r
	}
	s.router = newRouter(nil, nil)
	return errors.Join(errs...)
}

// validateWebSocket checks the parts of an Api that only WEBSOCKET Apis have.
func (a *Api) validateWebSocket() error {
	if a.Protocol != ProtocolWebSocket {
		if a.RouteSelection != nil || a.Management != nil {
			return errors.New("routeSelection and management apply only to WEBSOCKET Apis")
		}
		return nil
	}
	if a.RouteSelection == nil {
		return errors.New("a WEBSOCKET Api needs a route selection expression")
	}
	if m := a.Management; m != nil && !slices.IsSortedFunc(m.Credentials, func(x, y Credential) int { return strings.Compare(x.AccessKeyID, y.AccessKeyID) }) {
		return errors.New("management credentials are not sorted by access key id")
	}
	return nil
}

// ApiNamed returns the Api namespace/name, or nil (binary search over the
// sorted Apis).
func (t *Table) ApiNamed(namespace, name string) *Api {
	if t == nil {
		return nil
	}
	i, ok := slices.BinarySearchFunc(t.Apis, namespace+"/"+name, func(a *Api, key string) int {
		return strings.Compare(a.Namespace+"/"+a.Name, key)
	})
	if !ok {
		return nil
	}
	return t.Apis[i]
}
