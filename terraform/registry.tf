resource "google_artifact_registry_repository" "images" {
  # checkov:skip=CKV_GCP_84:Images hold no secrets; Google-managed encryption at rest is enough, a CMEK would add a key to run
  repository_id = var.name
  location      = var.region
  format        = "DOCKER"
  description   = "Images of ${var.name}"

  docker_config {
    immutable_tags = true
  }

  # Every deploy pushes an image index, its platform image and its attestation (SBOM,
  # provenance), each one "version" to Artifact Registry. A version is deleted only
  # when it is older than 90 days AND outside the 30 most recent: when a version
  # matches both a delete and a keep policy, Artifact Registry keeps it (its
  # "cleanup policies" overview). So the last ten or so releases, and everything from
  # the last 90 days, stay available to `helm rollback`.
  cleanup_policy_dry_run = false
  cleanup_policies {
    id     = "delete-older-than-90-days"
    action = "DELETE"
    condition {
      tag_state  = "ANY"
      older_than = "7776000s"
    }
  }
  cleanup_policies {
    id     = "keep-30-most-recent"
    action = "KEEP"
    most_recent_versions {
      keep_count = 30
    }
  }

  depends_on = [google_project_service.this]
}

# Nodes pull the app's image, and nothing else of the registry's.
resource "google_artifact_registry_repository_iam_member" "nodes_pull" {
  repository = google_artifact_registry_repository.images.name
  location   = var.region
  role       = "roles/artifactregistry.reader"
  member     = "serviceAccount:${google_service_account.nodes.email}"
}
