#!/usr/bin/env python3
"""Checks the Helm chart offline: lint (strict) and render every documented variant,
as `helm template --kube-version --api-versions` would for the clusters we target, then
  - lint each rendered template with yamllint (repeated keys in a mapping, which strict
    YAML parsers and the API server reject, and which PyYAML would silently merge);
  - validate each rendered manifest against the Kubernetes schemas of the GKE version we
    target; custom resources (CRDs) are not in those schemas: each is listed as skipped,
    never passed silently;
  - check what the chart promises across manifests (the CHECKS below: the database
    outlives the release, scrape objects and custom metrics only where their API is
    served, one PostgreSQL version pinned by digest, shutdown and draining timings, the
    database's NetworkPolicy, checkov skips on the resources they concern, the script
    that installs the cluster add-ons, (issue 13) the Cloud Armor policy attached
    through the GCPBackendPolicy under the name terraform/ gives it, and the app's
    protection settings in its environment, and (issue 14) the migration Job and who
    migrates on install and on upgrade, the connection budget against max_connections,
    the explicit choice of synchronous replication's dataDurability, and verified TLS
    to PostgreSQL from everything that gets a database URL);
  - render values the chart must refuse, and check that it refuses each for the reason
    named (a chart that does not render at all refuses everything).
Every variant is rendered as `helm template` does (an install) and as an upgrade
(`--is-upgrade`): some settings differ between the two (MIGRATE_ON_START).
Writes every variant's manifests (as installed) under OUT_DIR for checkov.

usage: check-helm.py CHART_DIR OUT_DIR
"""
import json
import pathlib
import re
import posixpath
import subprocess
import sys
import urllib.parse

import kubernetes_validate
import yaml
from helm_python import _native
from helm_python import chart as helm
from yamllint import linter as yamllint
from yamllint.config import YamlLintConfig

KUBERNETES_VERSION = "1.31.0"  # GKE's regular channel; keep in step with terraform/

# Kinds served by CRDs, with the group that defines them: checked by render and lint
# only (and by checkov and the CHECKS below), not by schema.
CRD_KINDS = {
    "Cluster": "postgresql.cnpg.io (CloudNativePG)",
    "ImageCatalog": "postgresql.cnpg.io (CloudNativePG)",
    "ScheduledBackup": "postgresql.cnpg.io (CloudNativePG)",
    "ObjectStore": "barmancloud.cnpg.io (Barman Cloud plugin)",
    "PodMonitor": "monitoring.coreos.com (Prometheus Operator)",
    "PodMonitoring": "monitoring.googleapis.com (Managed Service for Prometheus)",
    "Gateway": "gateway.networking.k8s.io (Gateway API)",
    "HTTPRoute": "gateway.networking.k8s.io (Gateway API)",
    "HealthCheckPolicy": "networking.gke.io (GKE Gateway controller)",
    "GCPBackendPolicy": "networking.gke.io (GKE Gateway controller)",
}

# What .Capabilities.APIVersions holds on the clusters we target, in the form Helm
# builds it from discovery: "group/version" and "group/version/Kind".
PROMETHEUS_OPERATOR_APIS = ["monitoring.coreos.com/v1", "monitoring.coreos.com/v1/PodMonitor"]
GKE_APIS = [
    "monitoring.googleapis.com/v1", "monitoring.googleapis.com/v1/PodMonitoring",
    "networking.gke.io/v1", "networking.gke.io/v1/GCPBackendPolicy",
    "networking.gke.io/v1/HealthCheckPolicy",
    "gateway.networking.k8s.io/v1", "gateway.networking.k8s.io/v1/Gateway",
    "gateway.networking.k8s.io/v1/HTTPRoute",
]
CNPG_APIS = [
    "postgresql.cnpg.io/v1", "postgresql.cnpg.io/v1/Cluster", "postgresql.cnpg.io/v1/ImageCatalog",
    "postgresql.cnpg.io/v1/ScheduledBackup", "barmancloud.cnpg.io/v1", "barmancloud.cnpg.io/v1/ObjectStore",
]
# Served by an aggregated API server: on GKE, the custom metrics Stackdriver adapter.
CUSTOM_METRICS_APIS = ["custom.metrics.k8s.io/v1beta1", "custom.metrics.k8s.io/v1beta2"]

# The app's metrics that the HPA may scale on, with their Prometheus types (src/metrics.rs).
APP_METRICS = {"tasks_http_requests_in_flight": "gauge", "tasks_http_requests_total": "counter"}
# The Stackdriver adapter's name for a Managed Prometheus series (k8s-stackdriver,
# custom-metrics-stackdriver-adapter: "/" of the Cloud Monitoring type becomes "|").
GMP_METRIC = re.compile(r"^prometheus\.googleapis\.com\|([a-zA-Z_:][a-zA-Z0-9_:]*)\|(gauge|counter)$")
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")

chart_dir = pathlib.Path(sys.argv[1]).resolve()
out_dir = pathlib.Path(sys.argv[2])
out_dir.mkdir(parents=True, exist_ok=True)
repo_root = chart_dir.parent.parent

gke_values = yaml.safe_load((chart_dir / "values-gke.yaml").read_text())
# CI deploys by digest (ci.yml sets image.digest): so does this variant.
gke_values.setdefault("image", {})["digest"] = "sha256:" + "0" * 64
# name: (values, what the cluster serves)
VARIANTS = {
    "default": ({}, PROMETHEUS_OPERATOR_APIS + CNPG_APIS),
    "default-no-optional-apis": ({}, []),
    "gke": (gke_values, GKE_APIS + CNPG_APIS + CUSTOM_METRICS_APIS),
    "gke-no-metrics-adapter": (gke_values, GKE_APIS + CNPG_APIS),
    "gke-no-optional-apis": (gke_values, []),
    "gke-no-security-policy": (
        {**gke_values, "gateway": {**gke_values["gateway"], "backendPolicy": {"securityPolicy": ""}}},
        GKE_APIS + CNPG_APIS,
    ),
    "external-database": (
        {"database": {"cluster": {"enabled": False}, "existingSecret": "tasks-db"}},
        PROMETHEUS_OPERATOR_APIS,
    ),
    # An external database whose server certificate comes from a private CA: its ca.crt
    # mounted for the sslrootcert of the operator's URLs.
    "external-database-with-ca": (
        {"database": {"cluster": {"enabled": False}, "existingSecret": "tasks-db", "existingCASecret": "tasks-db-ca"}},
        PROMETHEUS_OPERATOR_APIS,
    ),
    "fixed-replicas-no-monitoring": (
        {"autoscaling": {"enabled": False}, "metrics": {"podMonitor": False},
         "database": {"cluster": {"monitoring": {"enabled": False}}}},
        PROMETHEUS_OPERATOR_APIS + CNPG_APIS,
    ),
    "plain-ingress": (
        {"ingress": {"enabled": True, "className": "gce", "hostname": "tasks.example.com", "tlsSecretName": "tasks-tls"}},
        PROMETHEUS_OPERATOR_APIS + CNPG_APIS,
    ),
    # The app migrates at start, on upgrades too: the pre-upgrade Job is off.
    "migration-job-off": ({"migrations": {"job": {"enabled": False}}}, PROMETHEUS_OPERATOR_APIS + CNPG_APIS),
    # A connection budget exactly at max_connections is accepted:
    # (4 + 1 surge) x (10 + 1) + (1 + 1) + 3 + 10 = 70.
    "connection-budget-at-its-limit": (
        {"autoscaling": {"maxReplicas": 4}, "database": {"pool": {"maxConnections": 10}, "cluster": {"maxConnections": 70}}},
        PROMETHEUS_OPERATOR_APIS + CNPG_APIS,
    ),
    "required-durability": (
        {"database": {"cluster": {"instances": 3, "synchronous": {"dataDurability": "required"}}}},
        PROMETHEUS_OPERATOR_APIS + CNPG_APIS,
    ),
}
# Values the chart must refuse: (values, a part of the error the refusal must give, so
# that an unrelated error, such as a template that does not parse, does not pass).
MUST_FAIL = {
    "no database": ({"database": {"cluster": {"enabled": False}}}, "the app needs a database"),
    "database URL in values": ({"env": {"DATABASE_URL": "postgres://u:secret@h/db"}}, "'DATABASE_URL'"),
    "gateway without hostname": ({"gateway": {"enabled": True}}, "gateway.hostname is required"),
    "no time to shut down after the preStop pause": (
        {"terminationGracePeriodSeconds": 20, "preStopSleepSeconds": 15}, "must exceed preStopSleepSeconds"),
    "draining longer than the load balancer allows": (
        {"gateway": {"backendPolicy": {"drainingTimeoutSec": 3601}}}, "/gateway/backendPolicy/drainingTimeoutSec"),
    "a security policy that is not a policy name": (
        {"gateway": {"backendPolicy": {"securityPolicy": "projects/p/global/securityPolicies/tasks-armor"}}},
        "/gateway/backendPolicy/securityPolicy"),
    "a protection setting through env": ({"env": {"TRUSTED_PROXY_HOPS": "3"}}, "'TRUSTED_PROXY_HOPS'"),
    "a write limit without a burst": ({"protection": {"writeRateLimit": {"burst": 0}}}, "/protection/writeRateLimit/burst"),
    # Issue 14: the connection budget, (pods + surge) x (pool + probe) + Job + reserved.
    "more pods than max_connections holds (maxReplicas 50)": (
        {"autoscaling": {"maxReplicas": 50}}, "connection budget exceeded"),
    "max_connections one short of the budget": (
        {"autoscaling": {"maxReplicas": 4}, "database": {"pool": {"maxConnections": 10}, "cluster": {"maxConnections": 69}}},
        "= 70 connections, above max_connections 69"),
    "fixed replicas beyond the budget": (
        {"autoscaling": {"enabled": False}, "replicaCount": 16}, "replicaCount 16"),
    "GKE's 20 pods with the app's default pool of 10": (
        {**gke_values, "database": {**gke_values["database"], "pool": {"maxConnections": 10}}},
        "connection budget exceeded"),
    "the pool size through env, past the budget": ({"env": {"DATABASE_MAX_CONNECTIONS": "50"}}, "'DATABASE_MAX_CONNECTIONS'"),
    "MIGRATE_ON_START through env": ({"env": {"MIGRATE_ON_START": "true"}}, "'MIGRATE_ON_START'"),
    "a Job deadline shorter than a migration statement may run": (
        {"migrations": {"job": {"activeDeadlineSeconds": 300}}}, "activeDeadlineSeconds (300) must exceed"),
    "a lock timeout of 0 (a migration would wait for its lock forever)": (
        {"migrations": {"lockTimeoutMs": 0}}, "/migrations/lockTimeoutMs"),
    "a dataDurability CloudNativePG does not know": (
        {"database": {"cluster": {"synchronous": {"dataDurability": "off"}}}}, "/database/cluster/synchronous/dataDurability"),
    # TLS to PostgreSQL: the Cluster's URLs are verified against the Cluster's own CA only.
    "an external CA secret with the CloudNativePG Cluster": (
        {"database": {"existingCASecret": "some-ca"}}, "database.existingCASecret is for an external database"),
}
YAMLLINT = YamlLintConfig("rules:\n  key-duplicates: enable\n")


def render(values, api_versions, upgrade=False):
    """An offline `helm template tasks CHART -n tasks --kube-version ... --api-versions ...`
    (with `--is-upgrade` when upgrade is true: .Release.IsUpgrade instead of IsInstall).
    helm-python-sdk 0.2.2's Chart.render() does not pass these two options, although the
    native library it wraps reads them (`kube_version`, `api_versions`): call it directly.
    The CHECKS below fail if the API versions were not taken into account."""
    options = {"name": "tasks", "namespace": "tasks", "kube_version": f"v{KUBERNETES_VERSION}",
               "api_versions": api_versions}
    if upgrade:
        options["is_upgrade"] = True
    with helm.Chart.load(str(chart_dir)) as chart:
        return json.loads(_native.call_string("helm_render", chart._raw(), json.dumps(values), json.dumps(options)))


problems = []
skipped = {}
rendered = {}  # variant: {"documents": [...], "notes": str}
for name, (values, api_versions) in VARIANTS.items():
    report = helm.lint(str(chart_dir), values, strict=True, kube_version=f"v{KUBERNETES_VERSION}")
    for message in report.get("messages", []):
        if message["severity"] >= 2:
            problems.append(f"{name}: lint: {message['path']}: {message['error']}")
    problems += [f"{name}: lint: {error}" for error in report.get("errors", [])]
    by_event = {}  # "install" / "upgrade": (documents, notes)
    for event in ("install", "upgrade"):
        label = name if event == "install" else f"{name} (upgrade)"
        try:
            manifests = render(values, api_versions, upgrade=event == "upgrade")
        except Exception as error:  # the library raises several error types
            problems.append(f"{label}: render: {error}")
            continue
        documents, notes = [], ""
        for template, text in sorted(manifests.items()):
            if template.endswith("NOTES.txt"):
                notes = text
                continue
            for problem in yamllint.run(text, YAMLLINT):
                problems.append(f"{label}: {template}:{problem.line}:{problem.column}: yamllint: {problem.desc}")
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
                    problems.append(f"{label}: {template}: {kind}: {error}")
        by_event[event] = (documents, notes)
    if len(by_event) < 2:
        continue
    (documents, notes), (upgrade_documents, _) = by_event["install"], by_event["upgrade"]
    rendered[name] = {"documents": documents, "notes": notes, "values": values, "upgrade": upgrade_documents}
    (out_dir / f"{name}.yaml").write_text(yaml.safe_dump_all(documents, sort_keys=False))
    print(f"helm: {name}: lint clean, {len(documents)} manifests rendered (as installed and as upgraded), "
          "yamllint clean and validated")

for name, (values, reason) in MUST_FAIL.items():
    try:
        render(values, [])
        problems.append(f"the chart accepted values it must refuse: {name}")
    except Exception as error:  # the library raises several error types
        if reason not in str(error):
            problems.append(f"the chart refused {name}, but not with {reason!r}: {' '.join(str(error).split())[:400]}")
        else:
            print(f"helm: refuses {name}: ok")


# ---------------------------------------------------------------------------------------
# Checks across manifests. Each takes one variant and returns its problems.

def of_kind(docs, kind):
    return [d for d in docs if d["kind"] == kind]


def annotations(doc):
    return (doc.get("metadata") or {}).get("annotations") or {}


def the_deployment(docs):
    return of_kind(docs, "Deployment")[0]


def app_container(deployment):
    return next(c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == "app")


def env_of(container):
    return {e["name"]: e.get("value") for e in container.get("env", [])}


def app_request_timeout_secs(container):
    """The app's REQUEST_TIMEOUT_MS: from the Deployment, else the app's default."""
    value = env_of(container).get("REQUEST_TIMEOUT_MS")
    if value is None:
        source = (repo_root / "src" / "server" / "config.rs").read_text()
        match = re.search(r'env\.millis\("REQUEST_TIMEOUT_MS",\s*([0-9_]+)\)', source)
        if not match:
            raise ValueError("cannot find the default of REQUEST_TIMEOUT_MS in src/server/config.rs")
        value = match.group(1).replace("_", "")
    return int(value) / 1000


def check_database_kept(name, docs, notes):
    """The database outlives `helm uninstall` and a failed first --atomic install."""
    found = []
    for kind in ("Cluster", "ImageCatalog", "ObjectStore"):
        for doc in of_kind(docs, kind):
            if annotations(doc).get("helm.sh/resource-policy") != "keep":
                found.append(f"{kind} {doc['metadata']['name']} lacks the annotation helm.sh/resource-policy: keep")
    return found


def check_scrape_objects(name, docs, notes):
    """A PodMonitor or PodMonitoring only where its API is served, for the app and the
    database, on the ports and pods they name."""
    values, apis = VARIANTS[name]
    metrics = {"podMonitor": True, "podMonitoring": False, **values.get("metrics", {})}
    db = {"enabled": True, "monitoring": {"enabled": True}, **values.get("database", {}).get("cluster", {})}
    expected_targets = 1 + bool(db["enabled"] and db.get("monitoring", {}).get("enabled", True))
    found = []
    for kind, key, api in (("PodMonitor", "podMonitor", "monitoring.coreos.com/v1/PodMonitor"),
                           ("PodMonitoring", "podMonitoring", "monitoring.googleapis.com/v1/PodMonitoring")):
        objects = of_kind(docs, kind)
        wanted = metrics[key] and api in apis
        if wanted and len(objects) != expected_targets:
            found.append(f"{len(objects)} {kind}(s) rendered where {api} is served, {expected_targets} expected")
        if not wanted and objects:
            found.append(f"{kind} rendered although " + ("the cluster does not serve " + api if metrics[key] else f"metrics.{key} is off"))
        if metrics[key] and api not in apis and f"serves no {api.rsplit('/', 1)[0]}" not in " ".join(notes.split()):
            found.append(f"the release notes do not say that no {kind} was rendered")
        for obj in objects:
            endpoints = obj["spec"].get("podMetricsEndpoints") or obj["spec"].get("endpoints")
            if [e.get("port") for e in endpoints] != ["metrics"]:
                found.append(f"{kind} {obj['metadata']['name']} does not scrape the port named metrics")
    if name == "gke" and not of_kind(docs, "PodMonitoring"):
        found.append("values-gke.yaml renders no PodMonitoring, although terraform/ turns on Managed Prometheus")
    deployment = the_deployment(docs)
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    ports = {p["name"] for p in app_container(deployment)["ports"]}
    app_objects = [o for o in of_kind(docs, "PodMonitor") + of_kind(docs, "PodMonitoring")
                   if "cnpg.io/cluster" not in o["spec"]["selector"]["matchLabels"]]
    for obj in app_objects:
        selector = obj["spec"]["selector"]["matchLabels"]
        if any(pod_labels.get(k) != v for k, v in selector.items()) or "metrics" not in ports:
            found.append(f"{obj['kind']} {obj['metadata']['name']} selects no app pod with a metrics port")
    return found


def check_postgresql_version(name, docs, notes):
    """One PostgreSQL version: the Cluster's image is digest-pinned, from its ImageCatalog,
    of the major the catalog declares, and the same major.minor as docker-compose.yml."""
    found = []
    compose = yaml.safe_load((repo_root / "docker-compose.yml").read_text())
    compose_images = {str(v.get("image")) for k, v in compose.items() if k.startswith("x-") and isinstance(v, dict)}
    compose_images |= {str(s.get("image")) for s in compose.get("services", {}).values()}
    compose_versions = {m.groups() for i in compose_images
                        if (m := re.match(r"^(?:docker\.io/)?(?:library/)?postgres:(\d+)\.(\d+)\b", i))}
    if len(compose_versions) != 1:
        return [f"docker-compose.yml names {len(compose_versions)} PostgreSQL versions ({sorted(compose_images)}), one expected"]
    catalogs = {c["metadata"]["name"]: c for c in of_kind(docs, "ImageCatalog")}
    for cluster in of_kind(docs, "Cluster"):
        spec = cluster["spec"]
        if "imageCatalogRef" in spec:
            ref = spec["imageCatalogRef"]
            catalog = catalogs.get(ref["name"]) if ref.get("kind") == "ImageCatalog" else None
            images = [i["image"] for i in (catalog or {"spec": {"images": []}})["spec"]["images"] if i["major"] == ref["major"]]
            if len(images) != 1:
                found.append(f"Cluster {cluster['metadata']['name']}: no image of major {ref['major']} in a rendered ImageCatalog {ref['name']}")
                continue
            image, major = images[0], ref["major"]
        else:
            image, major = spec.get("imageName", ""), None
        if not DIGEST.search(image):
            found.append(f"Cluster {cluster['metadata']['name']}: PostgreSQL image {image!r} is not pinned by digest")
        version = re.search(r"/postgresql:(\d+)\.(\d+)\b", image)
        if not version:
            found.append(f"Cluster {cluster['metadata']['name']}: no PostgreSQL major.minor in the tag of {image!r}")
            continue
        if major is not None and int(version.group(1)) != major:
            found.append(f"Cluster {cluster['metadata']['name']}: the catalog declares major {major} for {image}")
        if version.groups() not in compose_versions:
            found.append(f"Cluster {cluster['metadata']['name']}: PostgreSQL {'.'.join(version.groups())}, "
                         f"docker-compose.yml {'.'.join(next(iter(compose_versions)))}")
    return found


def check_images_pinned(name, docs, notes):
    """Every image by digest, unless the resource skips checkov's digest check, with its
    reason (only the app's Deployment and migration Job do, and only without image.digest)."""
    found = []
    for doc in docs:
        if doc["kind"] == "Pod":
            spec = doc["spec"]
        elif doc["kind"] in ("Deployment", "Job"):
            spec = doc["spec"]["template"]["spec"]
        else:
            continue
        skips = " ".join(v for k, v in annotations(doc).items() if k.startswith("checkov.io/skip"))
        for container in spec.get("containers", []) + spec.get("initContainers", []):
            if not DIGEST.search(container["image"]) and "CKV_K8S_43=" not in skips:
                found.append(f"{doc['kind']} {doc['metadata']['name']}: image {container['image']} is not pinned by digest")
    if name == "gke" and "CKV_K8S_43=" in json.dumps([annotations(d) for d in docs]):
        found.append("the digest check is skipped although image.digest is set")
    return found


def check_checkov_skips(name, docs, notes):
    """Skips live on the resources they concern, each with a reason, not chart-wide."""
    found = []
    config = yaml.safe_load((chart_dir.parent / ".checkov.yaml").read_text()) or {}
    if config.get("skip-check"):
        found.append(f"helm/.checkov.yaml skips {config['skip-check']} for every resource: "
                     "annotate the resources instead (checkov.io/skipN: CHECK=reason)")
    for doc in docs:
        for key, value in annotations(doc).items():
            if key.startswith("checkov.io/skip") and not re.match(r"^CKV2?_[A-Z0-9]+_\d+=\S.{9,}", value):
                found.append(f"{doc['kind']} {doc['metadata']['name']}: {key} gives no reason: {value!r}")
    return found


def check_database_network_policy(name, docs, notes):
    """The database pods admit the operator (8000, 5432), the app and the other instances
    (5432), and nothing else but Prometheus on the exporter's port."""
    found = []
    deployment = the_deployment(docs)
    app_labels = deployment["spec"]["selector"]["matchLabels"]
    for cluster in of_kind(docs, "Cluster"):
        cluster_name = cluster["metadata"]["name"]
        # The release's own policy; the migration Job's hook policy, which admits the Job
        # while it runs, is check_migration_job's.
        policies = [p for p in of_kind(docs, "NetworkPolicy")
                    if p["spec"]["podSelector"].get("matchLabels") == {"cnpg.io/cluster": cluster_name}
                    and "helm.sh/hook" not in annotations(p)]
        if len(policies) != 1 or "Ingress" not in policies[0]["spec"].get("policyTypes", []):
            found.append(f"no NetworkPolicy restricts ingress to the pods of Cluster {cluster_name}")
            continue
        admitted = set()  # (source, port)
        for rule in policies[0]["spec"].get("ingress", []):
            ports = [p["port"] for p in rule.get("ports", [])] or ["any"]
            for source in rule.get("from", [{"anyone": True}]):
                if "ipBlock" in source or "anyone" in source:
                    found.append(f"NetworkPolicy {policies[0]['metadata']['name']} admits {source}")
                ns = (source.get("namespaceSelector") or {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
                pods = (source.get("podSelector") or {}).get("matchLabels")
                if "namespaceSelector" in source and not ns:
                    found.append(f"NetworkPolicy {policies[0]['metadata']['name']} admits several namespaces: {source}")
                label = ("operator" if ns and pods and pods.get("app.kubernetes.io/name") == "cloudnative-pg"
                         else "instances" if not ns and pods == {"cnpg.io/cluster": cluster_name}
                         else "app" if not ns and pods == app_labels
                         else f"namespace {ns}" if ns and not pods else json.dumps(source))
                admitted |= {(label, port) for port in ports}
        for need in (("operator", 8000), ("operator", 5432), ("instances", 5432), ("app", 5432)):
            if need not in admitted:
                found.append(f"NetworkPolicy {policies[0]['metadata']['name']} does not admit the {need[0]} on {need[1]}")
        for source, port in admitted:
            if source not in ("operator", "instances", "app") and port != 9187:
                found.append(f"NetworkPolicy {policies[0]['metadata']['name']} admits {source} on {port}")
    return found


def check_shutdown(name, docs, notes):
    """preStop pause, then SHUTDOWN_GRACE_SECS for the requests in flight, within
    terminationGracePeriodSeconds; the load balancer drains within that time."""
    found = []
    deployment = the_deployment(docs)
    pod = deployment["spec"]["template"]["spec"]
    container = app_container(deployment)
    pre_stop = (container.get("lifecycle") or {}).get("preStop") or {}
    sleep = (pre_stop.get("sleep") or {}).get("seconds")
    grace = int(env_of(container).get("SHUTDOWN_GRACE_SECS") or 0)
    request_timeout = app_request_timeout_secs(container)
    total = pod.get("terminationGracePeriodSeconds", 30)
    if not sleep or sleep < 10:
        found.append(f"preStop sleep of {sleep} s: too short for the load balancer to stop sending requests (>= 10 s)")
    if not total > (sleep or 0) + grace:
        found.append(f"terminationGracePeriodSeconds {total} <= preStop {sleep} + SHUTDOWN_GRACE_SECS {grace}")
    if grace < request_timeout:
        found.append(f"SHUTDOWN_GRACE_SECS {grace} < the app's request timeout {request_timeout:g} s")
    policies = of_kind(docs, "GCPBackendPolicy")
    if of_kind(docs, "Gateway") and not policies:
        found.append("no GCPBackendPolicy for the Gateway's backend (connection draining, timeout)")
    services = {r["name"] for route in of_kind(docs, "HTTPRoute") for rule in route["spec"]["rules"]
                for r in rule.get("backendRefs", [])}
    for policy in policies:
        target = policy["spec"]["targetRef"]
        if (target.get("group"), target.get("kind")) != ("", "Service") or target["name"] not in services:
            found.append(f"GCPBackendPolicy {policy['metadata']['name']} targets {target}, not a Service of the HTTPRoutes")
        config = policy["spec"].get("default", {})
        draining = (config.get("connectionDraining") or {}).get("drainingTimeoutSec")
        timeout = config.get("timeoutSec", 30)
        if draining is None or not request_timeout <= draining <= (sleep or 0) + grace:
            found.append(f"drainingTimeoutSec {draining}: not between the app's request timeout "
                         f"({request_timeout:g} s) and preStop + SHUTDOWN_GRACE_SECS ({(sleep or 0) + grace} s)")
        if not timeout > request_timeout:
            found.append(f"timeoutSec {timeout} <= the app's request timeout {request_timeout:g} s")
    return found


def check_autoscaling(name, docs, notes):
    """CPU always; the app's own metrics as Pods metrics only where the custom metrics
    API is served, named as the adapter serves them."""
    found = []
    values, apis = VARIANTS[name]
    wanted = {k: v for k, v in values.get("autoscaling", {}).items()
              if k in ("requestsInFlight", "requestRate") and v.get("enabled")}
    for hpa in of_kind(docs, "HorizontalPodAutoscaler"):
        metrics = hpa["spec"]["metrics"]
        if not any(m["type"] == "Resource" and m["resource"]["name"] == "cpu" for m in metrics):
            found.append("the HPA does not scale on CPU")
        pods = [m["pods"]["metric"]["name"] for m in metrics if m["type"] == "Pods"]
        served = "custom.metrics.k8s.io/v1beta2" in apis
        if served and len(pods) != len(wanted):
            found.append(f"HPA Pods metrics {pods}, expected {sorted(v['metricName'] for v in wanted.values())}")
        if not served and pods:
            found.append(f"HPA Pods metrics {pods} although the custom metrics API is not served")
        if wanted and not served and "serves no custom" not in " ".join(notes.split()):
            found.append("the release notes do not say that the HPA scales on CPU alone")
        for metric in pods:
            match = GMP_METRIC.match(metric)
            base, kind = match.groups() if match else (metric, None)
            if base not in APP_METRICS:
                found.append(f"HPA metric {metric}: the app exports no {base}")
            elif kind and kind != APP_METRICS[base]:
                found.append(f"HPA metric {metric}: {base} is a {APP_METRICS[base]}, not a {kind}")
            elif not match and "gke" in name:
                found.append(f"HPA metric {metric}: not named as the Stackdriver adapter serves Managed Prometheus series")
    if name == "gke" and not any(m["type"] == "Pods" for h in of_kind(docs, "HorizontalPodAutoscaler") for m in h["spec"]["metrics"]):
        found.append("values-gke.yaml scales on no metric of the app's own")
    return found


def merged(base, override):
    """Helm's merge of a values file over the chart's values.yaml (maps merge, the rest replaces)."""
    if not isinstance(base, dict) or not isinstance(override, dict):
        return override
    return {**base, **{k: merged(base.get(k), v) for k, v in override.items()}}


CHART_DEFAULTS = yaml.safe_load((chart_dir / "values.yaml").read_text())


def values_of(name):
    return merged(CHART_DEFAULTS, VARIANTS[name][0])


def terraform_security_policy_names():
    """Names terraform/ gives its Cloud Armor policies, "${var.name}" resolved to the
    variable's default (values-gke.yaml is written for the defaults, like its
    staticAddressName "tasks-ip")."""
    from terraform_hcl import load, plain  # python-hcl2, in the same venv

    parsed = [load(path) for path in sorted((repo_root / "terraform").glob("*.tf"))]
    var_name = next(plain(body.get("default")) for doc in parsed for block in doc.get("variable", [])
                    for key, body in block.items() if plain(key) == "name")
    names = set()
    for doc in parsed:
        for block in doc.get("resource", []):
            for kind, named in block.items():
                if plain(kind) == "google_compute_security_policy":
                    names |= {plain(body.get("name")).replace("${var.name}", var_name) for body in named.values()}
    return names


def check_security_policy(name, docs, notes):
    """The GCPBackendPolicy names the Cloud Armor policy exactly when
    gateway.backendPolicy.securityPolicy is set, and values-gke.yaml names the one
    terraform/ creates."""
    found = []
    wanted = (values_of(name)["gateway"].get("backendPolicy") or {}).get("securityPolicy") or ""
    policies = of_kind(docs, "GCPBackendPolicy")
    if wanted and not policies:
        found.append(f"securityPolicy {wanted!r} is set but no GCPBackendPolicy is rendered")
    for policy in policies:
        config = policy["spec"].get("default") or {}
        if wanted and config.get("securityPolicy") != wanted:
            found.append(f"GCPBackendPolicy {policy['metadata']['name']}: spec.default.securityPolicy "
                         f"{config.get('securityPolicy')!r}, values say {wanted!r}")
        if not wanted and "securityPolicy" in config:
            found.append(f"GCPBackendPolicy {policy['metadata']['name']}: securityPolicy "
                         f"{config['securityPolicy']!r} rendered although the value is empty")
    if name == "gke":
        if not wanted:
            found.append("values-gke.yaml attaches no Cloud Armor policy (gateway.backendPolicy.securityPolicy): "
                         "nothing limits a client across pods")
        else:
            terraform_names = terraform_security_policy_names()
            if wanted not in terraform_names:
                found.append(f"values-gke.yaml names the Cloud Armor policy {wanted!r}, terraform/ creates "
                             f"{sorted(terraform_names) or 'none'}")
    return found


PROTECTION_ENV = {  # variable: (path under protection, smallest value)
    "TRUSTED_PROXY_HOPS": (("trustedProxyHops",), 0),
    "WRITE_RATE_LIMIT_PER_MINUTE": (("writeRateLimit", "perMinute"), 0),  # 0: off (src/server/config.rs)
    "WRITE_RATE_LIMIT_BURST": (("writeRateLimit", "burst"), 1),
    "LIST_MAX_TODOS": (("listMaxTodos",), 1),
}


def check_protection_env(name, docs, notes):
    """The app gets TRUSTED_PROXY_HOPS, WRITE_RATE_LIMIT_PER_MINUTE, WRITE_RATE_LIMIT_BURST
    and LIST_MAX_TODOS once each, as whole numbers, from `protection`; one proxy hop
    behind Google's load balancer."""
    found = []
    protection = values_of(name).get("protection") or {}
    if not protection:
        found.append("values.yaml has no `protection` block for the app's limits")
    env = app_container(the_deployment(docs)).get("env", [])
    for variable, (path, least) in PROTECTION_ENV.items():
        entries = [e for e in env if e["name"] == variable]
        if len(entries) != 1:
            found.append(f"{variable} set {len(entries)} times in the app's environment, once expected")
            continue
        value, expected = entries[0].get("value"), protection
        for key in path:
            expected = (expected or {}).get(key)
        if not (isinstance(value, str) and value.isdigit() and int(value) >= least):
            found.append(f"{variable}={value!r}: not a whole number >= {least}")
        elif int(value) != expected:
            found.append(f"{variable}={value}, but protection.{'.'.join(path)} is {expected}")
    gateway = values_of(name)["gateway"]
    behind_google = (gateway.get("enabled") and gateway.get("className", "").startswith("gke-l7-")) or (
        values_of(name)["ingress"].get("enabled") and values_of(name)["ingress"].get("className") == "gce")
    hops = next((e.get("value") for e in env if e["name"] == "TRUSTED_PROXY_HOPS"), None)
    if behind_google and "trustedProxyHops" not in VARIANTS[name][0].get("protection", {}) and hops not in (None, "1"):
        found.append(f"TRUSTED_PROXY_HOPS={hops} behind Google's external Application Load Balancer, which "
                     "appends <client-ip>,<load-balancer-ip>: 1 is the client's entry")
    return found


# ---------------------------------------------------------------------------------------
# Issue 14: migrations, the connection budget, durability.

def hooks_of(doc):
    return {h.strip() for h in annotations(doc).get("helm.sh/hook", "").split(",") if h.strip()}


def hook_weight(doc):
    return int(annotations(doc).get("helm.sh/hook-weight", "0"))


def job_wanted(name):
    """Whether the variant wants the migration Job: on unless migrations.job.enabled is off."""
    return ((values_of(name).get("migrations") or {}).get("job") or {}).get("enabled", True)


def selects(selector, labels):
    return all(labels.get(k) == v for k, v in (selector.get("matchLabels") or {}).items())


def deploy_helm_timeout_secs():
    """The deploy job's `helm upgrade --timeout` (.github/workflows/ci.yml): Helm waits that
    long for a hook Job, then fails the upgrade on its own timeout."""
    workflow = (repo_root / ".github" / "workflows" / "ci.yml").read_text()
    command = re.search(r"helm upgrade --install (?:[^\n]*\\\n)*[^\n]*", workflow)
    timeout = re.search(r"--timeout[ =](\d+)(m|s)\b", command.group(0)) if command else None
    if not timeout:
        raise ValueError("no `helm upgrade --install ... --timeout` in .github/workflows/ci.yml")
    return int(timeout.group(1)) * (60 if timeout.group(2) == "m" else 1)


def app_default(variable):
    """The app's default for a numeric setting, from src/server/config.rs."""
    source = (repo_root / "src" / "server" / "config.rs").read_text()
    match = re.search(r'env\.number\("' + variable + r'",\s*([0-9_]+)\)', source)
    if not match:
        raise ValueError(f"cannot find the default of {variable} in src/server/config.rs")
    return int(match.group(1).replace("_", ""))


def check_migration_job(name, docs, notes):
    """The migration Job: a pre-upgrade hook only (pre-install runs before the Cluster,
    its secret and the ServiceAccount exist; post-install would wait, behind --wait, for
    pods that wait for it), replaced before each run and deleted once it succeeded; a
    bounded number of attempts (restartPolicy Never) within a deadline longer than a
    migration statement may run and shorter than the deploy's helm --timeout; the app's
    image running `migrate`, with the Deployment's database settings, service account
    and security contexts, the lock and statement timeouts; its pods out of the app's
    selector; NetworkPolicies, as hooks created before it, that let it reach the database."""
    jobs = of_kind(docs, "Job")
    if not job_wanted(name):
        return ["a Job is rendered although migrations.job.enabled is off"] if jobs else []
    if len(jobs) != 1:
        return [f"{len(jobs)} migration Jobs rendered, one expected"]
    found = []
    job = jobs[0]
    job_name = job["metadata"]["name"]
    hooks = hooks_of(job)
    if hooks != {"pre-upgrade"}:
        found.append(f"Job {job_name} runs on {sorted(hooks) or 'no hook (a plain resource, applied with the Deployment)'}, "
                     "expected pre-upgrade alone")
    delete_policy = {p.strip() for p in annotations(job).get("helm.sh/hook-delete-policy", "").split(",")}
    if not {"before-hook-creation", "hook-succeeded"} <= delete_policy:
        found.append(f"Job {job_name}: hook-delete-policy {sorted(delete_policy)}, expected before-hook-creation and hook-succeeded")
    spec = job["spec"]
    pod = spec["template"]["spec"]
    backoff, deadline = spec.get("backoffLimit"), spec.get("activeDeadlineSeconds")
    if not isinstance(backoff, int) or not 1 <= backoff <= 10:
        found.append(f"Job {job_name}: backoffLimit {backoff!r}, expected 1 to 10 retries (Kubernetes' default is 6)")
    if pod.get("restartPolicy") != "Never":
        found.append(f"Job {job_name}: restartPolicy {pod.get('restartPolicy')!r}: Never, so that each attempt is a pod with its own logs")
    if len(pod["containers"]) != 1:
        return found + [f"Job {job_name}: {len(pod['containers'])} containers, one expected"]
    container = pod["containers"][0]
    deployment = the_deployment(docs)
    app, app_pod = app_container(deployment), deployment["spec"]["template"]["spec"]
    if container["image"] != app["image"] or container.get("imagePullPolicy") != app.get("imagePullPolicy"):
        found.append(f"Job {job_name}: image {container['image']}, the app runs {app['image']}")
    if container.get("command") != app.get("command") or container.get("args") != ["migrate"]:
        found.append(f"Job {job_name}: runs command {container.get('command')} args {container.get('args')}, "
                     "expected the image's entrypoint (tasks) with args [migrate]")
    env = {e["name"]: e for e in container.get("env", [])}
    app_env = {e["name"]: e for e in app.get("env", [])}
    database = {n for n in set(env) | set(app_env)
                if n.startswith(("DATABASE_", "DB_")) and n != "DATABASE_MAX_CONNECTIONS"}
    for variable in sorted(database):
        if env.get(variable) != app_env.get(variable):
            found.append(f"Job {job_name}: {variable} is {env.get(variable)}, the app's {app_env.get(variable)}")
    timeouts = {}
    for variable in ("MIGRATION_LOCK_TIMEOUT_MS", "MIGRATION_STATEMENT_TIMEOUT_MS", "DATABASE_MAX_CONNECTIONS"):
        value = (env.get(variable) or {}).get("value")
        if not (isinstance(value, str) and value.isdigit() and int(value) > 0):
            found.append(f"Job {job_name}: {variable}={value!r}, not a whole number > 0"
                         + (" (0 or unset: a migration waits for its lock for as long as a transaction holds it)"
                            if variable == "MIGRATION_LOCK_TIMEOUT_MS" else ""))
        else:
            timeouts[variable] = int(value)
    migration = values_of(name).get("migrations") or {}
    for variable, key in (("MIGRATION_LOCK_TIMEOUT_MS", "lockTimeoutMs"), ("MIGRATION_STATEMENT_TIMEOUT_MS", "statementTimeoutMs")):
        if variable in timeouts and timeouts[variable] != migration.get(key):
            found.append(f"Job {job_name}: {variable}={timeouts[variable]}, migrations.{key} is {migration.get(key)}")
        if (app_env.get(variable) or {}).get("value") != (env.get(variable) or {}).get("value"):
            found.append(f"{variable} differs between the Job and the app, which migrates on the first install")
    statement = timeouts.get("MIGRATION_STATEMENT_TIMEOUT_MS")
    if statement and timeouts.get("MIGRATION_LOCK_TIMEOUT_MS", 0) >= statement:
        found.append(f"Job {job_name}: the lock timeout is not below the statement timeout")
    helm_timeout = deploy_helm_timeout_secs()
    if not isinstance(deadline, int) or not (statement or 0) / 1000 < deadline < helm_timeout:
        found.append(f"Job {job_name}: activeDeadlineSeconds {deadline!r}, expected above one migration statement's "
                     f"{(statement or 0) / 1000:g} s and below the deploy's helm --timeout of {helm_timeout} s")
    for key in ("serviceAccountName", "securityContext"):
        if pod.get(key) != app_pod.get(key):
            found.append(f"Job {job_name}: pod {key} {pod.get(key)}, the app's {app_pod.get(key)}")
    if pod.get("automountServiceAccountToken") is not False:
        found.append(f"Job {job_name} mounts a service account token it has no use for")
    if container.get("securityContext") != app.get("securityContext"):
        found.append(f"Job {job_name}: container securityContext differs from the app's")
    labels = spec["template"]["metadata"].get("labels") or {}
    if selects(deployment["spec"]["selector"], labels):
        found.append(f"Job {job_name}'s pods carry the app's selector labels: its Service would send them requests")
    # Network. On an upgrade the policies in force while the hook runs are the previous
    # release's: what admits the Job must itself be a hook of its events, created first.
    policies = of_kind(docs, "NetworkPolicy")
    own = [p for p in policies if selects(p["spec"]["podSelector"], labels)]
    if values_of(name)["networkPolicy"].get("enabled") and not own:
        found.append(f"no NetworkPolicy selects the pods of Job {job_name}")
    clusters = [c["metadata"]["name"] for c in of_kind(docs, "Cluster")]
    for policy in own:
        if "Egress" not in policy["spec"].get("policyTypes", []):
            continue
        reach = [(p.get("port"), to) for rule in policy["spec"].get("egress", [])
                 for p in rule.get("ports", [{}]) for to in rule.get("to", [{}])]
        if not any(port == 5432 and (not to or any(selects(to.get("podSelector", {}), {"cnpg.io/cluster": c}) for c in clusters))
                   for port, to in reach) or not any(port == 53 for port, _ in reach):
            found.append(f"NetworkPolicy {policy['metadata']['name']} keeps the Job's pods from DNS or PostgreSQL (5432)")
    for cluster in clusters:
        database_policies = [p for p in policies if p["spec"]["podSelector"].get("matchLabels") == {"cnpg.io/cluster": cluster}
                             and "Ingress" in p["spec"].get("policyTypes", [])]
        if not database_policies:
            continue
        admitting = [p for p in database_policies for rule in p["spec"].get("ingress", [])
                     if any(pt.get("port") == 5432 for pt in rule.get("ports", []))
                     and any("namespaceSelector" not in f and selects(f.get("podSelector", {"matchLabels": {"-": "-"}}), labels)
                             for f in rule.get("from", []))]
        if not admitting:
            found.append(f"the pods of Cluster {cluster} do not admit Job {job_name}'s pods on 5432")
        for policy in admitting:
            if not hooks <= hooks_of(policy) or hook_weight(policy) >= hook_weight(job):
                found.append(f"NetworkPolicy {policy['metadata']['name']} admits Job {job_name} but is not a hook of its "
                             "events with a lower weight: on the upgrade that brings the Job, the previous release's "
                             "policies are in force while it runs")
    return found


def check_migrate_on_start(name, docs, notes):
    """Exactly one migrator on each event: on `helm upgrade` the Job, with
    MIGRATE_ON_START=false on the Deployment; on the first install (no hook Job can run
    then) the app at start, MIGRATE_ON_START=true; without the Job, always the app."""
    found = []
    for event, documents in (("install", docs), ("upgrade", rendered[name]["upgrade"])):
        value = env_of(app_container(the_deployment(documents))).get("MIGRATE_ON_START")
        job_runs = any(f"pre-{event}" in hooks_of(j) or f"post-{event}" in hooks_of(j) for j in of_kind(documents, "Job"))
        if value not in ("true", "false"):
            found.append(f"on {event}: MIGRATE_ON_START is {value!r}, not set explicitly (the app's default migrates from "
                         "every starting pod)")
            continue
        if job_runs and value == "true":
            found.append(f"on {event}: both the Job and every starting pod migrate (MIGRATE_ON_START=true)")
        if not job_runs and value == "false":
            found.append(f"on {event}: nothing migrates (no Job runs, MIGRATE_ON_START=false): the pods stay unready")
        if event == "upgrade" and job_wanted(name) and value != "false":
            found.append("on upgrade, with the migration Job on, the Deployment still migrates at start")
    return found


# CloudNativePG's own sessions on an instance, beyond the app's: the instance manager's
# pool opens at most 3 connections per database (pkg/management/postgres/pool), on
# postgres and the app's database, plus the metrics exporter's. An estimate: upstream
# documents no total (docs/deploy.md, "Connection budget").
CNPG_OWN_CONNECTIONS = 10
BUDGETS = {}  # variant: text, printed after the checks


def check_connection_budget(name, docs, notes):
    """Per PostgreSQL server: every pod the HPA may run (or the fixed replicas) plus the
    rolling update's surge, each with a pool of DATABASE_MAX_CONNECTIONS and a probe
    connection, plus the migration Job's pool and probe, superuser_reserved_connections
    and CloudNativePG's own 10, fit in max_connections; the pool sizes and
    max_connections are set explicitly."""
    clusters = of_kind(docs, "Cluster")
    if not clusters:
        return []  # an external database: its limit is not the chart's
    found = []
    deployment = the_deployment(docs)
    hpas = of_kind(docs, "HorizontalPodAutoscaler")
    replicas = hpas[0]["spec"]["maxReplicas"] if hpas else deployment["spec"].get("replicas", 1)
    surge = ((deployment["spec"].get("strategy") or {}).get("rollingUpdate") or {}).get("maxSurge", "25%")
    if isinstance(surge, str):  # a percentage, rounded up (Kubernetes)
        surge = -(-replicas * int(surge.rstrip("%")) // 100)

    def pool_of(container, who):
        value = env_of(container).get("DATABASE_MAX_CONNECTIONS")
        if value is None:
            found.append(f"{who}: DATABASE_MAX_CONNECTIONS is not set: the budget rests on the app's default")
            return app_default("DATABASE_MAX_CONNECTIONS")
        return int(value)

    pool = pool_of(app_container(deployment), "the Deployment")
    job = sum(pool_of(j["spec"]["template"]["spec"]["containers"][0], f"Job {j['metadata']['name']}") + 1
              for j in of_kind(docs, "Job"))
    for cluster in clusters:
        parameters = (cluster["spec"].get("postgresql") or {}).get("parameters") or {}
        for key, value in parameters.items():
            if not isinstance(value, str):
                found.append(f"Cluster {cluster['metadata']['name']}: parameter {key} is {value!r}: CloudNativePG takes strings only")
        if "max_connections" not in parameters:
            found.append(f"Cluster {cluster['metadata']['name']}: max_connections is not set: PostgreSQL's default of 100 applies")
        limit = int(parameters.get("max_connections", 100))
        reserved = int(parameters.get("superuser_reserved_connections", 3))
        needed = (replicas + surge) * (pool + 1) + job + reserved + CNPG_OWN_CONNECTIONS
        summary = (f"({replicas} + {surge} surge) pods x ({pool} + 1) + Job {job} + reserved {reserved} + "
                   f"CloudNativePG {CNPG_OWN_CONNECTIONS} = {needed} of max_connections {limit}")
        BUDGETS[name] = summary
        if needed > limit:
            found.append(f"Cluster {cluster['metadata']['name']}: connection budget {summary}: over the limit")
    return found


def check_data_durability(name, docs, notes):
    """Synchronous replication's dataDurability is chosen in values
    (database.cluster.synchronous.dataDurability) and rendered as chosen, not left to
    CloudNativePG's default, with fewer synchronous standbys asked for than there are."""
    found = []
    synchronous = ((values_of(name).get("database") or {}).get("cluster") or {}).get("synchronous") or {}
    for cluster in of_kind(docs, "Cluster"):
        rendered_sync = (cluster["spec"].get("postgresql") or {}).get("synchronous")
        if not synchronous.get("enabled"):
            if rendered_sync:
                found.append(f"Cluster {cluster['metadata']['name']}: synchronous replication rendered although off in values")
            continue
        if "dataDurability" not in synchronous:
            found.append("values do not choose database.cluster.synchronous.dataDurability")
        durability = (rendered_sync or {}).get("dataDurability")
        if durability not in ("required", "preferred") or durability != synchronous.get("dataDurability", durability):
            found.append(f"Cluster {cluster['metadata']['name']}: dataDurability {durability!r}, values choose "
                         f"{synchronous.get('dataDurability')!r}")
        if (rendered_sync or {}).get("number", 1) >= cluster["spec"]["instances"]:
            found.append(f"Cluster {cluster['metadata']['name']}: {rendered_sync.get('number')} synchronous standbys "
                         f"asked of {cluster['spec']['instances']} instances")
    return found



# ---------------------------------------------------------------------------------------
# Issue 14: TLS to PostgreSQL. What CloudNativePG 1.30.0 provides (the sources are named
# next to the chart code, templates/_helpers.tpl): the Cluster's CA in the secret
# <cluster>-ca (spec.certificates.serverCASecret if set), key ca.crt, beside the CA's
# private key ca.key; a server certificate naming, for each default service -rw, -r
# and -ro that is not disabled, <svc>, <svc>.<namespace>, <svc>.<namespace>.svc and
# <svc>.<namespace>.svc.<cluster domain>; an <cluster>-app secret whose `uri` has no
# query string at all, so no sslmode. sqlx takes sslmode and sslrootcert from the URL.

CNPG_CLUSTER_DOMAIN = "cluster.local"  # the operator's KUBERNETES_CLUSTER_DOMAIN by default
CNPG_CA_KEY = "ca.crt"
# The Cluster's service each URL must name: writes go to the primary alone.
URL_SERVICES = {"DATABASE_URL": ("rw",), "DATABASE_REPLICA_URL": ("ro", "r")}
ENV_REFERENCE = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")
TLS_SKIPPED = {}  # variant: why the URLs themselves could not be checked


def cnpg_ca_secret(cluster):
    return ((cluster["spec"].get("certificates") or {}).get("serverCASecret")
            or f"{cluster['metadata']['name']}-ca")


def cnpg_server_names(cluster):
    """{service suffix: the DNS names CloudNativePG's server certificate gives it}."""
    name, namespace = cluster["metadata"]["name"], cluster["metadata"].get("namespace")
    services = (cluster["spec"].get("managed") or {}).get("services") or {}
    disabled = set(services.get("disabledDefaultServices") or [])
    names = {}
    for suffix in ("rw", "r", "ro"):
        if suffix not in disabled:
            service = f"{name}-{suffix}"
            names[suffix] = {service, f"{service}.{namespace}", f"{service}.{namespace}.svc",
                             f"{service}.{namespace}.svc.{CNPG_CLUSTER_DOMAIN}"}
    return names


def pod_specs(docs):
    """(workload, its pod spec) for every kind of object that runs containers."""
    for doc in docs:
        kind, spec = doc["kind"], doc.get("spec") or {}
        if kind == "Pod":
            yield doc, spec
        elif kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"):
            yield doc, spec["template"]["spec"]
        elif kind == "CronJob":
            yield doc, spec["jobTemplate"]["spec"]["template"]["spec"]


def ca_file_problems(where, path, container, pod, secret_name):
    """The file `path` must be the key ca.crt, alone, of the secret `secret_name`, mounted
    read-only (not through subPath, which never sees a renewal) and readable by the pod's
    non-root user: the others' read bit, or the group's with an fsGroup (the kubelet makes
    the pod's fsGroup the group of a secret volume's files)."""
    if not posixpath.isabs(path):
        return [f"{where}: sslrootcert {path!r} is not an absolute path"]
    mounts = [m for m in container.get("volumeMounts") or []
              if path.startswith(m["mountPath"].rstrip("/") + "/")]
    if not mounts:
        return [f"{where}: sslrootcert {path} is under no volumeMount of the container: no such file"]
    mount = max(mounts, key=lambda m: len(m["mountPath"]))
    found = []
    if mount.get("subPath") or mount.get("subPathExpr"):
        found.append(f"{where}: the CA is mounted through subPath, which never receives the renewed certificate")
    if mount.get("readOnly") is not True:
        found.append(f"{where}: volumeMount {mount['name']} of the CA is not readOnly")
    volume = next((v for v in pod.get("volumes") or [] if v["name"] == mount["name"]), None)
    secret = (volume or {}).get("secret")
    if not secret:
        return found + [f"{where}: sslrootcert {path} is on volume {mount['name']}, not a secret volume"]
    if secret.get("secretName") != secret_name:
        found.append(f"{where}: sslrootcert {path} comes from secret {secret.get('secretName')}, "
                     f"expected the database server's CA, {secret_name}")
    items = secret.get("items")
    if not items:
        return found + [f"{where}: volume {mount['name']} mounts every key of {secret.get('secretName')}, "
                        "the CA's private key (ca.key) with its certificate: list the ca.crt item alone"]
    if {i["key"] for i in items} != {CNPG_CA_KEY}:
        found.append(f"{where}: volume {mount['name']} mounts the keys {sorted(i['key'] for i in items)}, "
                     f"expected {CNPG_CA_KEY} alone")
    relative = posixpath.relpath(path, mount["mountPath"])
    item = next((i for i in items if i["key"] == CNPG_CA_KEY and i["path"] == relative), None)
    if item is None:
        return found + [f"{where}: sslrootcert {path} is not the {CNPG_CA_KEY} item of volume {mount['name']}"]
    mode = item.get("mode", secret.get("defaultMode", 0o644))
    if not (mode & 0o004 or (mode & 0o040 and (pod.get("securityContext") or {}).get("fsGroup") is not None)):
        found.append(f"{where}: the CA's file mode {mode:#o} keeps the non-root user from reading it")
    return found


def check_database_tls(name, docs, notes):
    """TLS to PostgreSQL, verified: every container that gets DATABASE_URL or
    DATABASE_REPLICA_URL (the app, the migration Job, anything else) has, in each URL,
    sslmode=verify-full, a host the Cluster's server certificate names (the -rw service
    for DATABASE_URL, -ro or -r for replicas), and an sslrootcert that is the ca.crt key,
    alone, of a read-only secret volume of the Cluster's CA (<cluster>-ca), readable by
    the app's user; with an external database, that database.existingCASecret is mounted
    the same way."""
    found = []
    values = values_of(name)
    external_ca = (values.get("database") or {}).get("existingCASecret") or ""
    for event, documents in (("install", docs), ("upgrade", rendered[name]["upgrade"])):
        clusters = of_kind(documents, "Cluster")
        ca_secrets = {cnpg_ca_secret(c) for c in clusters}
        connecting = 0
        for workload, pod in pod_specs(documents):
            for volume in pod.get("volumes") or []:
                secret = volume.get("secret") or {}
                if secret.get("secretName") in ca_secrets and any(
                        i["key"] != CNPG_CA_KEY for i in secret.get("items") or [{"key": "every key"}]):
                    found.append(f"{event}: {workload['kind']} {workload['metadata']['name']}: volume "
                                 f"{volume['name']} mounts more of {secret['secretName']} than {CNPG_CA_KEY}")
            for container in pod.get("containers", []) + pod.get("initContainers", []):
                env = container.get("env") or []
                where = f"{event}: {workload['kind']} {workload['metadata']['name']}, container {container['name']}"
                for index, entry in enumerate(env):
                    variable = entry["name"]
                    if variable not in URL_SERVICES:
                        continue
                    connecting += 1
                    if not clusters:
                        if "value" in entry:
                            found.append(f"{where}: {variable} written in the manifest with an external database")
                        TLS_SKIPPED[name] = ("the URLs come from database.existingSecret, which the chart cannot "
                                             "read: their sslmode and sslrootcert are the operator's (docs/deploy.md)")
                        if external_ca:
                            mounts = [m for m in container.get("volumeMounts") or []
                                      if any(v["name"] == m["name"] and (v.get("secret") or {}).get("secretName") == external_ca
                                             for v in pod.get("volumes") or [])]
                            if len(mounts) != 1:
                                found.append(f"{where}: database.existingCASecret {external_ca} is not mounted once")
                            else:
                                found += ca_file_problems(where, mounts[0]["mountPath"].rstrip("/") + "/" + CNPG_CA_KEY,
                                                          container, pod, external_ca)
                        continue
                    if "value" not in entry:
                        source = (entry.get("valueFrom") or {}).get("secretKeyRef") or entry.get("valueFrom")
                        found.append(f"{where}: {variable} comes from {source}: no sslmode the chart can see "
                                     "(CloudNativePG's `uri` carries none)")
                        continue
                    defined = {e["name"] for e in env[:index]}
                    for reference in ENV_REFERENCE.findall(entry["value"]):
                        if reference not in defined:
                            found.append(f"{where}: {variable} refers to $({reference}), not defined before it: "
                                         "Kubernetes leaves the reference as it is")
                    for url in [u.strip() for u in entry["value"].split(",") if u.strip()]:
                        parts = urllib.parse.urlsplit(url)
                        what = f"{where}: {variable} {parts.hostname}"
                        if parts.scheme not in ("postgres", "postgresql"):
                            found.append(f"{what}: scheme {parts.scheme!r}, not a PostgreSQL URL")
                            continue
                        query = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
                        modes = query.get("sslmode", []) + query.get("ssl-mode", [])
                        if modes != ["verify-full"]:
                            found.append(f"{what}: sslmode {modes or 'unset'}, expected verify-full once (the chain "
                                         "and the host name checked; anything less accepts any server, or plain text)")
                        host = parts.hostname or ""
                        services = [(c, suffix) for c in clusters for suffix, names in cnpg_server_names(c).items()
                                    if host in names]
                        if not services:
                            found.append(f"{what}: host {host!r} is not a name on the server certificate of "
                                         f"{'any Cluster' if len(clusters) > 1 else 'Cluster ' + clusters[0]['metadata']['name']}: "
                                         "verify-full refuses it")
                            continue
                        cluster, suffix = services[0]
                        if suffix not in URL_SERVICES[variable]:
                            found.append(f"{what}: names the -{suffix} service, expected "
                                         f"{' or '.join('-' + s for s in URL_SERVICES[variable])}")
                        roots = query.get("sslrootcert", []) + query.get("ssl-root-cert", []) + query.get("ssl-ca", [])
                        if len(roots) != 1:
                            found.append(f"{what}: {len(roots)} sslrootcert parameters, one expected (the Cluster's CA)")
                            continue
                        found += ca_file_problems(what, roots[0], container, pod, cnpg_ca_secret(cluster))
        if clusters and not connecting:
            found.append(f"{event}: a Cluster is rendered but no container gets DATABASE_URL: nothing was checked")
    return found

CHECKS = [check_database_kept, check_scrape_objects, check_postgresql_version, check_images_pinned,
          check_checkov_skips, check_database_network_policy, check_shutdown, check_autoscaling,
          check_security_policy, check_protection_env, check_migration_job, check_migrate_on_start,
          check_connection_budget, check_data_durability, check_database_tls]
for check in CHECKS:
    failures = []
    for name, result in rendered.items():
        try:
            failures += [f"{name}: {f}" for f in check(name, result["documents"], result["notes"])]
        except Exception as error:  # a manifest without what the check reads
            failures.append(f"{name}: {check.__name__} could not run: {error!r}")
    problems += [f"{check.__name__}: {f}" for f in failures]
    print(f"helm: {' '.join(check.__doc__.split())} {'FAILED' if failures else 'ok'}")


def check_addons_script():
    """scripts/install-cluster-addons.sh installs each add-on from its chart, at a pinned
    version, waiting for it, cert-manager before the Barman Cloud plugin."""
    script = repo_root / "scripts" / "install-cluster-addons.sh"
    if not script.is_file():
        return [f"{script.relative_to(repo_root)} is missing: the cluster add-ons would be installed by hand"]
    found = []
    syntax = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    if syntax.returncode:
        found.append(f"bash -n: {syntax.stderr.strip()}")
    text = script.read_text()
    versions = dict(re.findall(r"^([A-Z_]+_VERSION)=(\S+)$", text, re.M))
    charts = {}  # chart: where in the script it is installed
    for match in re.finditer(r"^\s*helm upgrade --install (?:[^\n]*\\\n)*[^\n]*", text, re.M):
        command = match.group(0).replace("\\\n", " ")
        words = command.split()
        chart = words[4] if len(words) > 4 else "?"
        charts[chart] = match.start()
        version = re.search(r"--version[ =]\"?\$\{?([A-Z_]+_VERSION)", command)
        if not version or not re.match(r"^v?\d+\.\d+\.\d+$", versions.get(version.group(1), "")):
            found.append(f"{chart}: not pinned to an exact version")
        if "--wait" not in words:
            found.append(f"{chart}: installed without --wait")
    for needed in ("cert-manager", "cloudnative-pg", "plugin-barman-cloud"):
        if not any(needed in c for c in charts):
            found.append(f"no `helm upgrade --install` of {needed}")
    order = [next((i for c, i in charts.items() if n in c), None) for n in ("cert-manager", "plugin-barman-cloud")]
    if None not in order and order[0] > order[1]:
        found.append("the Barman Cloud plugin is installed before cert-manager, which it needs")
    return found


failures = check_addons_script()
problems += [f"check_addons_script: {f}" for f in failures]
print(f"helm: {' '.join(check_addons_script.__doc__.split())} {'FAILED' if failures else 'ok'}")

for name, summary in BUDGETS.items():
    print(f"helm: {name}: connections per PostgreSQL server: {summary}")
for name, reason in TLS_SKIPPED.items():
    print(f"helm: SKIPPED the TLS check of the database URLs in {name}: {reason}")
for kind, variants in sorted(skipped.items()):
    print(f"helm: SKIPPED schema validation of {kind} ({CRD_KINDS[kind]}: a CRD, not in the "
          f"Kubernetes {KUBERNETES_VERSION} schemas) in: {', '.join(sorted(variants))}")
if problems:
    sys.exit("helm chart problems:\n  " + "\n  ".join(problems))
