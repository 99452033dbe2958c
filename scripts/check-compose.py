#!/usr/bin/env python3
"""Checks that docker-compose.yml wires a real streaming replica the way the app expects.

Reads the resolved configuration (`docker-compose config --format json`) on stdin and
fails, naming every problem, when: the primary is not configured for streaming
replication; the replica is not cloned with pg_basebackup as a standby of it; the app's
two URLs do not point at the primary and the replica with the same user and database;
or the start-up order and health checks do not hold the app back until both are ready;
or the database image is not pinned to an exact PostgreSQL version and a digest, the
same for primary and replica.
"""
import json
import pathlib
import re
import sys
from urllib.parse import urlparse

config = json.load(sys.stdin)
services = config.get("services", {})
problems = []


def need(condition, problem):
    if not condition:
        problems.append(problem)


for name in ("primary", "replica", "app"):
    need(name in services, f"service {name!r} is missing")
if problems:
    sys.exit("\n".join(problems))
primary, replica, app = services["primary"], services["replica"], services["app"]

# The primary streams its WAL.
command = " ".join(primary.get("command") or [])
for setting in ("wal_level=replica", "hot_standby=on"):
    need(setting in command, f"primary: command lacks -c {setting}")
need("max_wal_senders=0" not in command, "primary: max_wal_senders must be above 0")
init_scripts = [v for v in primary.get("volumes", []) if "docker-entrypoint-initdb.d" in v.get("target", "")]
need(init_scripts, "primary: no init script creates the replication role")
for volume in init_scripts:
    script = pathlib.Path(volume["source"]).read_text()
    need("REPLICATION" in script and "pg_hba.conf" in script,
         f"primary: {volume['source']} must create a REPLICATION role and allow it in pg_hba.conf")

# The replica is a standby cloned from the primary.
entrypoint = [v for v in replica.get("volumes", []) if v.get("target") == "/replica-entrypoint.sh"]
need(entrypoint, "replica: its entrypoint script is not mounted")
for volume in entrypoint:
    script = pathlib.Path(volume["source"]).read_text()
    need("pg_basebackup" in script and " -R " in script,
         "replica: entrypoint must clone with pg_basebackup -R (standby settings)")
need(replica.get("environment", {}).get("PRIMARY_HOST") == "primary",
     "replica: PRIMARY_HOST must name the primary service")
need("pg_is_in_recovery" in json.dumps(replica.get("healthcheck", {})),
     "replica: its health check must require recovery (standby) mode")
need(primary.get("environment", {}).get("REPLICATION_USER") == replica.get("environment", {}).get("REPLICATION_USER"),
     "primary and replica disagree on REPLICATION_USER")

# The app writes to the primary and reads from the replica, as the same user.
env = app.get("environment", {})
write, reads = env.get("DATABASE_URL", ""), env.get("DATABASE_REPLICA_URL", "")
need(write and reads, "app: DATABASE_URL and DATABASE_REPLICA_URL must both be set")
if write and reads:
    primary_url = urlparse(write)
    need(primary_url.hostname == "primary", "app: DATABASE_URL must point at the primary service")
    for url in map(urlparse, reads.split(",")):
        need(url.hostname in services and url.hostname != "primary",
             f"app: DATABASE_REPLICA_URL host {url.hostname!r} must be a replica service")
        need((url.username, url.path) == (primary_url.username, primary_url.path),
             "app: both URLs must use the same user and database")
    need(primary_url.username == primary.get("environment", {}).get("POSTGRES_USER"),
         "app: DATABASE_URL user must be the primary's POSTGRES_USER")

# One PostgreSQL, pinned: an exact major.minor version and the image's digest, so that
# every machine runs the very image the version names (and Renovate can move both).
for name, service in (("primary", primary), ("replica", replica)):
    image = service.get("image", "")
    need(re.fullmatch(r"postgres:\d+\.\d+(-[a-z]+)?@sha256:[0-9a-f]{64}", image),
         f"{name}: image {image!r} must be postgres:MAJOR.MINOR[-DEBIAN]@sha256:DIGEST")
need(primary.get("image") == replica.get("image"), "primary and replica must run the same image")

# Start-up order: the app waits for both databases to be healthy.
for dependency in ("primary", "replica"):
    condition = app.get("depends_on", {}).get(dependency, {}).get("condition")
    need(condition == "service_healthy", f"app: must depend on {dependency} being service_healthy")
need(replica.get("depends_on", {}).get("primary", {}).get("condition") == "service_healthy",
     "replica: must wait for the primary to be healthy")
need(app.get("read_only") is True, "app: the container's root filesystem must be read-only")

if problems:
    sys.exit("docker-compose.yml:\n  " + "\n  ".join(problems))
print("docker-compose.yml: primary + streaming replica wired as the app expects")
