# The global rate limit, at the edge (issue 13). The app limits writes per pod, in
# memory, keyed by client address (the chart's protection.* values): that bounds what one
# client costs one pod, but N pods let a client through N times over. This Cloud Armor
# policy counts every request per client IP at Google's front ends, before any pod, so
# the limit holds whatever the replica count. The chart attaches it to the app's backend
# service (helm/tasks: gateway.backendPolicy.securityPolicy, values-gke.yaml), by name.
#
# Upstream facts this rests on (scripts/check-terraform.py checks the shape):
#   - google provider, google_compute_security_policy: `type = "CLOUD_ARMOR"` is a
#     backend security policy, which filters requests to backend services before they
#     reach the backends (CLOUD_ARMOR_EDGE filters in front of Cloud CDN's cache, and
#     backend buckets too). Every policy must have a default rule, priority 2147483647
#     matching "*"; a policy created without rules gets an "allow" one, written out here
#     so that plan shows it. Rules are evaluated by priority, lowest number first.
#   - Same resource, rule.action: "throttle" caps each key at the threshold and answers
#     requests beyond it with rate_limit_options.exceed_action; "rate_based_ban" also
#     bans the key for ban_duration_sec. Both require rate_limit_options.
#     conform_action accepts "allow" only; exceed_action "deny(STATUS)" takes 403, 404,
#     429 or 502: 429 Too Many Requests, as the app answers. enforce_on_key "IP" keys on
#     the request's source IP address, not on anything the client wrote (unlike XFF_IP,
#     the first X-Forwarded-For entry, which the client can set).
#   - Cloud Armor "rate limiting overview": a throttle threshold count is 1 to 1,000,000;
#     the threshold applies to each backend service the policy is attached to; a
#     throttle rule can later become a rate-based ban, not the other way round.
#   - GKE Gateway: a GCPBackendPolicy (networking.gke.io/v1) attaches a policy to the
#     Service's backend service with spec.default.securityPolicy, a plain policy name
#     (gke-gateway-api, GCPBackendPolicyConfig.SecurityPolicy). A bare name carries no
#     project, so the policy lives in the cluster's project: this one is created in
#     var.project_id, where the cluster is.
resource "google_compute_security_policy" "edge" {
  # checkov:skip=CKV_GCP_73:No Java and no Log4j run behind this policy (a Rust server); the preconfigured cve-canary WAF rule would refuse requests whose todo text merely contains the lookup syntax
  name        = "${var.name}-armor"
  description = "${var.name}: per-client-IP request rate limit at the load balancer (429 beyond it)"
  type        = "CLOUD_ARMOR"

  rule {
    description = "per client IP: throttle, 429 beyond the threshold"
    priority    = 1000
    action      = "throttle"
    preview     = var.edge_rate_limit_preview
    match {
      versioned_expr = "SRC_IPS_V1"
      config {
        src_ip_ranges = ["*"]
      }
    }
    rate_limit_options {
      conform_action = "allow"
      exceed_action  = "deny(429)"
      enforce_on_key = "IP"
      rate_limit_threshold {
        count        = var.edge_rate_limit_count
        interval_sec = var.edge_rate_limit_interval_sec
      }
    }
  }

  rule {
    description = "default rule"
    priority    = 2147483647
    action      = "allow"
    match {
      versioned_expr = "SRC_IPS_V1"
      config {
        src_ip_ranges = ["*"]
      }
    }
  }

  depends_on = [google_project_service.this]
}
