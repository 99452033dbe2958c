output "cluster_name" {
  description = "GKE cluster (gcloud container clusters get-credentials --dns-endpoint)."
  value       = google_container_cluster.this.name
}

output "cluster_location" {
  description = "Region of the cluster."
  value       = google_container_cluster.this.location
}

output "image_repository" {
  description = "Artifact Registry path for the app's image (the chart's image.repository)."
  value       = "${var.region}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.images.repository_id}/tasks"
}

output "workload_identity_provider" {
  description = "For google-github-actions/auth's workload_identity_provider."
  value       = google_iam_workload_identity_pool_provider.github.name
}

output "deployer_service_account" {
  description = "For google-github-actions/auth's service_account."
  value       = google_service_account.deployer.email
}

output "app_service_account" {
  description = "The chart's serviceAccount.gcpServiceAccount."
  value       = google_service_account.app.email
}

output "db_backup_service_account" {
  description = "The chart's database.cluster.backup.gcpServiceAccount."
  value       = google_service_account.db_backup.email
}

output "db_backup_destination" {
  description = "The chart's database.cluster.backup.destinationPath."
  value       = "gs://${google_storage_bucket.db_backups.name}/${var.name}"
}

output "gateway_address_name" {
  description = "The chart's gateway.staticAddressName; point the domain's DNS at its IP."
  value       = google_compute_global_address.gateway.name
}

output "gateway_ip" {
  description = "The IP address to put in the domain's DNS A record."
  value       = google_compute_global_address.gateway.address
}

output "gateway_certificate_name" {
  description = "The chart's gateway.preSharedCerts; the deploy job's GATEWAY_CERTIFICATE, whose status it waits for."
  value       = google_compute_managed_ssl_certificate.gateway.name
}

output "deployer_rbac_manifest" {
  description = "Namespace, Role and RoleBinding that let the CI deployer manage the release in its namespace only; the operator applies it once: terraform output -raw deployer_rbac_manifest | kubectl apply -f -"
  value = templatefile("${path.module}/k8s/deployer-rbac.yaml.tftpl", {
    namespace = var.k8s_namespace
    name      = var.name
    deployer  = google_service_account.deployer.email
  })
}

output "security_policy_name" {
  description = "Cloud Armor policy with the per-client-IP rate limit: the chart's gateway.backendPolicy.securityPolicy (values-gke.yaml)."
  value       = google_compute_security_policy.edge.name
}
