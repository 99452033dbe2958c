#!/usr/bin/env bash
# Lighthouse audit of a running release server of Tasks: its list page (where `/` leads,
# with a few todos in it), on a phone (Lighthouse's default, mobile) and on a desktop
# (--preset=desktop), for performance, accessibility, best practices and SEO. Prints the
# four scores of each as a table, then, for every category under 100, its failing
# audits with the elements or URLs they name, and exits non-zero when any score is
# under 95 (issue 17, "a lean page": a heavier or less accessible page fails the tests).
#
#   scripts/lighthouse.sh http://127.0.0.1:3120
#
# The server must be a release build (a debug build's bundle is several times larger);
# scripts/test.sh starts one for this script. It creates one list of 3 todos through the
# app's own API, so the write rate limit must allow 3 writes. The JSON reports, one per
# run, go to target/lighthouse/.
#
# Lighthouse is npm's `lighthouse` (package.json, installed by scripts/bootstrap.sh),
# driving Debian's Chromium (CHROME_PATH, default /usr/bin/chromium).
#
# Why some runs are repeated: the performance score uses Lighthouse's default simulated
# throttling, which replays the main-thread work of one page load as measured here
# (parsing, compiling and hydrating the WebAssembly bundle), slowed down 4 times on the
# mobile preset. On a 2-core machine shared with builds and other tests a busy core
# lengthens those tasks, and Total Blocking Time and Largest Contentful Paint move the
# score by several points from run to run; the other three categories do not depend on
# timing. So a preset whose performance score is under 95 is run once more (up to
# LIGHTHOUSE_RUNS runs, default 2) and each category keeps its best run. A page that is
# really too heavy fails every run; one load that happened to share its cores does not
# fail the tests.
#
# One audit is left out: "is-crawlable". A list page is a capability URL and must never
# be indexed (`X-Robots-Tag: noindex` on it, and robots.txt disallows /lists/; the
# integration tests check both), so that audit fails by design and would hold SEO at 54.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

log() { printf 'lighthouse: %s\n' "$*" >&2; }
die() { printf 'lighthouse: error: %s\n' "$*" >&2; exit 2; }

[ $# -eq 1 ] || die "usage: scripts/lighthouse.sh BASE_URL (a running release server, e.g. http://127.0.0.1:3120)"
base=${1%/}
threshold=95
max_runs=${LIGHTHOUSE_RUNS:-2}
[[ $max_runs =~ ^[1-9]$ ]] || die "LIGHTHOUSE_RUNS must be 1 to 9, not '$max_runs'"
lighthouse=node_modules/.bin/lighthouse
[ -x "$lighthouse" ] || die "$lighthouse is missing: run scripts/bootstrap.sh (it installs package.json's tools)"
export CHROME_PATH=${CHROME_PATH:-/usr/bin/chromium}
[ -x "$CHROME_PATH" ] || die "no Chromium at $CHROME_PATH: run scripts/bootstrap.sh --for-tests or set CHROME_PATH"
# --disable-dev-shm-usage: a container's /dev/shm (64 MB under Docker, as in CI) is too
# small for Chromium's shared memory.
chrome_flags="--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage"
out=target/lighthouse
mkdir -p "$out"
rm -f "$out"/*.report.json "$out"/*.log.txt

# --- the page: a list with 3 todos ----------------------------------------------------
# `/` answers 303 to a list of its own for a browser without cookies; the list comes
# into being with its first todo.
list_url=$(curl -s -o /dev/null -w '%{redirect_url}' --max-time 10 "$base/") || die "$base/ did not answer"
list_id=${list_url##*/}
[[ $list_url == "$base/lists/"* && $list_id =~ ^[0-9a-z]{26}$ ]] ||
  die "$base/ did not redirect to a list page (Location: '$list_url')"
todos=(
  "Renew my passport|The appointment letter is in the blue folder; bring two photos."
  "Book train tickets to Lyon|Before Friday, ideally in the morning when it is quiet."
  "Pay the electricity bill|The number is in the email from the 12th; keep the confirmation."
)
for todo in "${todos[@]}"; do
  # As the page's own form posts it (the server refuses writes from other sites).
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H 'sec-fetch-site: same-origin' \
    -H "origin: $base" -H 'accept: application/json' --data-urlencode "list=$list_id" \
    --data-urlencode "title=${todo%%|*}" --data-urlencode "text=${todo#*|}" "$base/api/create_todo") || true
  [ "$code" = 200 ] || die "creating a todo answered '$code', not 200 (is the write rate limit off?)"
done
page=$(curl -sf --max-time 10 "$list_url") || die "$list_url did not answer 2xx"
grep -q "${#todos[@]} items left" <<<"$page" || die "$list_url does not show the ${#todos[@]} todos just created"
log "auditing $list_url"

# --- runs -----------------------------------------------------------------------------
# Reads Lighthouse's JSON reports. `check FILE...`: exit 0 when the best performance
# score over those runs reaches the threshold (another run can change no other
# category's score). `report PRESET=FILE,FILE... ...`: the
# table, the failing audits of every category under 100 (from its best run), and exit 1
# when a score is under the threshold.
summarise() { # mode args...
  node - "$threshold" "$@" <<'JS'
const fs = require('fs');
const [threshold, mode, ...args] = process.argv.slice(2);
const categories = ['performance', 'accessibility', 'best-practices', 'seo'];
const load = (file) => JSON.parse(fs.readFileSync(file, 'utf8'));
// The best run of each category: { id: { score (0-100), report, run } }.
function best(files) {
  const result = {};
  files.forEach((file, run) => {
    const report = load(file);
    if (report.runtimeError) console.error(`${file}: ${report.runtimeError.code}: ${report.runtimeError.message}`);
    for (const id of categories) {
      const category = report.categories[id];
      const score = category && category.score !== null ? Math.round(category.score * 100) : 0;
      if (!result[id] || score > result[id].score) result[id] = { score, report, run: run + 1, of: files.length };
    }
  });
  return result;
}
const passes = (scores) => categories.every((id) => scores[id].score >= Number(threshold));
if (mode === 'check') process.exit(best(args).performance.score >= Number(threshold) ? 0 : 1);

// What an audit's row names: an element, a URL, a source line.
function describe(item) {
  const parts = [];
  if (item.node) parts.push(`${item.node.selector || ''} ${item.node.snippet || ''}`.trim());
  for (const key of ['url', 'scriptUrl', 'source', 'label']) {
    const value = item[key];
    if (typeof value === 'string') parts.push(value);
    else if (value && value.url) parts.push(`${value.url}:${(value.line ?? 0) + 1}`);
  }
  if (item.subItems) for (const sub of item.subItems.items) if (sub.error) parts.push(sub.error);
  return parts.join(' | ') || JSON.stringify(item).slice(0, 200);
}
const presets = args.map((arg) => { const [name, files] = arg.split('='); return { name, scores: best(files.split(',')) }; });
const width = Math.max(...categories.map((id) => id.length));
console.log(`\nLighthouse scores (fail under ${threshold}):\n`);
console.log(['preset  ', ...categories.map((id) => id.padStart(width))].join('  '));
for (const { name, scores } of presets) {
  console.log([name.padEnd(8), ...categories.map((id) => String(scores[id].score).padStart(width))].join('  '));
}
for (const { name, scores } of presets) {
  for (const id of categories) {
    const { score, report, run, of } = scores[id];
    if (score === 100) continue;
    console.log(`\n${name} ${id} ${score} (best of ${of} run${of > 1 ? 's' : ''}: run ${run}), failing audits:`);
    for (const ref of report.categories[id]?.auditRefs ?? []) {
      const audit = report.audits[ref.id];
      if (audit.score === null || audit.score >= 1) continue;
      if (['informative', 'notApplicable', 'manual'].includes(audit.scoreDisplayMode)) continue;
      const value = audit.displayValue ? `: ${audit.displayValue}` : '';
      console.log(`  ${ref.id} (score ${audit.score}, weight ${+ref.weight.toFixed(2)}) ${audit.title}${value}`);
      const items = (audit.details && audit.details.items) || [];
      for (const item of items.slice(0, 5)) console.log(`    - ${describe(item)}`);
      if (items.length > 5) console.log(`    - … and ${items.length - 5} more`);
    }
  }
}
console.log('');
process.exit(presets.every(({ scores }) => passes(scores)) ? 0 : 1);
JS
}

report_args=()
for preset in mobile desktop; do
  preset_args=()
  [ "$preset" = desktop ] && preset_args=(--preset=desktop)
  files=()
  for ((run = 1; run <= max_runs; run++)); do
    file=$out/$preset-$run.report.json
    log "$preset, run $run"
    # Throttling as Lighthouse's defaults: simulated (see the header).
    "$lighthouse" "$list_url" "${preset_args[@]}" --output=json --output-path="$file" \
      --only-categories=performance,accessibility,best-practices,seo --skip-audits=is-crawlable \
      --chrome-flags="$chrome_flags" --no-enable-error-reporting >"$out/$preset-$run.log.txt" 2>&1 || {
      tail -n 20 "$out/$preset-$run.log.txt" >&2
      die "Lighthouse failed ($preset, run $run; log: $out/$preset-$run.log.txt)"
    }
    files+=("$file")
    summarise check "${files[@]}" && break
  done
  report_args+=("$preset=$(IFS=,; echo "${files[*]}")")
done
summarise report "${report_args[@]}"
