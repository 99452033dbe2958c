#!/usr/bin/env python3
"""Where the server's CPU time goes, from a `perf` profile with call graphs.

    perf record -F 499 --call-graph dwarf,16384 -p "$(cat target/bench/tasks.pid)" -o perf.data -- sleep 8
    perf script -i perf.data | scripts/perf-breakdown.py --top 3

(the first line while scripts/bench.sh loads the server; see "Where the time goes" in
docs/performance.md). Each sample counts for the category of the frame nearest its leaf
that matches one of the patterns below, so time in malloc, memcpy or a system call goes
to whoever called it. Prints the share of samples per category; with --top N, also the
N leaf functions of each category, to see what to optimise inside it.
"""

import re
import sys
from collections import Counter, defaultdict

# Checked in this order for every frame, from the leaf up: more specific first.
CATEGORIES = [
    ("hydration data (serde_json, JS string escaping)",
     r"serde_json|AsyncDataStream|<str as core::fmt::Debug>|escape_debug|hydration_context|SharedContext"),
    ("date formatting (chrono)", r"chrono::format|to_rfc3339|DelayedFormat|StrftimeItems"),
    ("database client (sqlx: queries, rows, pool)", r"sqlx|PgConnection|PgStream|PgRow"),
    ("compression (brotli, gzip)", r"brotli|flate2|miniz|async_compression|compression_codecs"),
    ("hash.txt read on every page (leptos)", r"current_exe|hashed_stylesheet|hydration_scripts"),
    ("SSR rendering (leptos, tachys, reactive graph)",
     r"tachys|leptos::|leptos_meta|leptos_router|reactive_graph|tasks::todos::view|tasks::app|either_of"),
    ("server function and leptos_axum glue", r"leptos_axum|server_fn"),
    ("logging, tracing, metrics", r"tracing|metrics"),
    ("middleware (tower-http, axum layers)", r"tower_http|tower::|axum::middleware"),
    ("sockets: HTTP and database (hyper, mio, kernel network stack)",
     r"hyper|mio::|tcp_|sock_|__send|writev|recv|ip_|netif|softirq|napi"),
    ("scheduling (tokio, futex, context switches)", r"tokio|futex|schedule|finish_task_switch|epoll"),
]
PATTERNS = [(name, re.compile(pattern)) for name, pattern in CATEGORIES]


def samples(lines):
    """Yields each sample's call chain, leaf first, as symbol names."""
    frames = []
    for line in lines:
        if not line.strip():
            if frames:
                yield frames
            frames = []
        elif line[0] in " \t":
            # "\t    7f12ab3c symbol+0x1f (/path/to/dso)"
            parts = line.strip().split(None, 1)
            if len(parts) == 2:
                frames.append(re.sub(r"\+0x[0-9a-f]+$", "", re.sub(r"\s\([^()]*\)$", "", parts[1])))
        else:
            frames = []  # the sample's header line
    if frames:
        yield frames


def category(frames):
    for frame in frames:
        for name, pattern in PATTERNS:
            if pattern.search(frame):
                return name
    return "other"


def main():
    top = int(sys.argv[sys.argv.index("--top") + 1]) if "--top" in sys.argv else 0
    counts, leaves, total = Counter(), defaultdict(Counter), 0
    for frames in samples(sys.stdin):
        total += 1
        name = category(frames)
        counts[name] += 1
        leaves[name][frames[0][:100]] += 1
    if not total:
        sys.exit("no samples with call chains on stdin (record with --call-graph dwarf)")
    for name, count in counts.most_common():
        print(f"{100 * count / total:5.1f}%  {name}")
        for leaf, n in leaves[name].most_common(top):
            print(f"          {100 * n / total:5.1f}%  {leaf}")
    print(f"({total} samples)")


if __name__ == "__main__":
    main()
