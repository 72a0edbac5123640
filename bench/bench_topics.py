"""Topics and keyness clouds on a big store (issue 10: a 30-day topic model on the 1M store in
at most 5 s cold, cached after).

Each run is a fresh process (cold: nothing imported, no connection, no cache) that opens the
store read-only and times, for the last 30 days of the store's data:
- `analyze.topics(k=8)`: the store's two small reads (vocabulary, term vectors of a 3,000-article
  sample) and the NMF, with the import of scikit-learn (`topics cold`), then the same call again
  in the same process (`topics again`: the store's reads and the model without imports);
- `analyze.term_clouds` (keyness, one cloud per language) and the frequency clouds.
The dashboard caches each result (`st.cache_data`, keyed on the store's data version), so a
second visit to the same view does none of this.

Usage:
    .venv/bin/python bench/bench_topics.py --db /tmp/monitor-bench/1m.duckdb --runs 3
    .venv/bin/python bench/bench_topics.py --db chdb:///tmp/monitor-bench/1m-chdb --runs 3

Prints medians (and every run) of elapsed and CPU time, with the load average before and
after.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

CHILD = r"""
import json, sys, time
started = time.perf_counter()
from datetime import UTC, timedelta
from monitor import analyze
from monitor.models import Filters
from monitor.store import open_store

out = {}
store = open_store(sys.argv[1], read_only=True)
with store.session():
    last = store.stats(Filters())["last_published"]
f = Filters(since=last.replace(tzinfo=UTC) - timedelta(days=30))
out["open"] = time.perf_counter() - started

def timed(name, call):
    t, c = time.perf_counter(), time.process_time()
    result = call()
    out[name] = time.perf_counter() - t
    out[name + " cpu"] = time.process_time() - c
    return result

model = timed("topics cold", lambda: analyze.topics(store, f, k=8))
again = timed("topics again", lambda: analyze.topics(store, f, k=8))
assert again == model
clouds = timed("keyness clouds", lambda: analyze.term_clouds(store, f))
timed("frequency clouds", lambda: analyze.term_clouds(store, f, weight="frequency"))
out["articles in view"] = model.total
out["modelled"] = model.articles
out["vocabulary"] = model.vocabulary
out["labels"] = [t.label for t in model.topics]
out["clouds"] = {str(lang): [r[1] for r in table.rows[:8]] for lang, table in clouds}
print(json.dumps(out, ensure_ascii=False))
"""

TIMES = ("open", "topics cold", "topics again", "keyness clouds", "frequency clouds")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="a DuckDB path or chdb:///dir")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    load_before = os.getloadavg()
    runs = []
    for _ in range(args.runs):
        done = subprocess.run(
            [sys.executable, "-c", CHILD, args.db], capture_output=True, text=True, check=True
        )
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    load_after = os.getloadavg()
    print(f"store: {args.db}; {args.runs} runs, each a fresh process; medians (each run)")
    print("  (wall: elapsed; cpu: this process's CPU time, what the load on the machine")
    print("   does not inflate; DuckDB's own threads count in it too)")
    for name in TIMES:
        values = [r[name] for r in runs]
        shown = ", ".join(f"{v:.2f}" for v in values)
        line = f"  {name:18} wall {statistics.median(values):6.2f} s   ({shown})"
        if name + " cpu" in runs[0]:
            line += f"   cpu {statistics.median(r[name + ' cpu'] for r in runs):6.2f} s"
        print(line)
    last = runs[-1]
    print(
        f"  view: last 30 days, {last['articles in view']:,} articles; modelled "
        f"{last['modelled']:,}, vocabulary {last['vocabulary']:,}"
    )
    print("  topics:", " | ".join(last["labels"]))
    for lang, words in last["clouds"].items():
        print(f"  keyness cloud {lang}: {', '.join(words)}")
    print(
        f"  load average before {', '.join(f'{x:.2f}' for x in load_before)}; "
        f"after {', '.join(f'{x:.2f}' for x in load_after)} ({os.cpu_count()} cores)"
    )


if __name__ == "__main__":
    main()
