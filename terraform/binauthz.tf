# The project's Binary Authorization policy, enforced by the cluster
# (binary_authorization.evaluation_mode = PROJECT_SINGLETON_POLICY_ENFORCE, gke.tf).
# Without a policy of its own a project gets Google's default one, which admits every
# image; enforcing that proves nothing. This one denies every image except:
#   - Google-maintained system images of GKE (global_policy_evaluation_mode = ENABLE:
#     Google's global policy exempts them, the rest falls to this project policy);
#   - this project's Artifact Registry repository (the app, pushed by CI only);
#   - the third-party images the deployment runs, by name.
# Allowlist patterns (Binary Authorization policy reference): a trailing "*" matches
# within one path segment (a tag or digest, not a "/"), a trailing "**" also matches
# deeper paths. It is one policy per project: applying this replaces any other.
resource "google_binary_authorization_policy" "this" {
  description                   = "${var.name}: own Artifact Registry, named third-party images, GKE system images"
  global_policy_evaluation_mode = "ENABLE"

  # The app (image_repository output), and anything else CI pushes to this repository.
  admission_whitelist_patterns {
    name_pattern = "${var.region}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.images.repository_id}/**"
  }
  # CloudNativePG operator (also the instances' bootstrap init container).
  admission_whitelist_patterns {
    name_pattern = "ghcr.io/cloudnative-pg/cloudnative-pg*"
  }
  # PostgreSQL images of the database cluster (the chart's database.cluster.postgresql.image,
  # which it names in the ImageCatalog the Cluster uses).
  admission_whitelist_patterns {
    name_pattern = "ghcr.io/cloudnative-pg/postgresql*"
  }
  # Barman Cloud plugin: plugin-barman-cloud and its instance sidecar
  # plugin-barman-cloud-sidecar (both matched: "*" stops only at "/").
  admission_whitelist_patterns {
    name_pattern = "ghcr.io/cloudnative-pg/plugin-barman-cloud*"
  }
  # cert-manager, which the Barman Cloud plugin requires: controller, cainjector,
  # webhook and startupapicheck.
  admission_whitelist_patterns {
    name_pattern = "quay.io/jetstack/cert-manager-*"
  }
  # The chart's `helm test` pod (tests.image, from Docker Hub, named in full).
  admission_whitelist_patterns {
    name_pattern = "docker.io/curlimages/curl*"
  }
  # Optional: the custom metrics Stackdriver adapter for the HorizontalPodAutoscaler
  # (scripts/install-cluster-addons.sh --with-metrics-adapter), published by Google
  # under gcr.io/gke-release but not a GKE system component.
  admission_whitelist_patterns {
    name_pattern = "gcr.io/gke-release/custom-metrics-stackdriver-adapter*"
  }

  default_admission_rule {
    evaluation_mode  = "ALWAYS_DENY"
    enforcement_mode = "ENFORCED_BLOCK_AND_AUDIT_LOG"
  }

  depends_on = [google_project_service.this]
}
