#!/usr/bin/env python3
"""The report of scripts/bench.sh, made from the raw results it collects.

bench.sh starts the databases and the servers and runs wrk; what it measured goes, as
plain numbers, into a results directory (target/bench/results). This script turns those
numbers into the markdown report on stdout and, with --write-docs, puts the report into
docs/performance.md (between its bench:results markers):

    python3 scripts/bench-report.py round RESULTS                 the last round, one line
    python3 scripts/bench-report.py report RESULTS [--write-docs]

`report` exits with status 1, after printing (and writing), when a round had more than
1% errors: a broken server must not look fast. Run it again on the same directory to
re-render a report without measuring again.

The results directory, every file tab-separated:
  run.tsv       key and value: the options, each server (server.N.name, .kind,
                .cold_start_ms, .hwm_kb), the load average at the start, PostgreSQL's
                version, and the page's transfer (page_wire, page_encoding, other_page_*)
  rounds.tsv    one line per measured round, under a header: id, scenario, size, server
                (index), round, rss_kb (peak VmRSS, empty when not ours to watch) and
                wrk's figures: requests, duration_us, errors, p50_us, p99_us, bytes
  metrics/ID-before.txt, ID-after.txt
                our /metrics around round ID (our list rounds: reads served by the replica)
  single.tsv    size, server, time_total (s), size_download (B) of one request alone,
                three sequential requests per size and server
  assets.tsv    asset (/pkg/...), file (under the repository), bytes transferred to a
                browser, content-encoding (empty when none)
  page.html     our page with 100 todos
"""

import csv
import datetime
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = Path("docs/performance.md")
START_MARKER = "<!-- bench:results:start -->"
END_MARKER = "<!-- bench:results:end -->"


def die(message):
    sys.exit(f"bench: error: {message}")


def log(message):
    print(f"bench: {message}", file=sys.stderr)


# --- numbers as the report prints them --------------------------------------------------
def number(text):
    """A figure of the report as a number: "" counts as 0, as it did in awk."""
    return float(text) if text else 0.0


def rate(x):
    return f"{x:.0f}" if x >= 100 else f"{x:.2f}"


def kib(size):
    return f"{size / 1024:.1f} KiB"


def mib(kb):
    return f"{kb / 1024:.1f}"


def ratio(a, b):
    """a / b of two printed figures, so that a ratio matches the numbers beside it."""
    if a == "n/a" or b == "n/a" or number(b) == 0:
        return "n/a"
    return f"{number(a) / number(b):.2f}"


def meets(x, op, y):
    if x == "n/a":
        return "n/a"
    ok = number(x) >= y if op == ">=" else number(x) <= y
    return "met" if ok else "**missed**"


# --- reading the results ------------------------------------------------------------------
def read_tsv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def read_facts(results):
    return {row[0]: row[1] if len(row) > 1 else "" for row in read_tsv(results / "run.tsv")}


@dataclass
class Server:
    name: str
    kind: str  # tasks (ours), yardstick (started here) or compare (measured as it is)
    cold_start_ms: str
    hwm_kb: str


def read_servers(facts):
    servers, i = [], 0
    while f"server.{i}.name" in facts:
        servers.append(Server(*(facts.get(f"server.{i}.{key}", "")
                                for key in ("name", "kind", "cold_start_ms", "hwm_kb"))))
        i += 1
    return servers


def six_digits(x):
    """x to 6 significant digits, whole numbers exactly: the precision at which awk kept
    each round's req/s and latencies when it computed this report, so that the figures
    come out as they always did."""
    return x if float(x).is_integer() else float(f"{x:.6g}")


@dataclass
class Round:
    id: str
    scenario: str
    size: str
    server: int
    round: str
    rss_kb: str
    requests: int
    duration_us: int
    errors: int
    p50_us: float
    p99_us: float

    @property
    def rps(self):  # successful answers per second
        return six_digits((self.requests - self.errors) / (self.duration_us / 1e6)) if self.duration_us > 0 else 0

    @property
    def p50(self):  # ms
        return six_digits(self.p50_us / 1000)

    @property
    def p99(self):  # ms
        return six_digits(self.p99_us / 1000)

    @property
    def rss(self):
        return mib(int(self.rss_kb)) if self.rss_kb else "n/a"


def read_rounds(results):
    header, *rows = read_tsv(results / "rounds.tsv")
    rounds = []
    for row in rows:
        f = dict(zip(header, row))
        rounds.append(Round(f["id"], f["scenario"], f["size"], int(f["server"]), f["round"],
                            f["rss_kb"], int(f["requests"]), int(f["duration_us"]),
                            int(f["errors"]), float(f["p50_us"]), float(f["p99_us"])))
    return rounds


def replica_reads(path):
    """(reads by the replica, all reads) in one /metrics snapshot."""
    replica = total = 0.0
    text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
    for line in text.splitlines():
        if line.startswith("tasks_db_reads_total{"):
            value = float(line.split()[-1])
            total += value
            if 'server="replica"' in line:
                replica += value
    return int(replica), int(total)


def list_reads(results, rounds):
    """Our list reads over all measured rounds: (served by the replica, all)."""
    replica = total = 0
    for r in rounds:
        before = results / "metrics" / f"{r.id}-before.txt"
        after = results / "metrics" / f"{r.id}-after.txt"
        if before.exists() and after.exists():
            (replica_before, all_before), (replica_after, all_after) = replica_reads(before), replica_reads(after)
            replica += replica_after - replica_before
            total += all_after - all_before
    return replica, total


# --- aggregation -------------------------------------------------------------------------
@dataclass
class Mean:
    """One scenario on one server over its rounds, as printed."""
    rps: str = ""
    each: str = ""  # req/s of each round
    p50: str = ""
    p99: str = ""
    errors: str = ""
    requests: str = ""
    rss: str = ""  # the highest peak of the rounds


def mean(rounds, scenario, size, server):
    mine = [r for r in rounds if (r.scenario, r.size, r.server) == (scenario, size, server)]
    if not mine:
        return None
    answered = [r for r in mine if r.requests > 0]  # latencies exist only for answers
    peaks = [int(r.rss_kb) for r in mine if r.rss_kb]
    return Mean(
        rps=rate(sum(r.rps for r in mine) / len(mine)),
        each=" / ".join(rate(r.rps) for r in mine),
        p50=f"{sum(r.p50 for r in answered) / len(answered):.2f}" if answered else "n/a",
        p99=f"{sum(r.p99 for r in answered) / len(answered):.2f}" if answered else "n/a",
        errors=str(sum(r.errors for r in mine)),
        requests=str(sum(r.requests for r in mine)),
        rss=mib(max(peaks)) if peaks else "n/a",
    )


def notes_on_errors(rounds, servers, first_size, duration):
    """Notes on rounds with over 1% errors, and whether the run failed.

    Such numbers describe a failure, not a speed. Where the targets are (the first size)
    that fails the run; at the larger sizes it is the growth being reported (without
    paging, a large table exhausts the pool), so it is noted.
    """
    notes, failed = [], False
    for r in rounds:
        if r.requests > 0 and r.errors * 100 <= r.requests:
            continue
        where = f"{r.scenario} {r.size} on {servers[r.server].name}, round {r.round}"
        if r.size == first_size:
            notes.append(f"**Round failed:** {where}: {r.errors} errors in {r.requests} requests.")
            failed = True
        elif r.requests == 0:
            notes.append(f"{where}: no answer within the {duration}-second round.")
        else:
            notes.append(f"**Errors:** {where}: {r.errors} errors in {r.requests} answers (see the server's log).")
    return notes, failed


def single_pages(results):
    """{(size, server): (ms, bytes)}: the median of the sequential requests, as printed."""
    timings = {}
    for size, server, seconds, size_download in read_tsv(results / "single.tsv"):
        timings.setdefault((size, int(server)), []).append((float(seconds), size_download))
    medians = {}
    for key, samples in timings.items():
        seconds, size_download = sorted(samples)[len(samples) // 2]
        ms = seconds * 1000
        medians[key] = (f"{ms:.0f}" if ms >= 100 else f"{ms:.1f}", int(size_download))
    return medians


# gzip -9 and brotli q11 as a CDN or a precompressing build would serve them. Node's zlib
# computes both: Python's standard library has no brotli, and one compressor for both
# keeps the figures comparable with earlier runs.
COMPRESSED_SIZES_JS = """
const fs = require("fs"), zlib = require("zlib");
for (const file of process.argv.slice(1)) {
  const data = fs.readFileSync(file);
  const gz = zlib.gzipSync(data, { level: 9 }).length;
  const br = zlib.brotliCompressSync(data, { params: {
    [zlib.constants.BROTLI_PARAM_QUALITY]: 11,
    [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.length } }).length;
  console.log(gz + "\\t" + br);
}
"""


@dataclass
class Asset:
    name: str
    raw: int
    gzip: int
    brotli: int
    wire: int
    encoding: str


def read_assets(results):
    rows = read_tsv(results / "assets.tsv")
    files = [str(ROOT / file) for _, file, _, _ in rows]
    out = subprocess.run(["node", "-e", COMPRESSED_SIZES_JS, *files],
                         check=True, capture_output=True, text=True).stdout.split("\n")
    assets = []
    for (asset, _, wire, encoding), file, line in zip(rows, files, out):
        gz, br = line.split("\t")
        assets.append(Asset(asset.rsplit("/", 1)[-1], os.path.getsize(file), int(gz), int(br),
                            int(wire), encoding or "none"))
    return assets


# Inline scripts: the hydration bootstrap, and the hydration data (the resolved list,
# serialised as JSON inside a JavaScript string).
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)</script>")


def inline_scripts(html):
    """(bytes of all inline scripts, bytes of those carrying hydration data)."""
    inline = data = 0
    for match in INLINE_SCRIPT.finditer(html):
        size = len(match[1].encode("utf-8"))
        inline += size
        if "__RESOLVED_RESOURCES[" in match[1]:
            data += size
    return inline, data


# --- the report --------------------------------------------------------------------------
class Run:
    """What one run of bench.sh measured, read from its results directory."""

    def __init__(self, results):
        self.results = results
        self.facts = read_facts(results)
        self.servers = read_servers(self.facts)
        self.rounds = read_rounds(results)
        self.sizes = self.facts["sizes"].split(",")
        self.first_size = self.sizes[0]
        self.tasks = self.servers[0]
        self.other = self.servers[1] if len(self.servers) > 1 else None
        # (scenario, size) in the order bench.sh measures them.
        self.scenarios = [("list", self.first_size)]
        if self.facts["smoke"] != "true":
            self.scenarios.append(("list-br", self.first_size))
        self.scenarios += [("create", self.first_size)] + [("list", size) for size in self.sizes[1:]]

    def mean(self, scenario, size, server):
        """The Mean of a scenario on server i; an empty one when it was not measured."""
        return mean(self.rounds, scenario, size, server) or Mean()


def results_table(run):
    labels = {"create": "create (table at {})", "list-br": "list {}, compressed"}
    out = ["| scenario | server | req/s | req/s per round | p50 ms | p99 ms | errors / requests | peak RSS MiB |",
           "|---|---|--:|--:|--:|--:|--:|--:|"]
    for sc, sz in run.scenarios:
        for i, server in enumerate(run.servers):
            m = run.mean(sc, sz, i)
            out.append(f"| {labels.get(sc, sc + ' {}').format(sz)} | {server.name} | {m.rps} | {m.each}"
                       f" | {m.p50} | {m.p99} | {m.errors} / {m.requests} | {m.rss} |")
    f = run.facts
    out += ["",
            f"Rounds of {f['duration']} s, alternating servers A B A B; wrk {f['threads']} threads,"
            f" {f['connections']} connections;",
            "req/s counts successful answers (2xx/3xx) only; req/s, p50 and p99 (all answers) are means"
            f" over {f['rounds']} round(s);",
            "peak RSS is the highest VmRSS sampled every 100 ms during the rounds."]
    replica, total = list_reads(run.results, run.rounds)
    if total > 0:
        out.append(f"Our list reads served by the replica: {replica} of {total}.")
    if run.other and run.other.kind == "compare":
        out.append(f"{run.other.name} was measured as it is: its data is not seeded by this script.")
    return out + [""]


def ratios_table(run):
    """Ours against the other server of the same run, with the targets."""
    if not run.other:
        return []
    out = [f"Ratios {run.tasks.name} / {run.other.name} (same run) and the targets:", "",
           "| scenario | req/s ratio | p99 ratio | target | |", "|---|--:|--:|---|---|"]
    for sc, sz in run.scenarios:
        ours, theirs = run.mean(sc, sz, 0), run.mean(sc, sz, 1)
        rps_ratio, p99_ratio = ratio(ours.rps, theirs.rps), ratio(ours.p99, theirs.p99)
        target = verdict = ""
        if (sc, sz) == ("list", "100"):
            target = "req/s >= 0.5x, p99 <= 2x"
            verdict = f"req/s {meets(rps_ratio, '>=', 0.5)}, p99 {meets(p99_ratio, '<=', 2)}"
        elif sc == "create":
            target, verdict = "req/s >= 0.5x", meets(rps_ratio, ">=", 0.5)
        out.append(f"| {sc} {sz} | {rps_ratio}x | {p99_ratio}x | {target} | {verdict} |")
    return out + [""]


def growth_table(run):
    """Page cost as the table grows: one page alone, and the list scenario under load."""
    single = single_pages(run.results)
    out = ["Page cost as the table grows (target: flat once the list is paged). One page alone is the",
           f"median of 3 sequential requests; growth is relative to {run.first_size} todos:",
           "",
           f"| todos | server | one page alone | growth | page size | req/s at {run.facts['connections']} connections"
           " | p99 ms |",
           "|--:|---|--:|--:|--:|--:|--:|"]
    for size in run.sizes:
        for i, server in enumerate(run.servers):
            (ms, size_download), (first_ms, _) = single[size, i], single[run.first_size, i]
            m = run.mean("list", size, i)
            out.append(f"| {size} | {server.name} | {ms} ms | {ratio(ms, first_ms)}x | {kib(size_download)}"
                       f" | {m.rps} | {m.p99} |")
    return out + [""]


def bundle_and_summary(run):
    """Sizes of the bundle and of the page, then the figures against their targets."""
    f, tasks, other = run.facts, run.tasks, run.other
    assets = read_assets(run.results)
    total_raw, total_br, total_wire = (sum(getattr(a, key) for a in assets) for key in ("raw", "brotli", "wire"))
    wasm_br = ([a.brotli for a in assets if a.name.endswith(".wasm")] or [0])[-1]
    page = run.results / "page.html"
    page_raw, page_wire = page.stat().st_size, int(f["page_wire"])
    inline, hydration = inline_scripts(page.read_text(encoding="utf-8", errors="replace"))
    out = [f"Bundle and page ({tasks.name}):", "",
           "| file | raw | gzip -9 | brotli q11 | transferred (as to a browser) |",
           "|---|--:|--:|--:|--:|"]
    out += [f"| {a.name} | {kib(a.raw)} | {kib(a.gzip)} | {kib(a.brotli)} | {kib(a.wire)} ({a.encoding}) |"
            for a in assets]
    out += [f"| JS + CSS + wasm | {kib(total_raw)} | | {kib(total_br)} | {kib(total_wire)} |",
            f"| HTML, 100 todos | {page_raw} B | | | {page_wire} B ({f['page_encoding'] or 'not compressed'}) |",
            "",
            f"- First load (HTML + JS + CSS + wasm, as transferred): {kib(page_wire + total_wire)}.",
            f"- HTML of the 100-todo page (its first 50 todos): {page_raw} bytes (target <= 40 KB:"
            f" {meets(str(page_raw), '<=', 40000)}); inline scripts {inline} bytes, of which hydration data {hydration}."]
    if other:
        out.append(f"- Same page from {other.name}: {f['other_page_raw']} bytes raw, {f['other_page_wire']}"
                   f" transferred ({f['other_page_encoding'] or 'not compressed'}).")
    out.append(f"- wasm brotli q11: {kib(wasm_br)} (target <= 150 KiB: {meets(str(wasm_br), '<=', 153600)}).")
    # Under load at the first size, where the target applies: the highest of the peaks.
    peaks = [run.mean(sc, run.first_size, 0).rss for sc in ("list", "list-br", "create")]
    peaks = [p for p in peaks if p]
    rss = max(peaks, key=lambda p: (number(p) if p != "n/a" else 0, p)) if peaks else "n/a"
    hwm = mib(int(tasks.hwm_kb))
    other_hwm = f"; {other.name}: {mib(int(other.hwm_kb)) if other.hwm_kb else 'n/a'} MiB" if other else ""
    out.append(f"- Peak RSS of {tasks.name}: {rss} MiB under list and create at {run.first_size} todos"
               f" (target <= 32 MiB: {meets(rss, '<=', 32)}); {hwm} MiB over the whole run (VmHWM,"
               f" all sizes: {meets(hwm, '<=', 32)}){other_hwm}.")
    other_cold = f"; {other.name} to its first page: {other.cold_start_ms} ms" if other and other.cold_start_ms else ""
    out.append("- Cold start to /readyz 200 (migrations on an empty database included):"
               f" {tasks.cold_start_ms} ms{other_cold}.")
    return out


def report(results):
    """The report's lines, and whether a round failed."""
    run = Run(results)
    notes, failed = notes_on_errors(run.rounds, run.servers, run.first_size, run.facts["duration"])
    lines = results_table(run) + ratios_table(run) + growth_table(run) + bundle_and_summary(run)
    return lines + [f"- {note}" for note in notes], failed


# --- docs/performance.md -----------------------------------------------------------------
def first_line(command):
    """The first line of a command's output (stdout and stderr), as `cmd 2>&1 | head -n 1`."""
    done = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return done.stdout.split("\n", 1)[0]


def machine(facts):
    """The two lines above the report: when, at which commit, by which command, on what."""
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    commit = first_line(["git", "rev-parse", "--short=12", "HEAD"])
    args = facts["args"]
    cpu = next((line.split(":", 1)[1].lstrip(" ") for line in subprocess.run(
        ["lscpu"], capture_output=True, text=True, check=True).stdout.splitlines()
        if line.startswith("Model name:")), "")
    with open("/proc/meminfo", encoding="utf-8") as f:
        mem_kb = next(int(line.split()[1]) for line in f if line.startswith("MemTotal"))
    os_name = platform.freedesktop_os_release()["PRETTY_NAME"]
    rustc = " ".join(first_line(["rustc", "--version"]).split(" ")[:2])
    wrk = " ".join(first_line(["wrk", "-v"]).split(" ")[:2])
    return [
        f"Measured on {when} at commit {commit}, by `scripts/bench.sh{' ' + args if args else ''}`.",
        f"Machine: {cpu}, {len(os.sched_getaffinity(0))} cores, {mem_kb / 1048576:.0f} GiB RAM,"
        f" Linux {os.uname().release}, {os_name}, PostgreSQL {facts['pg_version']} on loopback"
        f" (primary + streaming replica, fsync off), {rustc}, {wrk}."
        f" Load average when the run started: {facts['load_start']}.",
    ]


def write_docs(results, facts, lines):
    """Replaces what is between the bench:results markers of docs/performance.md."""
    doc = ROOT / DOC
    text = doc.read_text(encoding="utf-8")
    if START_MARKER not in text or END_MARKER not in text:
        die(f"{DOC} has no bench:results markers")
    section = machine(facts) + [""] + lines
    kept, skip = [], False
    lines_of_doc = text.split("\n")
    if lines_of_doc[-1] == "":
        lines_of_doc.pop()
    for line in lines_of_doc:
        if START_MARKER in line:
            kept += [line, *section]
            skip = True
        elif END_MARKER in line:
            kept.append(line)
            skip = False
        elif not skip:
            kept.append(line)
    # Written whole, then moved over the old file: an interrupted run leaves it intact.
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=results, delete=False) as f:
        f.write("".join(line + "\n" for line in kept))
    shutil.copymode(doc, f.name)
    shutil.move(f.name, doc)
    log(f"wrote the results into {DOC}")


# --- commands ----------------------------------------------------------------------------
def last_round(results):
    """The last measured round in one line, for bench.sh's progress on stderr."""
    r = read_rounds(results)[-1]
    print(f"{r.rps:.1f} req/s, p50 {r.p50:.2f} ms, p99 {r.p99:.2f} ms,"
          f" {r.errors} errors, RSS {r.rss} MiB")


def main(argv):
    usage = "usage: bench-report.py round RESULTS | bench-report.py report RESULTS [--write-docs]"
    if len(argv) < 2 or argv[0] not in ("round", "report") or argv[2:] not in ([], ["--write-docs"]):
        sys.exit(usage)
    results = Path(argv[1])
    if argv[0] == "round":
        last_round(results)
        return
    lines, failed = report(results)
    text = "".join(line + "\n" for line in lines)
    (results / "report.md").write_text(text, encoding="utf-8")
    sys.stdout.write(text)
    sys.stdout.flush()
    if argv[2:] == ["--write-docs"]:
        write_docs(results, read_facts(results), lines)
    if failed:
        die("a round had more than 1% errors: see the notes above")


if __name__ == "__main__":
    main(sys.argv[1:])
