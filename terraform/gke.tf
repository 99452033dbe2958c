# A regional GKE cluster in the shape of terraform-google-modules' safer-cluster:
# private nodes, Workload Identity, Dataplane V2 (network policy), shielded nodes, a
# release channel, no default node pool, a least-privilege node service account.
#
# Control-plane access: the DNS-based endpoint, authorised by IAM. The CI deployer
# (Workload Identity Federation, wif.tf) reaches it from GitHub's runners without any
# IP allow-list, and the IP endpoint stays private.

resource "google_service_account" "nodes" {
  account_id   = "${var.name}-nodes"
  display_name = "GKE nodes of ${var.name}"
  depends_on   = [google_project_service.this]
}

# The roles safer-cluster gives its node service account, and no more.
resource "google_project_iam_member" "nodes" {
  for_each = toset([
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
    "roles/monitoring.viewer",
    "roles/stackdriver.resourceMetadata.writer",
    "roles/autoscaling.metricsWriter",
  ])
  project    = var.project_id
  role       = each.value
  member     = "serviceAccount:${google_service_account.nodes.email}"
  depends_on = [google_project_service.this]
}

resource "google_container_cluster" "this" {
  # checkov:skip=CKV_GCP_12:Dataplane V2 (ADVANCED_DATAPATH) enforces NetworkPolicy; the legacy network_policy block must not be set with it
  # checkov:skip=CKV_GCP_65:Access is granted with IAM roles to service accounts and people; no Google Workspace groups are assumed
  name     = var.name
  location = var.region

  network         = google_compute_network.this.id
  subnetwork      = google_compute_subnetwork.nodes.id
  networking_mode = "VPC_NATIVE"
  ip_allocation_policy {
    cluster_secondary_range_name  = "pods"
    services_secondary_range_name = "services"
  }

  remove_default_node_pool = true
  initial_node_count       = 1

  private_cluster_config {
    enable_private_nodes    = true
    enable_private_endpoint = true
    master_ipv4_cidr_block  = var.master_cidr
  }
  master_authorized_networks_config {
    gcp_public_cidrs_access_enabled = false
  }
  control_plane_endpoints_config {
    dns_endpoint_config {
      allow_external_traffic = true
    }
  }

  release_channel {
    channel = "REGULAR"
  }
  datapath_provider = "ADVANCED_DATAPATH"
  workload_identity_config {
    workload_pool = "${var.project_id}.svc.id.goog"
  }
  enable_shielded_nodes       = true
  enable_intranode_visibility = true
  enable_legacy_abac          = false
  deletion_protection         = true

  master_auth {
    client_certificate_config {
      issue_client_certificate = false
    }
  }
  # Admission follows the project's Binary Authorization policy (binauthz.tf), which
  # exists before the cluster (depends_on below).
  binary_authorization {
    evaluation_mode = "PROJECT_SINGLETON_POLICY_ENFORCE"
  }
  gateway_api_config {
    channel = "CHANNEL_STANDARD"
  }
  # Workload configuration auditing stays (mode BASIC). GKE's workload vulnerability
  # scanning, standard tier, was deprecated in July 2024 and removed on 31 July 2025
  # (GKE "posture management deprecations"; the API marks VULNERABILITY_BASIC "no
  # longer supported"): images are scanned by Artifact Analysis in Artifact Registry
  # instead (containerscanning.googleapis.com, services.tf).
  security_posture_config {
    mode               = "BASIC"
    vulnerability_mode = "VULNERABILITY_DISABLED"
  }
  logging_config {
    enable_components = ["SYSTEM_COMPONENTS", "WORKLOADS"]
  }
  monitoring_config {
    enable_components = ["SYSTEM_COMPONENTS"]
    managed_prometheus {
      enabled = true
    }
  }

  resource_labels = {
    app = var.name
  }

  # Automatic upgrades only on weekends, 04:00-12:00 UTC (clear of the 03:00 UTC
  # database backup). GKE wants at least 48 hours of maintenance availability in any
  # 32 days, in windows of at least 4 hours; Saturdays and Sundays give 64 or more.
  maintenance_policy {
    recurring_window {
      start_time = "2025-01-04T04:00:00Z"
      end_time   = "2025-01-04T12:00:00Z"
      recurrence = "FREQ=WEEKLY;BYDAY=SA,SU"
    }
  }

  # The first node pool comes from google_container_node_pool below.
  node_config {
    service_account = google_service_account.nodes.email
    shielded_instance_config {
      enable_secure_boot          = true
      enable_integrity_monitoring = true
    }
    workload_metadata_config {
      mode = "GKE_METADATA"
    }
  }

  lifecycle {
    # This node_config only shapes the default pool, which is removed at creation.
    # Afterwards the API reports the first remaining pool's settings here (the
    # cluster's nodeConfig is deprecated in favour of each pool's config), and any
    # difference would force a new cluster: the node pool resource owns them.
    ignore_changes = [node_config]
  }

  depends_on = [google_project_service.this, google_binary_authorization_policy.this]
}

resource "google_container_node_pool" "app" {
  name     = "app"
  cluster  = google_container_cluster.this.id
  location = var.region

  autoscaling {
    min_node_count = var.node_count_min
    max_node_count = var.node_count_max
  }
  management {
    auto_repair  = true
    auto_upgrade = true
  }

  node_config {
    machine_type    = var.node_machine_type
    image_type      = "COS_CONTAINERD"
    service_account = google_service_account.nodes.email
    oauth_scopes    = ["https://www.googleapis.com/auth/cloud-platform"]
    labels = {
      app = var.name
    }
    metadata = {
      disable-legacy-endpoints = "true"
    }
    shielded_instance_config {
      enable_secure_boot          = true
      enable_integrity_monitoring = true
    }
    workload_metadata_config {
      mode = "GKE_METADATA"
    }
  }
}
