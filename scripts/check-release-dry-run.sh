#!/usr/bin/env bash
# The proof that release-plz proposes releases for this repository: a dry run of
# `release-plz update` (what the release PR would contain) in a throwaway clone.
#
#   scripts/check-release-dry-run.sh [RELEASE_PLZ_CONFIG]   (default: release-plz.toml)
#
# Needs the release-plz binary (RELEASE_PLZ, default: release-plz on PATH), the version
# that .github/workflows/release.yml pins; building it takes about half an hour on two
# cores (cargo install release-plz --version X --locked, Rust 1.97 or later), which is
# why scripts/test.sh does not run this. Nothing leaves the clone: no token, no push.
# It demands:
#   1. with no release tag yet: a first version and a CHANGELOG.md made from the
#      conventional commits
#   2. after that version is tagged (the release PR merged) and a feat: and a fix:
#      commit: the next version in Cargo.toml and both commits in CHANGELOG.md
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
config=$(realpath "${1:-$root/release-plz.toml}")
release_plz=${RELEASE_PLZ:-release-plz}
command -v "$release_plz" >/dev/null \
  || { echo "check-release-dry-run: $release_plz not found (set RELEASE_PLZ): NOT RUN" >&2; exit 1; }
pinned=$(sed -n 's/^ *RELEASE_PLZ_VERSION: *"\([0-9.]*\)".*/\1/p' "$root/.github/workflows/release.yml")
echo "check-release-dry-run: $("$release_plz" --version) (release.yml pins $pinned), config $config"
[ "$("$release_plz" --version)" = "release-plz $pinned" ] \
  || { echo "check-release-dry-run: FAILED: not the release-plz that release.yml runs" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone -q "$root" "$work/repo"
cd "$work/repo"
# A GitHub-like origin, for the changelog's links; nothing is fetched from it.
git remote set-url origin https://github.com/example/tasks
# As if nothing had been released yet: step 1 holds on any later commit too.
git tag --list 'v*' | xargs -r git tag --delete >/dev/null
commit() { git -c user.name=dry-run -c user.email=dry-run@example.invalid commit -q "$@"; }
update() {
  "$release_plz" update --config "$config" 2>&1 | sed 's/\x1b\[[0-9;]*m//g; s/^/  | /'
  return "${PIPESTATUS[0]}"
}
version() { sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1; }
failed=0
fail() { echo "check-release-dry-run: FAILED: $*" >&2; failed=1; }

before=$(version)
echo "1. no release tag yet (Cargo.toml: $before)"
update || fail "release-plz update exited non-zero"
if [ -f CHANGELOG.md ] && grep -q "^## \[$(version)\]" CHANGELOG.md; then
  echo "   proposed $(version) with a CHANGELOG.md of $(grep -c '^- ' CHANGELOG.md) entries"
else
  fail "no first version and changelog proposed"
fi

echo "2. that version released (tag v$(version)), then a feat: and a fix: commit"
git add -A && commit --allow-empty -m "chore: release v$(version)"
git tag "v$(version)"
released=$(version)
echo "// dry run: a feature" >>src/lib.rs && commit -am "feat: a feature of the dry run"
echo "// dry run: a fix" >>src/lib.rs && commit -am "fix: a fix of the dry run"
update || fail "release-plz update exited non-zero"
if [ "$(version)" != "$released" ] && grep -q "^## \[$(version)\]" CHANGELOG.md \
  && grep -q "a feature of the dry run" CHANGELOG.md && grep -q "a fix of the dry run" CHANGELOG.md; then
  echo "   proposed $released -> $(version), both commits in CHANGELOG.md"
else
  fail "no next version proposed after v$released (Cargo.toml: $(version))"
fi

[ "$failed" -eq 0 ] || exit 1
echo "check-release-dry-run: release-plz proposes versions and changelogs from the conventional commits"
