# Google identities of the workloads, bound to their Kubernetes service accounts through
# Workload Identity: no key ever leaves Google.

# The app needs no Google API today; its identity exists so that granting one later is
# a role binding, not a deploy change (the chart annotates its service account with it).
resource "google_service_account" "app" {
  account_id   = "${var.name}-app"
  display_name = "Tasks app (Workload Identity)"
  depends_on   = [google_project_service.this]
}

resource "google_service_account_iam_member" "app_workload_identity" {
  service_account_id = google_service_account.app.name
  role               = "roles/iam.workloadIdentityUser"
  member             = "serviceAccount:${var.project_id}.svc.id.goog[${var.k8s_namespace}/${var.name}]"
}

# CloudNativePG's instances write base backups and WAL to this bucket.
resource "google_storage_bucket" "db_backups" {
  name                        = "${var.project_id}-${var.name}-db-backups"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  versioning {
    enabled = true
  }
  lifecycle_rule {
    condition {
      days_since_noncurrent_time = 30
    }
    action {
      type = "Delete"
    }
  }
  logging {
    log_bucket = google_storage_bucket.access_logs.name
  }

  depends_on = [google_project_service.this]
}

resource "google_storage_bucket" "access_logs" {
  # checkov:skip=CKV_GCP_62:This is the access-log bucket itself; logging it into itself would loop
  name                        = "${var.project_id}-${var.name}-access-logs"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  versioning {
    enabled = true
  }

  depends_on = [google_project_service.this]
}

resource "google_service_account" "db_backup" {
  account_id   = "${var.name}-db-backup"
  display_name = "CloudNativePG backups of ${var.name} (Workload Identity)"
  depends_on   = [google_project_service.this]
}

# Base backups and WAL segments: create, read, list and delete objects.
resource "google_storage_bucket_iam_member" "db_backup" {
  bucket = google_storage_bucket.db_backups.name
  role   = "roles/storage.objectAdmin"
  member = "serviceAccount:${google_service_account.db_backup.email}"
}

# barman-cloud first checks that the bucket exists: its Google Cloud Storage interface
# calls the client library's bucket exists(), a GET on the bucket that needs
# storage.buckets.get (barman, cloud_providers/google_cloud_storage.py). objectAdmin
# carries no bucket permission, so WAL archiving failed with a 403.
# legacyBucketReader grants storage.buckets.get (and objects.list) on this bucket only.
resource "google_storage_bucket_iam_member" "db_backup_bucket_get" {
  bucket = google_storage_bucket.db_backups.name
  role   = "roles/storage.legacyBucketReader"
  member = "serviceAccount:${google_service_account.db_backup.email}"
}

# CloudNativePG runs each instance as a Kubernetes service account named after the
# cluster: the chart names it "<release>-db".
resource "google_service_account_iam_member" "db_backup_workload_identity" {
  service_account_id = google_service_account.db_backup.name
  role               = "roles/iam.workloadIdentityUser"
  member             = "serviceAccount:${var.project_id}.svc.id.goog[${var.k8s_namespace}/${var.name}-db]"
}

# The custom metrics Stackdriver adapter (scripts/install-cluster-addons.sh
# --with-metrics-adapter) serves Managed Prometheus series from Cloud Monitoring to the
# HorizontalPodAutoscaler (the chart's autoscaling.requestsInFlight); it reads them as
# its Kubernetes service account, custom-metrics/custom-metrics-stackdriver-adapter
# (the namespace and name of its upstream manifest). With Workload Identity Federation
# for GKE a role is granted to that Kubernetes service account directly, as a principal
# of the project's workload pool PROJECT_ID.svc.id.goog (GKE and Managed Prometheus,
# "horizontal Pod autoscaling": roles/monitoring.viewer). Without it the adapter's API
# answers with errors and the HPA never scales in. The pool exists once the cluster does.
data "google_project" "this" {
  project_id = var.project_id
  depends_on = [google_project_service.this]
}

resource "google_project_iam_member" "metrics_adapter" {
  project    = var.project_id
  role       = "roles/monitoring.viewer"
  member     = "principal://iam.googleapis.com/projects/${data.google_project.this.number}/locations/global/workloadIdentityPools/${var.project_id}.svc.id.goog/subject/ns/custom-metrics/sa/custom-metrics-stackdriver-adapter"
  depends_on = [google_project_service.this, google_container_cluster.this]
}

# The Gateway's public address and its Google-managed certificate.
resource "google_compute_global_address" "gateway" {
  name       = "${var.name}-ip"
  depends_on = [google_project_service.this]
}

resource "google_compute_managed_ssl_certificate" "gateway" {
  name = "${var.name}-cert"
  managed {
    domains = [var.domain]
  }
  depends_on = [google_project_service.this]
}
