#!/usr/bin/env python3
"""Checks that releases can happen: that release-plz will process this crate at all, and
that the release PR it opens gets CI.

    scripts/check-release-config.py [ROOT]

Fails, naming every problem, when:
- Cargo.toml says `publish = false` but release-plz.toml does not turn on `git_only`
  (release-plz processes only packages it can publish, or git_only ones: without it,
  it proposes and releases nothing), or turns on `publish` (refused with git_only);
- the tag name template has no {{ version }} (git_only reads versions from the tags);
- the release workflow runs a release-plz older than 0.3.166, which tags and releases
  no `publish = false` package even in git_only mode;
- the release workflow hands release-plz the GITHUB_TOKEN: GitHub starts no workflow
  for what that token does, so the release PR would get no CI. It must use a GitHub
  App's token (actions/create-github-app-token), and the workflow must not grant
  GITHUB_TOKEN write permissions.
This reads the configuration; the proof that release-plz then proposes a version and a
changelog is a dry run of release-plz itself (docs/deploy.md).
"""
import pathlib
import re
import sys
import tomllib

import yaml

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
problems = []


def need(condition, problem):
    if not condition:
        problems.append(problem)


cargo = tomllib.loads((root / "Cargo.toml").read_text())
package = cargo["package"]
config_path = root / "release-plz.toml"
config = tomllib.loads(config_path.read_text()) if config_path.exists() else {}
workspace = config.get("workspace", {})
package_config = next((p for p in config.get("package", []) if p.get("name") == package["name"]), {})


def setting(key):
    return package_config.get(key, workspace.get(key))


if package.get("publish") is False or package.get("publish") == []:
    need(setting("git_only") is True,
         f"release-plz.toml: Cargo.toml has publish = false, so release-plz needs git_only = true "
         f"to process {package['name']!r} at all (it has {setting('git_only')!r})")
need(setting("publish") is not True,
     "release-plz.toml: publish must not be true (the crate is not published; refused with git_only)")
need(setting("release") is not False, "release-plz.toml: release = false turns release-plz off")
tag = setting("git_tag_name")
need(tag is None or "{{ version }}" in tag,
     f"release-plz.toml: git_tag_name {tag!r} must contain {{{{ version }}}}: git_only reads versions from the tags")

workflow = yaml.safe_load((root / ".github/workflows/release.yml").read_text())
text = (root / ".github/workflows/release.yml").read_text()
steps = [(job, step) for job in workflow["jobs"].values() for step in job.get("steps", [])]


def version_tuple(value):
    return tuple(int(part) for part in re.findall(r"\d+", value)[:3])


# The steps that run release-plz's release or release-pr (its action, or the binary).
plz_steps = [s for _, s in steps
             if str(s.get("uses", "")).startswith("release-plz/action@")
             or re.search(r"release-plz\"?\s+(release|release-pr)\b", str(s.get("run", "")))]
need(plz_steps, ".github/workflows/release.yml: no step runs release-plz")
versions = set(re.findall(r"RELEASE_PLZ_VERSION:\s*\"?([0-9.]+)", text))
for step in plz_steps:
    if "version" in (step.get("with") or {}):
        versions.add(str(step["with"]["version"]))
need(versions, ".github/workflows/release.yml: the release-plz version is not pinned")
for version in versions:
    need(version_tuple(version) >= (0, 3, 166),
         f".github/workflows/release.yml: release-plz {version} releases no publish = false package; "
         f"0.3.166 or later is needed")

app_token = [s for _, s in steps if str(s.get("uses", "")).startswith("actions/create-github-app-token@")]
need(app_token, ".github/workflows/release.yml: no GitHub App token (actions/create-github-app-token)")
app_ids = {s.get("id") for s in app_token}
for step in plz_steps:
    tokens = " ".join(str(v) for v in {**(step.get("env") or {}), **(step.get("with") or {})}.values())
    need("secrets.GITHUB_TOKEN" not in tokens and "github.token" not in tokens,
         f".github/workflows/release.yml: step {step.get('name', step.get('uses'))!r} gives release-plz "
         f"the GITHUB_TOKEN, whose pull requests get no CI")
    need(any(f"steps.{i}.outputs.token" in tokens for i in app_ids),
         f".github/workflows/release.yml: step {step.get('name', step.get('uses'))!r} does not use the App's token")
for scope in [workflow, *workflow["jobs"].values()]:
    permissions = scope.get("permissions") or {}
    if isinstance(permissions, dict):
        writes = sorted(k for k, v in permissions.items() if v == "write")
        need(not writes, f".github/workflows/release.yml: GITHUB_TOKEN needs no write permission ({', '.join(writes)})")
    else:
        need(permissions != "write-all", ".github/workflows/release.yml: permissions write-all")

if problems:
    sys.exit("release configuration:\n  " + "\n  ".join(problems))
print(f"release configuration: release-plz processes {package['name']!r} (git_only, tags "
      f"{tag or 'v{{ version }}'}), release-plz {', '.join(sorted(versions))}, release PRs opened with a GitHub App token")
