{{/* The chart's name, or nameOverride. */}}
{{- define "jolt.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name: <release>-jolt, or just the release when it already says jolt. */}}
{{- define "jolt.fullname" -}}
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

{{- define "jolt.namespace" -}}
{{- default .Release.Namespace .Values.namespaceOverride }}
{{- end }}

{{- define "jolt.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels every object carries. */}}
{{- define "jolt.labels" -}}
helm.sh/chart: {{ include "jolt.chart" . }}
{{ include "jolt.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: jolt
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "jolt.selectorLabels" -}}
app.kubernetes.io/name: {{ include "jolt.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "jolt.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "jolt.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "jolt.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The Secret holding the control token. */}}
{{- define "jolt.tokenSecret" -}}
{{- default (printf "%s-control-token" (include "jolt.fullname" .)) .Values.control.token.existingSecret }}
{{- end }}

{{/* Host names Alertmanager and others use to reach the control API through the Service. */}}
{{- define "jolt.allowedHosts" -}}
{{- $svc := include "jolt.fullname" . }}
{{- $ns := include "jolt.namespace" . }}
{{- $hosts := .Values.control.allowedHosts }}
{{- if not $hosts }}
{{- $hosts = list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.cluster.local" $svc $ns) }}
{{- end }}
{{- toYaml $hosts }}
{{- end }}

{{/*
Relabelings shared by the ServiceMonitor and the PodMonitor: the job is always "jolt" (the
rules and dashboards select job="jolt") and the instance optionally the node's name.
`jolt --fleet-from-prometheus` finds each pod's control API from its scrape address (the pod
IP), so no extra label is added to every series.
*/}}
{{- define "jolt.relabelings" -}}
- action: replace
  targetLabel: job
  replacement: jolt
{{- if .monitor.instanceFromNodeName }}
- action: replace
  sourceLabels: [__meta_kubernetes_pod_node_name]
  targetLabel: instance
{{- end }}
{{- with .monitor.relabelings }}
{{ toYaml . }}
{{- end }}
{{- end }}
