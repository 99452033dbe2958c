#!/usr/bin/env bash
# Proves that scripts/push-image.sh can be re-run against a registry with immutable tags
# (Artifact Registry as terraform/registry.tf sets it up) and always leaves the tested
# digest in the registry:
#   1. a first deploy pushes the image under its tags
#   2. a re-run of that deploy (same archive) pushes nothing and succeeds
#   3. a deploy of a rebuilt image of the same commit (another digest) succeeds, leaves
#      the existing tags alone and gives the new digest a tag of its own
#   4. an archive that does not hold the digest CI tested is refused
# The registry is a stand-in `skopeo` on PATH that keeps manifests in a directory and,
# like the real registry, refuses to move an existing tag.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin" "$work/registry"

cat >"$work/bin/skopeo" <<EOF
#!/usr/bin/env python3
"""Stand-in skopeo: inspect --raw and copy oci-archive: -> docker://, immutable tags."""
import hashlib, json, pathlib, sys, tarfile
store = pathlib.Path("$work/registry")
args = [a for a in sys.argv[1:] if not a.startswith("--")]
flags = [a for a in sys.argv[1:] if a.startswith("--")]
def ref(r):
    r = r.removeprefix("docker://")
    return r.split("@", 1) if "@" in r else r.rsplit(":", 1)
if args[0] == "inspect":
    repo, name = ref(args[-1])
    path = store / repo.replace("/", "_") / name
    if not path.exists():
        sys.exit(f"manifest unknown: {args[-1]}")
    sys.stdout.buffer.write(path.read_bytes())
elif args[0] == "copy":
    assert "--all" in flags and "--preserve-digests" in flags, "copy without --all --preserve-digests"
    with tarfile.open(args[-2].removeprefix("oci-archive:")) as tar:
        digest = json.load(tar.extractfile("index.json"))["manifests"][0]["digest"]
        raw = tar.extractfile("blobs/sha256/" + digest[7:]).read()
    repo, tag = ref(args[-1])
    d = store / repo.replace("/", "_"); d.mkdir(exist_ok=True)
    if (d / tag).exists():
        sys.exit(f"tag {tag} is immutable and already exists")
    (d / tag).write_bytes(raw)
    (d / ("sha256:" + hashlib.sha256(raw).hexdigest())).write_bytes(raw)
    print(f"pushed {digest} as {tag}", file=sys.stderr)
else:
    sys.exit(f"stand-in skopeo: unexpected {sys.argv[1:]}")
EOF
chmod +x "$work/bin/skopeo"

# An OCI archive as buildx writes it: index.json naming one image index by digest.
archive() { # dir content -> prints the digest
  local dir=$1; mkdir -p "$dir/blobs/sha256"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[],"annotations":{"build":"%s"}}\n' "$2" >"$dir/index-blob"
  local hex; hex=$(sha256sum "$dir/index-blob" | cut -d' ' -f1)
  mv "$dir/index-blob" "$dir/blobs/sha256/$hex"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"sha256:%s","size":%s}]}' \
    "$hex" "$(wc -c <"$dir/blobs/sha256/$hex")" >"$dir/index.json"
  printf '{"imageLayoutVersion":"1.0.0"}' >"$dir/oci-layout"
  tar -cf "$dir.tar" -C "$dir" oci-layout index.json blobs
  echo "sha256:$hex"
}
first=$(archive "$work/first" one)
second=$(archive "$work/second" two)
repo=registry.example/project/tasks/tasks
export PATH="$work/bin:$PATH"
run() { "$root/scripts/push-image.sh" "$@" 2>&1 | sed 's/^/  | /'; return "${PIPESTATUS[0]}"; }
failed=0
fail() { echo "check-push-image: FAILED: $*" >&2; failed=1; }

echo "1. first deploy"
run "$work/first.tar" "$repo" "$first" 0.1.0-abc abc || fail "first push"
echo "2. re-run of the same deploy"
run "$work/first.tar" "$repo" "$first" 0.1.0-abc abc || fail "re-run"
echo "3. a rebuilt image of the same commit"
run "$work/second.tar" "$repo" "$second" 0.1.0-abc abc || fail "rebuilt image"
[ -e "$work/registry/${repo//\//_}/0.1.0-abc-${second:7:12}" ] || fail "the rebuilt image got no tag of its own"
[ "$(sha256sum <"$work/registry/${repo//\//_}/abc" | cut -d' ' -f1)" = "${first#sha256:}" ] \
  || fail "an existing tag was moved"
echo "4. an archive that is not the tested image"
if run "$work/second.tar" "$repo" "$first" 0.1.0-abc abc; then fail "a wrong archive was pushed"; fi

[ "$failed" -eq 0 ] || exit 1
echo "check-push-image: a deploy can be re-run, and only the tested digest is pushed"
