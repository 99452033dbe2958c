resource "google_artifact_registry_repository" "images" {
  # checkov:skip=CKV_GCP_84:Images hold no secrets; Google-managed encryption at rest is enough, a CMEK would add a key to run
  repository_id = var.name
  location      = var.region
  format        = "DOCKER"
  description   = "Images of ${var.name}"

  docker_config {
    immutable_tags = true
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
