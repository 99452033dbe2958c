#!/usr/bin/env python3
"""Checks the Helm chart offline: lint (strict) and render every documented variant,
then
  - lint each rendered template with yamllint (repeated keys in a mapping, which strict
    YAML parsers and the API server reject, and which PyYAML would silently merge);
  - validate each rendered manifest against the Kubernetes schemas of the GKE version we
    target; custom resources (CRDs) are not in those schemas: each is listed as skipped,
    never passed silently;
  - check what the chart promises across manifests (the CHECKS below: the database
    outlives the release).
Writes every variant's manifests under OUT_DIR for checkov.

usage: check-helm.py CHART_DIR OUT_DIR
"""
import pathlib
import sys

import kubernetes_validate
import yaml
from helm_python import chart as helm
from yamllint import linter as yamllint
from yamllint.config import YamlLintConfig

KUBERNETES_VERSION = "1.31.0"  # GKE's regular channel; keep in step with terraform/

# Kinds served by CRDs, with the group that defines them: checked by render and lint
# only (and by checkov), not by schema.
CRD_KINDS = {
    "Cluster": "postgresql.cnpg.io (CloudNativePG)",
    "ScheduledBackup": "postgresql.cnpg.io (CloudNativePG)",
    "ObjectStore": "barmancloud.cnpg.io (Barman Cloud plugin)",
    "PodMonitor": "monitoring.coreos.com (Prometheus Operator)",
    "Gateway": "gateway.networking.k8s.io (Gateway API)",
    "HTTPRoute": "gateway.networking.k8s.io (Gateway API)",
    "HealthCheckPolicy": "networking.gke.io (GKE Gateway controller)",
}

chart_dir = pathlib.Path(sys.argv[1])
out_dir = pathlib.Path(sys.argv[2])
out_dir.mkdir(parents=True, exist_ok=True)

gke_values = yaml.safe_load((chart_dir / "values-gke.yaml").read_text())
VARIANTS = {
    "default": {},
    "gke": gke_values,
    "external-database": {"database": {"cluster": {"enabled": False}, "existingSecret": "tasks-db"}},
    "fixed-replicas-no-monitoring": {
        "autoscaling": {"enabled": False},
        "metrics": {"podMonitor": False},
    },
    "plain-ingress": {"ingress": {"enabled": True, "className": "gce", "hostname": "tasks.example.com", "tlsSecretName": "tasks-tls"}},
}
# Values the chart must refuse.
MUST_FAIL = {
    "no database": {"database": {"cluster": {"enabled": False}}},
    "database URL in values": {"env": {"DATABASE_URL": "postgres://u:secret@h/db"}},
    "gateway without hostname": {"gateway": {"enabled": True}},
}
YAMLLINT = YamlLintConfig("rules:\n  key-duplicates: enable\n")

problems = []
skipped = {}
rendered = {}  # variant: its documents
for name, values in VARIANTS.items():
    report = helm.lint(str(chart_dir), values, strict=True, kube_version=f"v{KUBERNETES_VERSION}")
    for message in report.get("messages", []):
        if message["severity"] >= 2:
            problems.append(f"{name}: lint: {message['path']}: {message['error']}")
    problems += [f"{name}: lint: {error}" for error in report.get("errors", [])]
    manifests = helm.Chart.load(str(chart_dir)).render(values, name="tasks", namespace="tasks")
    documents = []
    for template, text in sorted(manifests.items()):
        if template.endswith("NOTES.txt"):
            continue
        for problem in yamllint.run(text, YAMLLINT):
            problems.append(f"{name}: {template}:{problem.line}:{problem.column}: yamllint: {problem.desc}")
        for document in yaml.safe_load_all(text):
            if not document:
                continue
            documents.append(document)
            kind = document["kind"]
            if kind in CRD_KINDS:
                skipped.setdefault(kind, set()).add(name)
                continue
            try:
                kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
            except Exception as error:  # the library raises several error types
                problems.append(f"{name}: {template}: {kind}: {error}")
    rendered[name] = documents
    (out_dir / f"{name}.yaml").write_text(yaml.safe_dump_all(documents, sort_keys=False))
    print(f"helm: {name}: lint clean, {len(documents)} manifests rendered, yamllint clean and validated")

for name, values in MUST_FAIL.items():
    try:
        helm.Chart.load(str(chart_dir)).render(values, name="tasks", namespace="tasks")
        problems.append(f"the chart accepted values it must refuse: {name}")
    except Exception:
        print(f"helm: refuses {name}: ok")


# ---------------------------------------------------------------------------------------
# Checks across manifests. Each takes one variant and returns its problems.

def of_kind(docs, kind):
    return [d for d in docs if d["kind"] == kind]


def annotations(doc):
    return (doc.get("metadata") or {}).get("annotations") or {}


def check_database_kept(name, docs):
    """The database outlives `helm uninstall` and a failed first --atomic install."""
    found = []
    for kind in ("Cluster", "ImageCatalog", "ObjectStore"):
        for doc in of_kind(docs, kind):
            if annotations(doc).get("helm.sh/resource-policy") != "keep":
                found.append(f"{kind} {doc['metadata']['name']} lacks the annotation helm.sh/resource-policy: keep")
    return found


CHECKS = [check_database_kept]
for check in CHECKS:
    failures = []
    for name, documents in rendered.items():
        try:
            failures += [f"{name}: {f}" for f in check(name, documents)]
        except Exception as error:  # a manifest without what the check reads
            failures.append(f"{name}: {check.__name__} could not run: {error!r}")
    problems += [f"{check.__name__}: {f}" for f in failures]
    print(f"helm: {' '.join(check.__doc__.split())} {'FAILED' if failures else 'ok'}")

for kind, variants in sorted(skipped.items()):
    print(f"helm: SKIPPED schema validation of {kind} ({CRD_KINDS[kind]}: a CRD, not in the "
          f"Kubernetes {KUBERNETES_VERSION} schemas) in: {', '.join(sorted(variants))}")
if problems:
    sys.exit("helm chart problems:\n  " + "\n  ".join(problems))
