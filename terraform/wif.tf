# Keyless deploys from GitHub Actions: Workload Identity Federation trusts GitHub's OIDC
# tokens of one job only: this repository (by its numeric id, which a re-created
# repository of the same name would not have), on main, in the deployment environment,
# running the deploy workflow file. scripts/check-wif-condition.py evaluates the
# mapping and the condition below with a CEL engine against modelled GitHub tokens.

resource "google_iam_workload_identity_pool" "github" {
  workload_identity_pool_id = "${var.name}-github"
  display_name              = "GitHub Actions"
  depends_on                = [google_project_service.this]
}

# The condition does not look at `sub`: GitHub builds it from the environment when the
# job names one ("repo:OWNER/REPO:environment:NAME"), and from the ref only when it does
# not; the deploy job runs in `environment: production`, so a condition on
# "repo:...:ref:refs/heads/main" refused it. `sub` also changes format with immutable
# subject claims (owner and repository ids, the default for repositories created from
# 15 July 2026) and with an organisation's customisation template (GitHub, "OpenID
# Connect reference"). The condition reads instead: repository_id, ref (the git ref
# that triggered the run: refs/heads/main for a push to main, refs/pull/N/merge for a
# pull request), environment (the job's environment, absent when it names none) and
# workflow_ref (OWNER/REPO/.github/workflows/FILE@REF).
# GCP evaluates the mapping first, then the condition (which may read `assertion`,
# `google` and `attribute`); a token is refused unless it evaluates to true. Each claim
# the condition reads is also mapped to an attribute of the same name, as
# google-github-actions/auth's troubleshooting guide asks.
resource "google_iam_workload_identity_pool_provider" "github" {
  # checkov:skip=CKV_GCP_125:The check only accepts a condition on assertion.sub; this one pins the numeric repository id, the ref, the environment and the workflow file instead, because sub names the environment (not the ref) for the deploy job. scripts/check-wif-condition.py evaluates it with CEL
  workload_identity_pool_id          = google_iam_workload_identity_pool.github.workload_identity_pool_id
  workload_identity_pool_provider_id = "github"
  display_name                       = "GitHub OIDC"

  # google.subject: at most 127 bytes (GCP); "repo:OWNER/REPO:environment:NAME" fits for
  # any sensible names. The deployer binding below uses attribute.repository_id.
  attribute_mapping = {
    "google.subject"          = "assertion.sub"
    "attribute.repository_id" = "assertion.repository_id"
    "attribute.repository"    = "assertion.repository"
    "attribute.ref"           = "assertion.ref"
    "attribute.environment"   = "assertion.environment"
    "attribute.workflow_ref"  = "assertion.workflow_ref"
  }
  attribute_condition = "assertion.repository_id == '${var.github_repository_id}' && assertion.ref == 'refs/heads/main' && assertion.environment == '${var.github_environment}' && assertion.workflow_ref == assertion.repository + '/.github/workflows/${var.github_deploy_workflow}@refs/heads/main'"

  oidc {
    issuer_uri = "https://token.actions.githubusercontent.com"
  }
}

resource "google_service_account" "deployer" {
  account_id   = "${var.name}-deployer"
  display_name = "GitHub Actions deployer of ${var.github_repository}"
  depends_on   = [google_project_service.this]
}

resource "google_service_account_iam_member" "deployer_from_github" {
  service_account_id = google_service_account.deployer.name
  role               = "roles/iam.workloadIdentityUser"
  member             = "principalSet://iam.googleapis.com/${google_iam_workload_identity_pool.github.name}/attribute.repository_id/${var.github_repository_id}"
}

# Push images to this one repository.
resource "google_artifact_registry_repository_iam_member" "deployer_push" {
  repository = google_artifact_registry_repository.images.name
  location   = var.region
  role       = "roles/artifactregistry.writer"
  member     = "serviceAccount:${google_service_account.deployer.email}"
}

# Reach the cluster, and nothing more from IAM: get the cluster (endpoint and CA, for
# get-gke-credentials) and connect through its DNS-based endpoint, which Google
# authorises with container.clusters.connect before the request reaches the API server.
# No container.* permission on Kubernetes objects: what the deployer may do inside the
# cluster is Kubernetes RBAC in the app's namespace only (the Role and RoleBinding of
# k8s/deployer-rbac.yaml.tftpl, output deployer_rbac_manifest, applied once by the
# operator: docs/deploy.md). This replaces the project-wide roles/container.developer,
# which reached every namespace of every cluster in the project.
# Besides, read-only: compute.sslCertificates.get, so that the deploy job can wait for
# the Gateway's Google-managed certificate to turn ACTIVE (`gcloud compute
# ssl-certificates describe`) before its smoke test.
resource "google_project_iam_custom_role" "deployer_cluster_access" {
  role_id     = "${replace(var.name, "-", "_")}_deployer_cluster_access"
  title       = "${var.name} deployer: reach the cluster"
  description = "Get the cluster and connect through its DNS endpoint, read the managed certificate's status; Kubernetes RBAC decides the rest."
  permissions = [
    "compute.sslCertificates.get",
    "container.clusters.connect",
    "container.clusters.get",
  ]
  depends_on = [google_project_service.this]
}

resource "google_project_iam_member" "deployer_cluster_access" {
  project    = var.project_id
  role       = google_project_iam_custom_role.deployer_cluster_access.name
  member     = "serviceAccount:${google_service_account.deployer.email}"
  depends_on = [google_project_service.this]
}
