#!/usr/bin/env bash
# Proves that bootstrap's virtualenv step recovers on a machine whose python3 cannot make
# a virtualenv yet, as in the rust:*-bookworm CI image (python3 without python3-venv):
#
#   scripts/check-bootstrap-venv.sh [BOOTSTRAP]     (default: scripts/bootstrap.sh)
#
# It runs bootstrap's own functions (venv_install and what it calls, read from the
# script, none of the installs around them) with stand-ins first on PATH:
#   python3  fails `-m venv` like Debian's python3 without ensurepip, until python3.X-venv
#            has been "installed"; otherwise it is the real python3
#   apt-get  records its calls, and "installs" a package by leaving a marker file
#   id       says root, so the apt branch is taken on any machine
# and demands: a working virtualenv at the end, made after apt-get was asked for the
# python3.X-venv package that matches the interpreter's version.
# Nothing is installed on the machine: apt-get is never the real one.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bootstrap=${1:-$root/scripts/bootstrap.sh}
real_python=$(command -v python3) || { echo "check-bootstrap-venv: python3 not found" >&2; exit 1; }
version=$("$real_python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/bin" "$work/apt"

cat >"$work/bin/python3" <<EOF
#!/usr/bin/env bash
# Stand-in: Debian's python3 before python$version-venv is installed.
if [ "\${1:-}" = -m ] && [ "\${2:-}" = venv ] && [ ! -e "$work/apt/python$version-venv" ]; then
  echo "The virtual environment was not created successfully because ensurepip is not" >&2
  echo "available.  On Debian/Ubuntu systems, you need to install the python3-venv" >&2
  echo "package using the following command. (stand-in of check-bootstrap-venv.sh)" >&2
  exit 1
fi
exec "$real_python" "\$@"
EOF
cat >"$work/bin/apt-get" <<EOF
#!/usr/bin/env bash
# Stand-in: records the call; "install" leaves a marker per package.
echo "apt-get \$*" >>"$work/apt/calls"
if [ "\${1:-}" = install ]; then
  for arg in "\$@"; do
    case \$arg in -*|install) ;; *) touch "$work/apt/\$arg" ;; esac
  done
fi
EOF
cat >"$work/bin/id" <<'EOF'
#!/usr/bin/env bash
[ "${1:-}" = -u ] && { echo 0; exit 0; }
exec /usr/bin/id "$@"
EOF
chmod +x "$work/bin/"*

# Bootstrap's helper functions, as written in the script under test.
functions() {
  awk -v names=" log die apt_install venv_create venv_install " '
    match($0, /^[a-z_]+\(\) \{/) { name = substr($0, 1, index($0, "(") - 1)
                                   if (index(names, " " name " ")) keep = 1 }
    keep { print }
    keep && /^}/ { keep = 0 }
    keep && /^[a-z_]+\(\) \{.*\}$/ { keep = 0 }
  ' "$bootstrap"
}
grep -q '^venv_install() {' "$bootstrap" || { echo "check-bootstrap-venv: no venv_install() in $bootstrap" >&2; exit 1; }

echo "check-bootstrap-venv: $bootstrap, python3 $version whose -m venv fails until python$version-venv is installed"
set +e
(
  export PATH="$work/bin:$PATH"
  # shellcheck disable=SC2034 # read by the apt_install of the script under test
  apt_updated=false
  eval "$(functions)"
  # `pip install pip` is satisfied inside a fresh virtualenv: no network needed.
  venv_install "$work/venv" pip
) 2>&1 | sed 's/^/  | /'
status=${PIPESTATUS[0]}
set -e

problems=()
[ "$status" -eq 0 ] || problems+=("bootstrap's venv_install exited $status")
[ -x "$work/venv/bin/pip" ] && "$work/venv/bin/python" -c 'import sys; sys.exit(sys.prefix == sys.base_prefix)' \
  || problems+=("no working virtualenv at the end")
grep -q "^apt-get install .*python$version-venv" "$work/apt/calls" 2>/dev/null \
  || problems+=("apt-get was not asked for python$version-venv")
if [ "${#problems[@]}" -gt 0 ]; then
  printf 'check-bootstrap-venv: FAILED: %s\n' "${problems[@]}" >&2
  exit 1
fi
asked=$(grep '^apt-get install' "$work/apt/calls" | tr ' ' '\n' | grep -v '^-\|^apt-get$\|^install$' | tr '\n' ' ')
echo "check-bootstrap-venv: recovered: apt-get was asked for ${asked% }, then the virtualenv was made"
