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
    that installs the cluster add-ons, and (issue 13) the Cloud Armor policy attached
    through the GCPBackendPolicy under the name terraform/ gives it, and the app's
    protection settings in its environment).
Writes every variant's manifests under OUT_DIR for checkov.

usage: check-helm.py CHART_DIR OUT_DIR
"""
import json
import pathlib
import re
import subprocess
import sys

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
    "fixed-replicas-no-monitoring": (
        {"autoscaling": {"enabled": False}, "metrics": {"podMonitor": False},
         "database": {"cluster": {"monitoring": {"enabled": False}}}},
        PROMETHEUS_OPERATOR_APIS + CNPG_APIS,
    ),
    "plain-ingress": (
        {"ingress": {"enabled": True, "className": "gce", "hostname": "tasks.example.com", "tlsSecretName": "tasks-tls"}},
        PROMETHEUS_OPERATOR_APIS + CNPG_APIS,
    ),
}
# Values the chart must refuse.
MUST_FAIL = {
    "no database": {"database": {"cluster": {"enabled": False}}},
    "database URL in values": {"env": {"DATABASE_URL": "postgres://u:secret@h/db"}},
    "gateway without hostname": {"gateway": {"enabled": True}},
    "no time to shut down after the preStop pause": {"terminationGracePeriodSeconds": 20, "preStopSleepSeconds": 15},
    "draining longer than the load balancer allows": {"gateway": {"backendPolicy": {"drainingTimeoutSec": 3601}}},
    "a security policy that is not a policy name": {
        "gateway": {"backendPolicy": {"securityPolicy": "projects/p/global/securityPolicies/tasks-armor"}}},
    "a protection setting through env": {"env": {"TRUSTED_PROXY_HOPS": "3"}},
    "a write limit without a burst": {"protection": {"writeRateLimit": {"burst": 0}}},
}
YAMLLINT = YamlLintConfig("rules:\n  key-duplicates: enable\n")


def render(values, api_versions):
    """An offline `helm template tasks CHART -n tasks --kube-version ... --api-versions ...`.
    helm-python-sdk 0.2.2's Chart.render() does not pass these two options, although the
    native library it wraps reads them (`kube_version`, `api_versions`): call it directly.
    The CHECKS below fail if the API versions were not taken into account."""
    options = {"name": "tasks", "namespace": "tasks", "kube_version": f"v{KUBERNETES_VERSION}",
               "api_versions": api_versions}
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
    try:
        manifests = render(values, api_versions)
    except Exception as error:  # the library raises several error types
        problems.append(f"{name}: render: {error}")
        continue
    documents, notes = [], ""
    for template, text in sorted(manifests.items()):
        if template.endswith("NOTES.txt"):
            notes = text
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
    rendered[name] = {"documents": documents, "notes": notes, "values": values}
    (out_dir / f"{name}.yaml").write_text(yaml.safe_dump_all(documents, sort_keys=False))
    print(f"helm: {name}: lint clean, {len(documents)} manifests rendered, yamllint clean and validated")

for name, values in MUST_FAIL.items():
    try:
        render(values, [])
        problems.append(f"the chart accepted values it must refuse: {name}")
    except Exception:
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
    reason (only the app's Deployment does, and only without image.digest)."""
    found = []
    for doc in docs:
        if doc["kind"] == "Pod":
            spec = doc["spec"]
        elif doc["kind"] == "Deployment":
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
        policies = [p for p in of_kind(docs, "NetworkPolicy")
                    if p["spec"]["podSelector"].get("matchLabels") == {"cnpg.io/cluster": cluster_name}]
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
    import hcl2  # python-hcl2, in the same venv (check-terraform.py uses it)

    def plain(value):
        return value[1:-1] if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"' else value

    parsed = [hcl2.loads(path.read_text()) for path in sorted((repo_root / "terraform").glob("*.tf"))]
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


CHECKS = [check_database_kept, check_scrape_objects, check_postgresql_version, check_images_pinned,
          check_checkov_skips, check_database_network_policy, check_shutdown, check_autoscaling,
          check_security_policy, check_protection_env]
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

for kind, variants in sorted(skipped.items()):
    print(f"helm: SKIPPED schema validation of {kind} ({CRD_KINDS[kind]}: a CRD, not in the "
          f"Kubernetes {KUBERNETES_VERSION} schemas) in: {', '.join(sorted(variants))}")
if problems:
    sys.exit("helm chart problems:\n  " + "\n  ".join(problems))
