package controllers

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/turnpike-io/turnpike/controllers/translate"
)

// fingerprintMeta is the part of ObjectMeta the translation may depend on.
// resourceVersion and managedFields are left out on purpose: they change on
// every status write.
type fingerprintMeta struct {
	Namespace         string            `json:"ns"`
	Name              string            `json:"n"`
	UID               types.UID         `json:"u,omitempty"`
	Generation        int64             `json:"g,omitempty"`
	CreationTimestamp metav1.Time       `json:"c"`
	Deleting          bool              `json:"d,omitempty"`
	Labels            map[string]string `json:"l,omitempty"`
	Annotations       map[string]string `json:"a,omitempty"`
}

type fingerprintEntry struct {
	Kind string          `json:"k"`
	Meta fingerprintMeta `json:"m"`
	Spec any             `json:"s"`
}

type secretContent struct {
	Type string            `json:"t"`
	Data map[string][]byte `json:"d,omitempty"`
}

func metaOf(m *metav1.ObjectMeta) fingerprintMeta {
	return fingerprintMeta{
		Namespace: m.Namespace, Name: m.Name, UID: m.UID, Generation: m.Generation,
		CreationTimestamp: m.CreationTimestamp, Deleting: m.DeletionTimestamp != nil,
		Labels: m.Labels, Annotations: m.Annotations,
	}
}

// Fingerprint hashes everything in snap that the translation depends on, and
// nothing else: EndpointSlices are left out (they take the endpoint fast
// path), and so are status, resourceVersion and managedFields (the status
// writer's own writes change those and must not cause a re-translation).
// Objects are hashed in slice order: sources sort them, so equal content gives
// an equal fingerprint. It encodes specs, never copies objects, so its cost is
// one JSON encoding of the snapshot.
func Fingerprint(snap *translate.Snapshot) ([sha256.Size]byte, error) {
	h := sha256.New()
	enc := json.NewEncoder(h)
	var err error
	add := func(kind string, m *metav1.ObjectMeta, spec any) {
		if err == nil {
			err = enc.Encode(fingerprintEntry{Kind: kind, Meta: metaOf(m), Spec: spec})
		}
	}
	for i := range snap.Apis {
		add("Api", &snap.Apis[i].ObjectMeta, &snap.Apis[i].Spec)
	}
	for i := range snap.Routes {
		add("Route", &snap.Routes[i].ObjectMeta, &snap.Routes[i].Spec)
	}
	for i := range snap.Stages {
		add("Stage", &snap.Stages[i].ObjectMeta, &snap.Stages[i].Spec)
	}
	for i := range snap.Authorizers {
		add("Authorizer", &snap.Authorizers[i].ObjectMeta, &snap.Authorizers[i].Spec)
	}
	for i := range snap.UsagePlans {
		add("UsagePlan", &snap.UsagePlans[i].ObjectMeta, &snap.UsagePlans[i].Spec)
	}
	for i := range snap.Services {
		add("Service", &snap.Services[i].ObjectMeta, &snap.Services[i].Spec)
	}
	for i := range snap.Secrets {
		s := &snap.Secrets[i]
		add("Secret", &s.ObjectMeta, secretContent{Type: string(s.Type), Data: s.Data})
	}
	var sum [sha256.Size]byte
	if err != nil {
		return sum, fmt.Errorf("fingerprint: %w", err)
	}
	copy(sum[:], h.Sum(nil))
	return sum, nil
}
