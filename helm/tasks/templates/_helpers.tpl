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

{{/* The migration Job's pods (templates/migrations.yaml): the app's name and instance,
their own component, so that neither the app's Service, PodDisruptionBudget and
NetworkPolicy nor the HPA ever select them. */}}
{{- define "tasks.migrationSelectorLabels" -}}
app.kubernetes.io/name: tasks
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: migrations
{{- end -}}

{{- define "tasks.migrationPodLabels" -}}
{{- $labels := merge (include "tasks.migrationSelectorLabels" . | fromYaml) (include "tasks.labels" . | fromYaml) -}}
{{- toYaml $labels -}}
{{- end -}}

{{/* The Deployment's rolling update adds at most this many pods above the replica
count; the connection budget below counts them. */}}
{{- define "tasks.maxSurge" -}}1{{- end -}}

{{/* How the app reaches its database: the same for the Deployment and the migration
Job. With the CloudNativePG Cluster: its <cluster>-app secret, whose URI names the
read-write service; the read-only service's URL is built from the same credentials.
Otherwise database.existingSecret. */}}
{{- define "tasks.databaseEnv" -}}
{{- if .Values.database.cluster.enabled }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "tasks.dbCluster" . }}-app
      key: uri
- name: DB_USER
  valueFrom:
    secretKeyRef:
      name: {{ include "tasks.dbCluster" . }}-app
      key: username
- name: DB_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "tasks.dbCluster" . }}-app
      key: password
- name: DB_NAME
  valueFrom:
    secretKeyRef:
      name: {{ include "tasks.dbCluster" . }}-app
      key: dbname
- name: DATABASE_REPLICA_URL
  value: "postgres://$(DB_USER):$(DB_PASSWORD)@{{ include "tasks.dbCluster" . }}-ro:5432/$(DB_NAME)"
{{- else }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.database.existingSecret }}
      key: database-url
- name: DATABASE_REPLICA_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.database.existingSecret }}
      key: database-replica-url
      optional: true
{{- end }}
{{- end -}}

{{/* The migrations' own time limits (MIGRATION_LOCK_TIMEOUT_MS,
MIGRATION_STATEMENT_TIMEOUT_MS), for whichever migrates: the Job, or the app at start. */}}
{{- define "tasks.migrationTimeoutsEnv" -}}
- name: MIGRATION_LOCK_TIMEOUT_MS
  value: {{ .Values.migrations.lockTimeoutMs | int64 | quote }}
- name: MIGRATION_STATEMENT_TIMEOUT_MS
  value: {{ .Values.migrations.statementTimeoutMs | int64 | quote }}
{{- end -}}

{{/* The connection budget of one PostgreSQL server of the CloudNativePG Cluster, as a
dict. Every instance may be the primary after a failover, and every replica may get
all the read-only service's connections, so each server must hold, at once:
  - every app pod, at most maxReplicas (or replicaCount without the HPA) plus the
    rolling update's surge: one pool of DATABASE_MAX_CONNECTIONS to this server (the
    primary pool or the replica pool) and one probe connection (src/server/db);
  - the migration Job: its pool (migrations.job.maxConnections) and its probe;
  - superuser_reserved_connections, which the app's role can never use;
  - CloudNativePG's own sessions (database.cluster.operatorConnections, see values.yaml).
Helm's schema cannot multiply, hence this template. */}}
{{- define "tasks.connectionBudget" -}}
{{- $db := .Values.database.cluster -}}
{{- $replicas := ternary .Values.autoscaling.maxReplicas .Values.replicaCount .Values.autoscaling.enabled | int64 -}}
{{- $pods := add $replicas (include "tasks.maxSurge" . | int64) -}}
{{- $perPod := add .Values.database.pool.maxConnections 1 -}}
{{- $job := 0 -}}
{{- if .Values.migrations.job.enabled }}{{ $job = add .Values.migrations.job.maxConnections 1 }}{{ end -}}
{{- $app := mul $pods $perPod -}}
{{- $needed := add $app $job $db.superuserReservedConnections $db.operatorConnections -}}
{{- toYaml (dict "replicas" $replicas "pods" $pods "perPod" $perPod "app" $app "job" $job
      "superuser" ($db.superuserReservedConnections | int64) "operator" ($db.operatorConnections | int64)
      "needed" $needed "max" ($db.maxConnections | int64)) -}}
{{- end -}}

{{/* Refuses values whose connection budget exceeds max_connections: past it, new
connections fail with "too many clients already" exactly when load is highest. */}}
{{- define "tasks.checkConnectionBudget" -}}
{{- if .Values.database.cluster.enabled -}}
{{- $b := include "tasks.connectionBudget" . | fromYaml -}}
{{- if gt ($b.needed | int64) ($b.max | int64) -}}
{{- fail (printf "connection budget exceeded: each PostgreSQL server may have to hold %d app pods (%s %d + %d of rolling-update surge) x (DATABASE_MAX_CONNECTIONS %d + 1 probe) = %d, + the migration Job %d, + superuser_reserved_connections %d, + CloudNativePG's own %d = %d connections, above max_connections %d. Lower database.pool.maxConnections or the replica count, or raise database.cluster.maxConnections (or put a CloudNativePG Pooler in front; docs/deploy.md, section Connection budget)" ($b.pods | int64) (ternary "autoscaling.maxReplicas" "replicaCount" .Values.autoscaling.enabled) ($b.replicas | int64) (include "tasks.maxSurge" . | int64) (.Values.database.pool.maxConnections | int64) ($b.app | int64) ($b.job | int64) ($b.superuser | int64) ($b.operator | int64) ($b.needed | int64) ($b.max | int64)) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Pod-level security context of the app and the migration Job. */}}
{{- define "tasks.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
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
