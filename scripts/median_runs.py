#!/usr/bin/env python3
"""Merge several runs of bench-gpu (or of bench_peers.py) into one JSON file
of the same schema whose every time is the median over the runs:

    for r in 1 2 3; do swift run -c release bench-gpu --json batchlu-$r.json; done
    python3 scripts/median_runs.py batchlu-1.json batchlu-2.json batchlu-3.json -o batchlu.json

On a shared or noisy machine one run can catch a slow phase; the median of
an odd number of runs, taken figure by figure, does not depend on choosing
among them, and is a time that one of the runs measured (with an even
number the median would average the two middle runs, which on a bimodal
row can be a time no run took: the script refuses). Rows are matched by
backend, element type and shape; a row must be in every run. fwd_ms,
bwd_ms and copy_ms become the medians (the runs' figures stay in
fwd_ms_runs, bwd_ms_runs and copy_ms_runs); gflops, bwd_gflops and pct_peak
are recomputed from them with the median GEMM peak, and the speed-ups over
the CPU from the medians (bench-gpu's rows against its "cpu" rows, a peer's
rows against the same peer's CPU rows, e.g. torch-cuda against torch-cpu).
status is "FAIL" if any run failed its check, else "error" if any run had
an error, else a status outside the schema if a run has one, else
"skipped" if any run skipped the row, else "ok"; fallback (bench-gpu's
automatic rows) names every part that fell back in any run;
residual_ok is false if any run's check failed, null if no run checked the
row, true otherwise. The machine and settings are the first run's, with
"merged_from" listing the inputs.
"""
import argparse
import json
import statistics
import sys


def key(row):
    return (row["backend"], row["dtype"], row["batch"], row["m"], row["n"])


def median(values):
    # median_low: with every run's figure (an odd number) the median; when a
    # run has none (an error), still a figure one run measured.
    values = [v for v in values if v is not None]
    return statistics.median_low(values) if values else None


def merge(docs, paths):
    out = dict(docs[0])
    out["merged_from"] = paths
    peaks = {}
    for doc in docs:
        for p in doc.get("peaks") or []:
            peaks.setdefault((p["backend"], p["precision"]), []).append(p)
    out["peaks"] = []
    for (backend, precision), ps in peaks.items():
        merged = dict(ps[0])
        merged["gflops"] = median(p.get("gflops") for p in ps)
        merged["method"] = f"{ps[0].get('method')}; median of {len(ps)} runs"
        out["peaks"].append(merged)
    peak_of = {(p["backend"], p["precision"]): p["gflops"] for p in out["peaks"]}

    by_run = [{key(r): r for r in doc["results"]} for doc in docs]
    results = []
    for first in docs[0]["results"]:
        k = key(first)
        rows = [run.get(k) for run in by_run]
        if any(r is None for r in rows):
            raise SystemExit(f"median_runs.py: row {k} is missing from some runs")
        row = dict(first)
        for field in ("fwd_ms", "bwd_ms", "copy_ms"):
            if not any(field in r for r in rows):
                continue  # e.g. copy_ms, which bench_peers.py's rows do not have
            row[field + "_runs"] = [r.get(field) for r in rows]
            row[field] = median(row[field + "_runs"])
        for field, ms in (("gflops", "fwd_ms"), ("bwd_gflops", "bwd_ms")):
            # gflops = flops / ms: the flop count is the same in every run.
            flops = next((r[field] * r[ms] for r in rows if r.get(field) and r.get(ms)), None)
            row[field] = flops / row[ms] if flops is not None and row[ms] else None
        peak = peak_of.get((first["backend"], first["dtype"])) or median(r.get("peak_gflops") for r in rows)
        row["peak_gflops"] = peak
        row["pct_peak"] = 100 * row["gflops"] / peak if row["gflops"] and peak else None
        checks = [r.get("residual_ok") for r in rows if r.get("residual_ok") is not None]
        row["residual_ok"] = all(checks) if checks else None
        maxima = [r["residual_max"] for r in rows if r.get("residual_max") is not None]
        row["residual_max"] = max(maxima) if maxima else None
        statuses = [r.get("status") for r in rows]
        unknown = [s for s in statuses if s not in ("ok", "FAIL", "error", "skipped")]
        row["status"] = next((s for s in ("FAIL", "error") if s in statuses),
                             unknown[0] if unknown else "skipped" if "skipped" in statuses else "ok")
        # bench-gpu's automatic rows: the parts that fell back to the CPU in any run.
        parts = {p for r in rows for p in (r.get("fallback") or "").split("+") if p}
        if parts or "fallback" in first:
            row["fallback"] = "+".join(p for p in ("forward", "backward") if p in parts) or None
        row["message"] = next((r.get("message") for r in rows
                               if r.get("status") == row["status"] and r.get("message")), None)
        results.append(row)
    # Speed-ups over the CPU from the medians: bench-gpu's rows against its
    # "cpu" rows, a peer's (bench_peers.py's "torch-cuda", "jax-gpu", ...)
    # against the same peer's CPU rows ("torch-cpu", "jax-cpu").
    by_key = {key(r): r for r in results}

    def cpu_backend(backend):
        family, sep, _ = backend.partition("-")
        return family + "-cpu" if sep and family in ("torch", "jax") else "cpu"

    for row in results:
        base = by_key.get((cpu_backend(row["backend"]), row["dtype"], row["batch"], row["m"], row["n"]))
        if base is None or "speedup_vs_cpu" not in row:
            continue
        for field, ms in (("speedup_vs_cpu", "fwd_ms"), ("bwd_speedup_vs_cpu", "bwd_ms")):
            row[field] = base[ms] / row[ms] if base.get(ms) and row.get(ms) else None
    out["results"] = results
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("inputs", nargs="+", help="JSON files of one tool, same grid")
    ap.add_argument("-o", "--output", required=True, help="the merged JSON file")
    args = ap.parse_args()
    docs = []
    for p in args.inputs:
        try:
            with open(p) as fh:
                docs.append(json.load(fh))
        except (OSError, json.JSONDecodeError) as e:
            raise SystemExit(f"median_runs.py: cannot read {p}: {e}")
    if len(docs) % 2 == 0:
        raise SystemExit(f"median_runs.py: {len(docs)} runs: give an odd number, so that each median is a "
                         "time that one run measured")
    if len({d.get("schema") for d in docs}) != 1:
        raise SystemExit("median_runs.py: the inputs have different schemas")
    merged = merge(docs, args.inputs)
    with open(args.output, "w") as fh:
        json.dump(merged, fh, indent=1)
        fh.write("\n")
    print(f"median of {len(docs)} runs, {len(merged['results'])} rows -> {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
