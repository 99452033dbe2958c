#!/usr/bin/env bash
# Pushes the image that CI built and tested, unchanged, to the registry: the image index
# in an OCI archive (docker buildx's oci exporter: image, SBOM and provenance) is copied
# with its digest preserved, so the registry serves exactly the bytes that were tested,
# and the deploy names that digest.
#
#   scripts/push-image.sh ARCHIVE REPOSITORY DIGEST TAG...
#
#   ARCHIVE     the OCI archive (tar) of the build
#   REPOSITORY  e.g. europe-west1-docker.pkg.dev/PROJECT/tasks/tasks
#   DIGEST      sha256:... of the image index, as the build reported it; checked
#               against the archive
#   TAG...      tags to give it, e.g. 0.3.0-0123456789ab 0123456789ab
#
# Safe to re-run: the registry's tags are immutable, so a tag is never pushed twice.
# A tag that already names DIGEST (a re-run of a deploy) is left as it is. A tag that
# names another digest (an earlier build of the same commit) is left too, with a
# warning; if no tag can name DIGEST, it gets one of its own, TAG-<digest prefix>, so the
# image never exists untagged. Registry credentials: skopeo's, or REGISTRY_AUTH_FILE.
set -euo pipefail

[ "$#" -ge 4 ] || { echo "usage: $0 ARCHIVE REPOSITORY DIGEST TAG..." >&2; exit 2; }
archive=$1 repository=$2 digest=$3; shift 3
say() { printf 'push-image: %s\n' "$*" >&2; }
auth=()
[ -n "${REGISTRY_AUTH_FILE:-}" ] && auth=(--authfile "$REGISTRY_AUTH_FILE")

[[ $digest =~ ^sha256:[0-9a-f]{64}$ ]] || { say "not a digest: $digest"; exit 1; }
in_archive=$(tar -xOf "$archive" index.json | python3 -c '
import json, sys
manifests = json.load(sys.stdin)["manifests"]
if len(manifests) != 1:
    sys.exit(f"the archive holds {len(manifests)} images, not one")
print(manifests[0]["digest"])')
[ "$in_archive" = "$digest" ] || { say "the archive holds $in_archive, not $digest"; exit 1; }

# The digest a tag names now, or nothing when the tag does not exist.
# (The manifest's bytes go through a file: $(...) would drop a trailing newline.)
manifest=$(mktemp)
trap 'rm -f "$manifest"' EXIT
tag_digest() {
  skopeo inspect "${auth[@]}" --raw "docker://$repository:$1" >"$manifest" 2>/dev/null || return 0
  printf 'sha256:%s\n' "$(sha256sum <"$manifest" | cut -d' ' -f1)"
}
push() {
  say "pushing $digest as $repository:$1"
  skopeo copy "${auth[@]}" --all --preserve-digests --retry-times 3 \
    "oci-archive:$archive" "docker://$repository:$1"
}

named=false
for tag in "$@"; do
  current=$(tag_digest "$tag")
  if [ -z "$current" ]; then
    push "$tag"
    named=true
  elif [ "$current" = "$digest" ]; then
    say "$repository:$tag already names $digest (a re-run): left as it is"
    named=true
  else
    say "warning: $repository:$tag names $current, an earlier build: immutable, left as it is"
  fi
done
if ! $named; then
  own="$1-${digest:7:12}"
  current=$(tag_digest "$own")
  if [ -z "$current" ]; then
    push "$own"
  elif [ "$current" != "$digest" ]; then
    say "$repository:$own names $current, not $digest"; exit 1
  fi
fi

# The registry serves the very bytes that were tested.
served=$(skopeo inspect "${auth[@]}" --raw "docker://$repository@$digest" | sha256sum | cut -d' ' -f1)
[ "sha256:$served" = "$digest" ] || { say "the registry serves sha256:$served for $digest"; exit 1; }
say "$repository@$digest is in the registry"
