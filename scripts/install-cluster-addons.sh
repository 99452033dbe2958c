#!/usr/bin/env bash
# Installs, or upgrades to the versions pinned below, the cluster add-ons the Tasks chart
# relies on, each from its official Helm chart, waiting until it is ready:
#   1. cert-manager: the Barman Cloud plugin's certificates (mTLS between the plugin
#      and the CloudNativePG operator) are cert-manager Certificates;
#   2. the CloudNativePG operator (and its CRDs), in cnpg-system;
#   3. the Barman Cloud plugin (backups and WAL archiving to Cloud Storage), in the
#      operator's namespace, as the plugin requires;
#   4. with --with-metrics-adapter: the custom metrics Stackdriver adapter, which serves
#      Managed Prometheus series to the HorizontalPodAutoscaler (autoscaling.requestsInFlight
#      / requestRate). Its service account needs roles/monitoring.viewer first (Terraform).
# Then it checks what Terraform turns on: the GKE Gateway controller's GatewayClass and
# Managed Prometheus' PodMonitoring API.
#
# Run once per cluster by an operator with cluster-admin rights, with kubectl's current
# context on the cluster (docs/deploy.md, step 4); re-run after changing a version here.
# Needs helm (3.8 or later: OCI charts) and kubectl.
#
# usage: scripts/install-cluster-addons.sh [--with-metrics-adapter]
set -euo pipefail

# cert-manager's chart and app share one version (github.com/cert-manager/cert-manager).
CERT_MANAGER_VERSION=v1.21.1
# Chart 0.29.0 of cloudnative-pg ships the operator 1.30.0 (github.com/cloudnative-pg/charts).
CLOUDNATIVE_PG_CHART_VERSION=0.29.0
# Chart 0.7.0 of plugin-barman-cloud ships the plugin v0.13.0, which needs CloudNativePG
# 1.26 or later and cert-manager.
BARMAN_CLOUD_CHART_VERSION=0.7.0
# custom-metrics-stackdriver-adapter has no Helm chart: its production manifest at this
# commit of GoogleCloudPlatform/k8s-stackdriver (image v0.16.9-gke.0).
METRICS_ADAPTER_COMMIT=af49d863755c0535f598cfde9288ae9a75251d38

CNPG_CHARTS=https://cloudnative-pg.github.io/charts
TIMEOUT=10m

with_metrics_adapter=false
for arg in "$@"; do
  case "$arg" in
    --with-metrics-adapter) with_metrics_adapter=true ;;
    -h | --help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "unknown argument: $arg (see --help)" >&2; exit 2 ;;
  esac
done

for tool in helm kubectl; do
  command -v "$tool" >/dev/null || { echo "$tool is required" >&2; exit 1; }
done
echo "Cluster add-ons for kubectl context: $(kubectl config current-context)"

echo "== cert-manager $CERT_MANAGER_VERSION"
helm upgrade --install cert-manager oci://quay.io/jetstack/charts/cert-manager \
  --version "$CERT_MANAGER_VERSION" \
  --namespace cert-manager --create-namespace \
  --set crds.enabled=true \
  --wait --timeout "$TIMEOUT"

echo "== CloudNativePG operator (chart $CLOUDNATIVE_PG_CHART_VERSION)"
helm upgrade --install cnpg cloudnative-pg --repo "$CNPG_CHARTS" \
  --version "$CLOUDNATIVE_PG_CHART_VERSION" \
  --namespace cnpg-system --create-namespace \
  --wait --timeout "$TIMEOUT"

echo "== Barman Cloud plugin (chart $BARMAN_CLOUD_CHART_VERSION)"
helm upgrade --install plugin-barman-cloud plugin-barman-cloud --repo "$CNPG_CHARTS" \
  --version "$BARMAN_CLOUD_CHART_VERSION" \
  --namespace cnpg-system \
  --wait --timeout "$TIMEOUT"

if $with_metrics_adapter; then
  echo "== custom metrics Stackdriver adapter ($METRICS_ADAPTER_COMMIT)"
  kubectl apply --server-side -f \
    "https://raw.githubusercontent.com/GoogleCloudPlatform/k8s-stackdriver/$METRICS_ADAPTER_COMMIT/custom-metrics-stackdriver-adapter/deploy/production/adapter_new_resource_model.yaml"
  kubectl -n custom-metrics rollout status deployment/custom-metrics-stackdriver-adapter --timeout "$TIMEOUT"
  kubectl wait --for=condition=Available --timeout "$TIMEOUT" apiservice/v1beta2.custom.metrics.k8s.io
fi

echo "== what Terraform turns on"
missing=0
kubectl get gatewayclass gke-l7-global-external-managed >/dev/null ||
  { echo "no GatewayClass gke-l7-global-external-managed: is the GKE Gateway controller on (gateway_api_config)?" >&2; missing=1; }
kubectl get crd podmonitorings.monitoring.googleapis.com >/dev/null ||
  { echo "no PodMonitoring CRD: is Managed Prometheus on (monitoring_config.managed_prometheus)?" >&2; missing=1; }
exit "$missing"
