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

{{/* TLS to PostgreSQL (issue 14): what the chart relies on, from CloudNativePG 1.30.0
(the operator version scripts/install-cluster-addons.sh installs) and sqlx 0.8.6.
  - The operator makes a self-signed CA per Cluster and keeps it in the secret
    <cluster>-ca, key `ca.crt` (its private key is `ca.key` in the same secret: never
    mount it). Source: api/v1/cluster_types.go (DefaultServerCaSecretSuffix "-ca"),
    api/v1/cluster_funcs.go (GetServerCASecretName), pkg/certs/certs.go (CACertKey
    "ca.crt", CAPrivateKeyKey "ca.key"); docs "Certificates",
    https://cloudnative-pg.io/documentation/current/certificates/ ("Server CA secret").
  - The server certificate (secret <cluster>-server) names, for each of the services
    <cluster>-rw, <cluster>-r and <cluster>-ro: <svc>, <svc>.<namespace>,
    <svc>.<namespace>.svc and <svc>.<namespace>.svc.<cluster domain> (cluster.local
    unless the operator's KUBERNETES_CLUSTER_DOMAIN says otherwise). Source:
    api/v1/cluster_funcs.go (GetClusterAltDNSNames), internal/controller/cluster_pki.go
    (ensureServerLeafCertificate).
  - The <cluster>-app secret's `uri` is postgresql://<user>:<password>@<cluster>-rw.<namespace>:5432/<dbname>,
    with no query string: no sslmode, no sslrootcert. Its `host` key is the bare
    <cluster>-rw. Source: pkg/specs/secrets.go (CreateSecret), called with
    GetServiceReadWriteName() in internal/controller/cluster_create.go. The generated
    password is letters and digits (password.Generate(64, 10, 0, false, true), same
    file), so it goes into a URL unescaped.
  - sqlx (sqlx-postgres 0.8.6, src/options/parse.rs) takes `sslmode` and `sslrootcert`
    from the URL's query; with verify-full it checks the chain and that the URL's host
    is one of the certificate's names (src/connection/tls.rs), and it never falls back
    to plain text. With the tls-rustls-ring-webpki feature it trusts the CA file in
    addition to the public webpki roots (sqlx-core 0.8.6, src/net/tls/tls_rustls.rs).
So the URLs name each service as <svc>.<namespace>.svc: a name on the certificate, not
tied to the cluster domain, and not a public DNS name any public CA may certify. */}}

{{/* Where the pods find the CA certificate that signed the database server's. */}}
{{- define "tasks.dbCADir" -}}/etc/tasks/postgresql-ca{{- end -}}

{{/* The secret holding that CA under the key ca.crt: the Cluster's <cluster>-ca, or,
with an external database, database.existingCASecret (may be empty: then none). */}}
{{- define "tasks.dbCASecret" -}}
{{- if .Values.database.cluster.enabled -}}
{{- printf "%s-ca" (include "tasks.dbCluster" .) -}}
{{- else -}}
{{- .Values.database.existingCASecret -}}
{{- end -}}
{{- end -}}

{{/* The query every CloudNativePG URL carries: TLS, the chain checked against the
Cluster's CA and the host name against the certificate's names. */}}
{{- define "tasks.dbTLSQuery" -}}
{{- printf "sslmode=verify-full&sslrootcert=%s/ca.crt" (include "tasks.dbCADir" .) -}}
{{- end -}}

{{/* A service of the Cluster, by the name its server certificate carries. */}}
{{- define "tasks.dbServiceHost" -}}
{{- printf "%s-%s.%s.svc" (include "tasks.dbCluster" .ctx) .service .ctx.Release.Namespace -}}
{{- end -}}

{{/* How the app reaches its database: the same for the Deployment and the migration
Job. With the CloudNativePG Cluster: both URLs built from the credentials of its
<cluster>-app secret (Kubernetes expands $(VAR) from the variables listed before),
for the read-write and the read-only service, over verified TLS. Not the secret's
`uri`: it carries no sslmode. Otherwise database.existingSecret, whose URLs are the
operator's to write (docs/deploy.md, "TLS to PostgreSQL"). */}}
{{- define "tasks.databaseEnv" -}}
{{- if .Values.database.cluster.enabled }}
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
- name: DATABASE_URL
  value: "postgres://$(DB_USER):$(DB_PASSWORD)@{{ include "tasks.dbServiceHost" (dict "ctx" . "service" "rw") }}:5432/$(DB_NAME)?{{ include "tasks.dbTLSQuery" . }}"
- name: DATABASE_REPLICA_URL
  value: "postgres://$(DB_USER):$(DB_PASSWORD)@{{ include "tasks.dbServiceHost" (dict "ctx" . "service" "ro") }}:5432/$(DB_NAME)?{{ include "tasks.dbTLSQuery" . }}"
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

{{/* The CA's volume, for the pod spec of whatever connects (the Deployment, the
migration Job): the ca.crt key alone, never the CA's private key. Not optional: a pod
waits for the secret, as it waits for <cluster>-app. Mode 0440 (288): root-owned,
readable by the group, which the kubelet sets to the pod's fsGroup (65532, the app's
group, tasks.podSecurityContext) on secret volumes. Renewals reach the file without a
restart (no subPath: a subPath mount never sees an update). */}}
{{- define "tasks.dbCAVolumes" -}}
{{- with include "tasks.dbCASecret" . }}
- name: postgresql-ca
  secret:
    secretName: {{ . }}
    items:
      - key: ca.crt
        path: ca.crt
    defaultMode: 288
{{- end }}
{{- end -}}

{{- define "tasks.dbCAVolumeMounts" -}}
{{- if include "tasks.dbCASecret" . }}
- name: postgresql-ca
  mountPath: {{ include "tasks.dbCADir" . }}
  readOnly: true
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
