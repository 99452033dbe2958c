# Every API this configuration calls. Each resource that needs one of them has
# depends_on = [google_project_service.this], so a first apply on an empty project
# enables the APIs before it creates accounts, buckets, addresses or the cluster
# (scripts/check-terraform.py checks both lists).
locals {
  services = [
    "artifactregistry.googleapis.com",
    # Binary Authorization: the cluster enforces the project policy (binauthz.tf).
    "binaryauthorization.googleapis.com",
    # Project IAM bindings (google_project_iam_member) read and write the project's
    # policy through the Resource Manager API.
    "cloudresourcemanager.googleapis.com",
    "compute.googleapis.com",
    "container.googleapis.com",
    # Artifact Analysis scans every image pushed to Artifact Registry once this API is
    # on (its "scan OS packages automatically" guide), replacing GKE's workload
    # vulnerability scanning, which is gone (gke.tf).
    "containerscanning.googleapis.com",
    "iam.googleapis.com",
    "iamcredentials.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "sts.googleapis.com",
    "storage.googleapis.com",
  ]
}

resource "google_project_service" "this" {
  for_each           = toset(local.services)
  service            = each.value
  disable_on_destroy = false
}
