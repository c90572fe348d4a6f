{{/* Chart name, overridable. */}}
{{- define "turnpike.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name of the objects: the release name, plus the chart name unless it is already in it. */}}
{{- define "turnpike.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Labels that select the gateway Pods. */}}
{{- define "turnpike.selectorLabels" -}}
app.kubernetes.io/name: {{ include "turnpike.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "turnpike.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "turnpike.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: turnpike
{{- end }}

{{- define "turnpike.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "turnpike.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "turnpike.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The namespace the gateway watches: "" for all. rbac.namespaced defaults it to the release namespace. */}}
{{- define "turnpike.watchNamespace" -}}
{{- if .Values.rbac.namespaced }}
{{- default .Release.Namespace .Values.gateway.namespace }}
{{- else }}
{{- .Values.gateway.namespace }}
{{- end }}
{{- end }}

{{- define "turnpike.leaseNamespace" -}}
{{- default .Release.Namespace .Values.gateway.leaseNamespace }}
{{- end }}

{{/* The port number of a listen address such as ":8080" or "0.0.0.0:8080". */}}
{{- define "turnpike.port" -}}
{{- regexFind "[0-9]+$" . }}
{{- end }}

{{/*
Whole seconds (rounded up) of a Go duration made of h, m, s and ms terms
("5s", "1m30s", "500ms"); values.schema.json admits only those forms.
*/}}
{{- define "turnpike.seconds" -}}
{{- $ms := 0 }}
{{- range regexFindAll "[0-9]+(ms|h|m|s)" (toString .) -1 }}
{{- $n := int64 (regexFind "^[0-9]+" .) }}
{{- if hasSuffix "ms" . }}{{ $ms = add $ms $n }}
{{- else if hasSuffix "h" . }}{{ $ms = add $ms (mul $n 3600000) }}
{{- else if hasSuffix "m" . }}{{ $ms = add $ms (mul $n 60000) }}
{{- else }}{{ $ms = add $ms (mul $n 1000) }}
{{- end }}
{{- end }}
{{- div (add $ms 999) 1000 }}
{{- end }}

{{/* terminationGracePeriodSeconds: at least --shutdown-delay plus --drain-timeout. */}}
{{- define "turnpike.terminationGracePeriodSeconds" -}}
{{- $need := add (include "turnpike.seconds" (default "5s" .Values.gateway.shutdownDelay)) (include "turnpike.seconds" (default "30s" .Values.gateway.drainTimeout)) }}
{{- if kindIs "invalid" .Values.terminationGracePeriodSeconds }}
{{- add $need .Values.terminationGraceMarginSeconds }}
{{- else if lt (int64 .Values.terminationGracePeriodSeconds) (int64 $need) }}
{{- fail (printf "terminationGracePeriodSeconds (%v) must cover gateway.shutdownDelay + gateway.drainTimeout (%v seconds), or in-flight requests are killed on shutdown" .Values.terminationGracePeriodSeconds $need) }}
{{- else }}
{{- .Values.terminationGracePeriodSeconds }}
{{- end }}
{{- end }}

{{/* "--name=value" for a flag value that is set (not null, not "", not []). */}}
{{- define "turnpike.flag" -}}
{{- $v := index . 1 }}
{{- if kindIs "slice" $v }}
{{- if $v }}
- {{ printf "--%s=%s" (index . 0) (join "," $v) | quote }}
{{- end }}
{{- else if and (kindIs "float64" $v) (eq $v (float64 (int64 $v))) }}
- {{ printf "--%s=%d" (index . 0) (int64 $v) | quote }}
{{- else if not (or (kindIs "invalid" $v) (and (kindIs "string" $v) (eq $v ""))) }}
- {{ printf "--%s=%v" (index . 0) $v | quote }}
{{- end }}
{{- end }}

{{/* The arguments of `turnpike serve`. */}}
{{- define "turnpike.args" -}}
{{- $g := .Values.gateway -}}
- serve
{{- include "turnpike.flag" (list "http-addr" $g.httpAddr) }}
{{- if $g.httpsAddr }}
{{- include "turnpike.flag" (list "https-addr" $g.httpsAddr) }}
{{- else }}
- "--https-addr="
{{- end }}
{{- include "turnpike.flag" (list "metrics-addr" $g.metricsAddr) }}
{{- include "turnpike.flag" (list "health-addr" $g.healthAddr) }}
{{- include "turnpike.flag" (list "admin-addr" $g.adminAddr) }}
{{- include "turnpike.flag" (list "default-domain" $g.defaultDomain) }}
{{- include "turnpike.flag" (list "trusted-proxies" $g.trustedProxies) }}
{{- include "turnpike.flag" (list "deny-egress-cidrs" $g.denyEgressCidrs) }}
{{- include "turnpike.flag" (list "allow-link-local-egress" $g.allowLinkLocalEgress) }}
{{- include "turnpike.flag" (list "shutdown-delay" $g.shutdownDelay) }}
{{- include "turnpike.flag" (list "drain-timeout" $g.drainTimeout) }}
{{- include "turnpike.flag" (list "log-format" $g.logFormat) }}
{{- include "turnpike.flag" (list "leader-elect" $g.leaderElect) }}
{{- include "turnpike.flag" (list "namespace" (include "turnpike.watchNamespace" .)) }}
{{- include "turnpike.flag" (list "lease-namespace" $g.leaseNamespace) }}
{{- include "turnpike.flag" (list "kube-api-qps" $g.kubeApiQps) }}
{{- include "turnpike.flag" (list "kube-api-burst" $g.kubeApiBurst) }}
{{- include "turnpike.flag" (list "rate-limit" $g.rateLimit) }}
{{- include "turnpike.flag" (list "burst-limit" $g.burstLimit) }}
{{- if .Values.redis.existingSecret }}
- "--redis-url=$(REDIS_URL)"
{{- end }}
{{- include "turnpike.flag" (list "redis-failure-mode" $g.redisFailureMode) }}
{{- include "turnpike.flag" (list "allow-http-jwks" $g.allowHttpJwks) }}
{{- include "turnpike.flag" (list "websocket-max-frame-bytes" $g.websocketMaxFrameBytes) }}
{{- include "turnpike.flag" (list "websocket-max-message-bytes" $g.websocketMaxMessageBytes) }}
{{- include "turnpike.flag" (list "websocket-idle-timeout" $g.websocketIdleTimeout) }}
{{- include "turnpike.flag" (list "websocket-max-lifetime" $g.websocketMaxLifetime) }}
{{- include "turnpike.flag" (list "websocket-advertise-address" $g.websocketAdvertiseAddress) }}
{{- include "turnpike.flag" (list "function-queue-length" $g.functionQueueLength) }}
{{- include "turnpike.flag" (list "max-connections" $g.maxConnections) }}
{{- include "turnpike.flag" (list "read-header-timeout" $g.readHeaderTimeout) }}
{{- include "turnpike.flag" (list "idle-timeout" $g.idleTimeout) }}
{{- include "turnpike.flag" (list "max-header-bytes" $g.maxHeaderBytes) }}
{{- range $g.extraArgs }}
- {{ . | quote }}
{{- end }}
{{- end }}

{{/* The RBAC rules of `turnpike serve` that are not about the Lease: the
ClusterRole of config/rbac/role.yaml (generated from controllers/cluster/rbac.go;
test/helm checks they are equal). */}}
{{- define "turnpike.watchRules" -}}
- apiGroups:
  - ""
  resources:
  - events
  verbs:
  - create
  - patch
- apiGroups:
  - ""
  resources:
  - secrets
  - services
  verbs:
  - get
  - list
  - watch
- apiGroups:
  - discovery.k8s.io
  resources:
  - endpointslices
  verbs:
  - get
  - list
  - watch
- apiGroups:
  - turnpike.io
  resources:
  - apis
  - authorizers
  - routes
  - stages
  - usageplans
  verbs:
  - get
  - list
  - watch
- apiGroups:
  - turnpike.io
  resources:
  - apis/status
  - authorizers/status
  - routes/status
  - stages/status
  - usageplans/status
  verbs:
  - get
  - patch
  - update
{{- end }}

{{/* The Lease rules: the Role of config/rbac/role.yaml. */}}
{{- define "turnpike.leaseRules" -}}
- apiGroups:
  - coordination.k8s.io
  resources:
  - leases
  verbs:
  - create
  - delete
  - get
  - list
  - update
{{- end }}
