#!/usr/bin/env python3
"""Evaluates the Workload Identity Federation provider for GitHub Actions (terraform/wif.tf)
the way Google's Security Token Service does, with a real CEL engine (cel-python), against
OIDC tokens modelled on GitHub's documented claims, and says for each one whether it may
deploy. Exits non-zero on any wrong verdict, and when the configuration cannot be read.

usage: check-wif-condition.py TERRAFORM_DIR [--tfvars FILE] [--workflow FILE]

Model (GCP IAM API reference, WorkloadIdentityPoolProvider):
  1. attribute_mapping: each value is a CEL expression over `assertion` (the token's
     claims). google.subject is required, a string of at most 127 bytes; custom keys are
     attribute.NAME with NAME in [a-z0-9_], at most 100 characters, at most 50 of them;
     an expression has at most 2048 characters. A mapping that cannot be evaluated (the
     claim is absent) leaves its attribute unset here, so a refusal must come from the
     condition itself.
  2. attribute_condition: a CEL expression (at most 4096 characters) over `assertion`,
     `google` and `attribute`; the token is refused unless it evaluates to true (false,
     a non-boolean or an evaluation error all refuse it).
  3. The admitted token then impersonates a service account only if a
     roles/iam.workloadIdentityUser binding names it: principal://.../subject/SUBJECT,
     principalSet://.../attribute.NAME/VALUE or principalSet://.../* (the whole pool).
A token that must not deploy counts as wrongly handled unless the pool itself refuses
it (step 2): an admitted token already yields a federated token. Each claim the condition
reads must be mapped too (google-github-actions/auth, "Troubleshooting": a condition may
only use values mapped from the token).

Tokens (GitHub, "OpenID Connect reference"): `sub` is repo:OWNER/REPO:environment:NAME when
the job names an environment, repo:OWNER/REPO:pull_request for a pull request run, and
repo:OWNER/REPO:ref:REF otherwise; `ref` is the ref that triggered the run; `environment`
is present only when the job names one; workflow_ref is OWNER/REPO/.github/workflows/
FILE@REF; repository_id and repository_owner_id are numeric strings.
The repository (owner/name, numeric id) comes from the tfvars file (default:
TERRAFORM_DIR/terraform.tfvars.example); the deploy job's facts (workflow file ci.yml,
environment production, push to main) are those of .github/workflows/ci.yml.
"""
import argparse
import pathlib
import re
import sys

import celpy
from terraform_hcl import load

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
# The deploy job of .github/workflows/ci.yml: `environment: production`, runs on a push
# to main. Checked against the workflow file below when it is there.
DEPLOY_WORKFLOW_FILE = "ci.yml"
DEPLOY_ENVIRONMENT = "production"
DEPLOY_BRANCH = "main"


class ConfigError(Exception):
    pass


def load_terraform(root):
    variables, resources = {}, {}
    files = sorted(root.glob("*.tf"))
    if not files:
        raise ConfigError(f"no *.tf files in {root}")
    for path in files:
        parsed = load(path)
        for block in parsed.get("variable", []):
            for name, body in block.items():
                if "default" in body:
                    variables[name] = body["default"]
        for block in parsed.get("resource", []):
            for kind, named in block.items():
                for name, body in named.items():
                    resources[f"{kind}.{name}"] = (path, body)
    return variables, resources


def resolve(text, variables, where):
    """Replaces ${var.NAME}; any other interpolation is an error (it cannot be modelled)."""

    def substitute(match):
        expression = match.group(1).strip()
        name = re.fullmatch(r"var\.([A-Za-z0-9_-]+)", expression)
        if not name or name.group(1) not in variables:
            raise ConfigError(f"{where}: cannot resolve ${{{expression}}}")
        return str(variables[name.group(1)])

    return re.sub(r"\$\{([^}]*)\}", substitute, text)


def to_python(value):
    if isinstance(value, celpy.celtypes.BoolType):
        return bool(value)
    if isinstance(value, celpy.celtypes.StringType):
        return str(value)
    return value


def token(owner, repo, repo_id, owner_id, *, event="push", ref=None, environment=None,
          workflow_file=DEPLOY_WORKFLOW_FILE, immutable_sub=False):
    """Claims of one job's GitHub OIDC token, in the shape of GitHub's documented example."""
    ref = ref or f"refs/heads/{DEPLOY_BRANCH}"
    repository = f"{owner}/{repo}"
    subject_repo = f"{owner}@{owner_id}/{repo}@{repo_id}" if immutable_sub else repository
    if environment is not None:
        context = f"environment:{environment}"
    elif event == "pull_request":
        context = "pull_request"
    else:
        context = f"ref:{ref}"
    workflow_ref = f"{repository}/.github/workflows/{workflow_file}@{ref}"
    claims = {
        "jti": "00000000-0000-0000-0000-000000000000",
        "iss": GITHUB_ISSUER,
        "aud": f"https://github.com/{owner}",
        "sub": f"repo:{subject_repo}:{context}",
        "ref": ref,
        "ref_type": "tag" if ref.startswith("refs/tags/") else "branch",
        "sha": "0123456789abcdef0123456789abcdef01234567",
        "repository": repository,
        "repository_id": repo_id,
        "repository_owner": owner,
        "repository_owner_id": owner_id,
        "repository_visibility": "private",
        "actor": "octocat",
        "actor_id": "583231",
        "run_id": "1000000001",
        "run_number": "42",
        "run_attempt": "1",
        "runner_environment": "github-hosted",
        "workflow": workflow_file.rsplit(".", 1)[0],
        "workflow_ref": workflow_ref,
        "workflow_sha": "0123456789abcdef0123456789abcdef01234567",
        "job_workflow_ref": workflow_ref,
        "job_workflow_sha": "0123456789abcdef0123456789abcdef01234567",
        "event_name": event,
        "head_ref": "feature" if event == "pull_request" else "",
        "base_ref": DEPLOY_BRANCH if event == "pull_request" else "",
        "nbf": 1767225600,
        "iat": 1767225900,
        "exp": 1767226800,
    }
    if environment is not None:
        claims["environment"] = environment
    return claims


def cases(owner, repo, repo_id):
    other_id = str(int(repo_id) + 1000003)
    owner_id = "4242"
    env = DEPLOY_ENVIRONMENT
    return [
        ("deploy job: push to main, environment production", True,
         token(owner, repo, repo_id, owner_id, environment=env)),
        ("deploy job, repository with immutable subject claims (sub has owner and repo ids)", True,
         token(owner, repo, repo_id, owner_id, environment=env, immutable_sub=True)),
        ("pull_request run (no environment)", False,
         token(owner, repo, repo_id, owner_id, event="pull_request", ref="refs/pull/7/merge")),
        ("pull_request run whose job names environment production", False,
         token(owner, repo, repo_id, owner_id, event="pull_request", ref="refs/pull/7/merge",
               environment=env)),
        ("same repository name, other owner and id, main, production", False,
         token("someone-else", repo, other_id, "9999", environment=env)),
        ("same owner/name re-created (new repository id), main, production", False,
         token(owner, repo, other_id, owner_id, environment=env)),
        ("push to another branch, environment production", False,
         token(owner, repo, repo_id, owner_id, ref="refs/heads/feature", environment=env)),
        ("push to another branch, no environment", False,
         token(owner, repo, repo_id, owner_id, ref="refs/heads/feature")),
        ("push to main, a job of ci.yml without environment (e.g. the test job)", False,
         token(owner, repo, repo_id, owner_id)),
        ("push to main, job without environment (e.g. release.yml)", False,
         token(owner, repo, repo_id, owner_id, workflow_file="release.yml")),
        ("push to main, another workflow file in environment production", False,
         token(owner, repo, repo_id, owner_id, workflow_file="release.yml", environment=env)),
        ("tag push, environment production", False,
         token(owner, repo, repo_id, owner_id, ref="refs/tags/v1.0.0", environment=env)),
    ]


def check_workflow(path):
    """The deploy job's facts above must still be those of the workflow file."""
    if not path.exists():
        return f"{path} not found: deploy job assumed to run in environment {DEPLOY_ENVIRONMENT}"
    text = path.read_text()
    if not re.search(rf"^\s+environment:\s*['\"]?{DEPLOY_ENVIRONMENT}['\"]?\s*$", text, re.M):
        raise ConfigError(f"{path}: no job with `environment: {DEPLOY_ENVIRONMENT}`; "
                          "update DEPLOY_ENVIRONMENT here and the Terraform variable together")
    if "id-token: write" not in text:
        raise ConfigError(f"{path}: no job asks for `id-token: write`")
    return f"{path}: deploy job in environment {DEPLOY_ENVIRONMENT} (matches the modelled token)"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("terraform_dir", type=pathlib.Path)
    parser.add_argument("--tfvars", type=pathlib.Path)
    parser.add_argument("--workflow", type=pathlib.Path)
    args = parser.parse_args()
    root = args.terraform_dir
    tfvars = args.tfvars or root / "terraform.tfvars.example"
    workflow = args.workflow or root.resolve().parent / ".github" / "workflows" / DEPLOY_WORKFLOW_FILE

    variables, resources = load_terraform(root)
    variables.update(load(tfvars))
    for needed in ("github_repository", "github_repository_id"):
        if needed not in variables:
            raise ConfigError(f"{tfvars}: no value for {needed}")
    owner, repo = variables["github_repository"].split("/", 1)
    repo_id = str(variables["github_repository_id"])

    providers = [
        (name, path, body) for name, (path, body) in resources.items()
        if name.startswith("google_iam_workload_identity_pool_provider.")
        and (body.get("oidc") or [{}])[0].get("issuer_uri") == GITHUB_ISSUER
    ]
    if len(providers) != 1:
        raise ConfigError(f"expected one workload identity provider for {GITHUB_ISSUER}, "
                          f"found {len(providers)}")
    name, path, provider = providers[0]
    pool_ref = provider.get("workload_identity_pool_id", "")
    pool = re.search(r"google_iam_workload_identity_pool\.([A-Za-z0-9_-]+)\.", pool_ref)
    if not pool:
        raise ConfigError(f"{name}: workload_identity_pool_id is not a reference to a pool")

    problems = []
    condition = resolve(provider.get("attribute_condition") or "", variables, name)
    if not condition:
        raise ConfigError(f"{name}: no attribute_condition; every GitHub token would be admitted")
    mapping = {key: resolve(value, variables, f"{name} {key}")
               for key, value in (provider.get("attribute_mapping") or {}).items()}

    # Static rules of the API.
    if "google.subject" not in mapping:
        problems.append("attribute_mapping has no google.subject")
    custom = [key for key in mapping if key.startswith("attribute.")]
    for key in mapping:
        if key not in ("google.subject", "google.groups") and not re.fullmatch(
                r"attribute\.[a-z0-9_]{1,100}", key):
            problems.append(f"attribute_mapping key {key!r} is not google.subject, "
                            "google.groups or attribute.[a-z0-9_]{1,100}")
        if len(mapping[key]) > 2048:
            problems.append(f"attribute_mapping {key}: expression longer than 2048 characters")
    if len(custom) > 50:
        problems.append(f"{len(custom)} custom attributes, at most 50")
    if len(condition) > 4096:
        problems.append("attribute_condition longer than 4096 characters")
    mapped_claims = {expr.strip()[len("assertion."):] for expr in mapping.values()
                     if re.fullmatch(r"\s*assertion\.[A-Za-z0-9_]+\s*", expr)}
    for claim in sorted(set(re.findall(r"\bassertion\.([A-Za-z0-9_]+)", condition))):
        if claim not in mapped_claims:
            problems.append(f"the condition reads assertion.{claim}, which no mapping maps")
    for attribute in sorted(set(re.findall(r"\battribute\.([A-Za-z0-9_]+)", condition))):
        if f"attribute.{attribute}" not in mapping:
            problems.append(f"the condition reads attribute.{attribute}, which is not mapped")

    env = celpy.Environment()
    try:
        condition_program = env.program(env.compile(condition))
        mapping_programs = {key: env.program(env.compile(expr)) for key, expr in mapping.items()}
    except celpy.CELParseError as error:
        raise ConfigError(f"{name}: not valid CEL: {error}") from error

    # Who may impersonate what: roles/iam.workloadIdentityUser bindings on this pool.
    bindings = []
    for binding_name, (_, body) in resources.items():
        if not binding_name.startswith("google_service_account_iam_"):
            continue
        if body.get("role") != "roles/iam.workloadIdentityUser":
            continue
        for member in [body.get("member")] + list(body.get("members") or []):
            if not member or not member.startswith("principal"):
                continue
            marker = f"${{google_iam_workload_identity_pool.{pool.group(1)}.name}}"
            if marker not in member:
                continue
            tail = resolve(member.split(marker, 1)[1], variables, binding_name)
            target = re.search(r"google_service_account\.([A-Za-z0-9_-]+)\.",
                               body.get("service_account_id", ""))
            target = f"google_service_account.{target.group(1)}" if target else "?"
            subject = re.fullmatch(r"/subject/(.+)", tail)
            attribute = re.fullmatch(r"/attribute\.([a-z0-9_]+)/(.+)", tail)
            if tail == "/*":
                bindings.append((target, None, None))
            elif subject:
                bindings.append((target, "google.subject", subject.group(1)))
            elif attribute:
                bindings.append((target, f"attribute.{attribute.group(1)}", attribute.group(2)))
            else:
                problems.append(f"{binding_name}: cannot read member {member}")
    if not bindings:
        problems.append(f"no roles/iam.workloadIdentityUser binding on pool {pool.group(1)}")

    print(f"WIF: {name} ({path}), values from {tfvars}")
    print(f"WIF: condition: {condition}")
    try:
        print(f"WIF: {check_workflow(workflow)}")
    except ConfigError as error:
        problems.append(str(error))

    wrong = 0
    for description, expected, claims in cases(owner, repo, repo_id):
        activation = {"assertion": celpy.json_to_cel(claims)}
        attributes, google, notes = {}, {}, []
        for key, program in mapping_programs.items():
            try:
                value = program.evaluate(activation)
            except celpy.CELEvalError:
                notes.append(f"{key} unset (claim absent)")
                continue
            if key.startswith("google."):
                google[key[len("google."):]] = value
            else:
                attributes[key[len("attribute."):]] = value
        subject = google.get("subject")
        if not isinstance(subject, str):
            admitted, reason = False, "google.subject is not a string"
        elif len(str(subject).encode()) > 127:
            admitted, reason = False, "google.subject longer than 127 bytes"
        else:
            try:
                verdict = condition_program.evaluate({
                    "assertion": activation["assertion"],
                    "google": celpy.json_to_cel({k: to_python(v) for k, v in google.items()}),
                    "attribute": celpy.json_to_cel({k: to_python(v) for k, v in attributes.items()}),
                })
                admitted = isinstance(verdict, celpy.celtypes.BoolType) and bool(verdict)
                reason = f"condition: {to_python(verdict)}"
            except celpy.CELEvalError as error:
                admitted, reason = False, f"condition: error ({error.args[0]})"
        may_impersonate = []
        if admitted:
            for target, key, value in bindings:
                if key is None:
                    may_impersonate.append(target)
                elif key == "google.subject" and str(subject) == value:
                    may_impersonate.append(target)
                elif key.startswith("attribute.") and \
                        str(to_python(attributes.get(key[len("attribute."):], ""))) == value:
                    may_impersonate.append(target)
        if notes:
            reason += "; " + ", ".join(notes)
        allowed = admitted and bool(may_impersonate)
        if admitted:
            reason += "; may impersonate " + (", ".join(sorted(set(may_impersonate))) or "nothing")
        # A token that must not deploy must already be refused by the pool: an admitted
        # token is exchanged for a federated token, usable wherever the pool itself is
        # granted access, whatever the service-account bindings say.
        ok = allowed == expected and (expected or not admitted)
        wrong += not ok
        verdict = "allowed" if allowed else "admitted-by-pool" if admitted else "refused"
        print(f"  {'ok   ' if ok else 'WRONG'}  {verdict} "
              f"(expected {'allowed' if expected else 'refused'})  {description}  [{reason}]")

    for problem in problems:
        print(f"WIF problem: {problem}")
    if wrong or problems:
        sys.exit(f"WIF: {wrong} wrong verdict(s), {len(problems)} problem(s)")
    print("WIF: every modelled token gets the expected verdict")


if __name__ == "__main__":
    try:
        main()
    except ConfigError as error:
        sys.exit(f"WIF: {error}")
