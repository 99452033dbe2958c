resource "google_compute_network" "this" {
  name                    = var.name
  auto_create_subnetworks = false
  depends_on              = [google_project_service.this]
}

resource "google_compute_subnetwork" "nodes" {
  name                     = "${var.name}-nodes"
  network                  = google_compute_network.this.id
  region                   = var.region
  ip_cidr_range            = var.subnet_cidr
  private_ip_google_access = true

  secondary_ip_range {
    range_name    = "pods"
    ip_cidr_range = var.pods_cidr
  }
  secondary_ip_range {
    range_name    = "services"
    ip_cidr_range = var.services_cidr
  }

  log_config {
    aggregation_interval = "INTERVAL_5_MIN"
    flow_sampling        = 0.5
    metadata             = "INCLUDE_ALL_METADATA"
  }
}

# Private nodes reach the internet (image pulls outside Artifact Registry) through NAT.
resource "google_compute_router" "this" {
  name    = var.name
  network = google_compute_network.this.id
  region  = var.region
}

resource "google_compute_router_nat" "this" {
  name                               = var.name
  router                             = google_compute_router.this.name
  region                             = var.region
  nat_ip_allocate_option             = "AUTO_ONLY"
  source_subnetwork_ip_ranges_to_nat = "ALL_SUBNETWORKS_ALL_IP_RANGES"

  log_config {
    enable = true
    filter = "ERRORS_ONLY"
  }
}

# The only ingress opened: Google's load balancers and health checks to the app port
# of the nodes; nothing is open to the whole internet.
resource "google_compute_firewall" "load_balancer_to_app" {
  name                    = "${var.name}-lb-to-app"
  network                 = google_compute_network.this.id
  direction               = "INGRESS"
  source_ranges           = ["35.191.0.0/16", "130.211.0.0/22"]
  target_service_accounts = [google_service_account.nodes.email]

  allow {
    protocol = "tcp"
    ports    = ["8080"]
  }

  log_config {
    metadata = "INCLUDE_ALL_METADATA"
  }
}

# The private control plane calls admission webhooks on the nodes. GKE's own firewall
# rule for it ("gke-<cluster>-<id>-master") allows only tcp/443 and tcp/10250 from the
# control-plane range; other webhook ports need a rule of their own (GKE, "private
# clusters: adding firewall rules for specific use cases"). CloudNativePG's operator
# serves its mutating and validating webhooks on 9443 (its webhook Service maps 443 to
# targetPort 9443, the manager runs with --webhook-port=9443): without this rule
# creating the Cluster times out. cert-manager's webhook listens on 10250, already open.
resource "google_compute_firewall" "control_plane_to_webhooks" {
  name                    = "${var.name}-control-plane-to-webhooks"
  network                 = google_compute_network.this.id
  direction               = "INGRESS"
  source_ranges           = [var.master_cidr]
  target_service_accounts = [google_service_account.nodes.email]

  allow {
    protocol = "tcp"
    ports    = ["9443"]
  }

  log_config {
    metadata = "INCLUDE_ALL_METADATA"
  }
}
