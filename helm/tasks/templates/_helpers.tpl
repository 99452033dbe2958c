{{- define "tasks.fullname" -}}
{{- printf "%s" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "tasks.labels" -}}
app.kubernetes.io/name: tasks
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "tasks.selectorLabels" -}}
app.kubernetes.io/name: tasks
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: app
{{- end -}}

{{/* The app's pod labels: the common labels and the selector labels, merged so that
every key appears once (strict YAML parsers reject a mapping with a repeated key). */}}
{{- define "tasks.podLabels" -}}
{{- $labels := merge (include "tasks.selectorLabels" . | fromYaml) (include "tasks.labels" . | fromYaml) -}}
{{- toYaml $labels -}}
{{- end -}}

{{- define "tasks.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
{{- end -}}

{{- define "tasks.dbCluster" -}}
{{- printf "%s-db" (include "tasks.fullname" .) -}}
{{- end -}}

{{/* A security context for every container: non-root, read-only, no privileges. */}}
{{- define "tasks.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}
