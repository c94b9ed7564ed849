#!/usr/bin/env python3
"""Plot GFLOP/s against n from bench-gpu and bench_peers.py JSON files.

    swift run -c release bench-gpu --json batchlu.json
    python3 scripts/bench_peers.py --json peers.json        # optional
    python3 scripts/plot_bench.py batchlu.json peers.json -o bench.png

Two panels: forward (luFactorEx / lu_factor) and backward (luFactorBackward /
autograd), each GFLOP/s = LAWN 41 getrf flops / time (the backward panel uses
the same flop count, so it shows a getrf-equivalent rate). One line per
backend (or peer) and element type, over the square shapes of the grid;
rectangular shapes (m ≠ n) are drawn as single hollow markers at n = max(m, n),
one marker shape per element type (square f64, diamond f32, triangles for
complex), labelled m×n (tall above the marker, wide below). Rows that failed their residual check are circled in red;
rows without a figure (skipped, error) are left out. Needs matplotlib
(`pip install matplotlib`).
"""
import argparse
import json
import os
import sys
from collections import defaultdict


def load(paths):
    docs = []
    for p in paths:
        try:
            with open(p) as fh:
                doc = json.load(fh)
        except (OSError, json.JSONDecodeError) as e:
            raise SystemExit(f"plot_bench.py: cannot read {p}: {e}")
        if doc.get("schema") != "batchlu-bench/1":
            print(f"plot_bench.py: warning: {p} has schema {doc.get('schema')!r}, expected 'batchlu-bench/1'",
                  file=sys.stderr)
        doc["_path"] = p
        docs.append(doc)
    return docs


def short(name, limit=34):
    return name if len(name) <= limit else name[: limit - 1] + "…"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("json", nargs="+", help="bench-gpu / bench_peers.py JSON files")
    ap.add_argument("-o", "--output", default="bench.png", help="PNG to write (default bench.png)")
    ap.add_argument("--dtype", help="comma-separated element types to draw (default: all in the files)")
    ap.add_argument("--title", help="figure title (default: from the first file's machine)")
    args = ap.parse_args()

    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise SystemExit("plot_bench.py: matplotlib is not installed: pip install matplotlib")

    docs = load(args.json)
    keep = set(d.strip() for d in args.dtype.split(",")) if args.dtype else None

    # (series label) -> list of rows
    series = defaultdict(list)
    tool_count = defaultdict(int)
    for d in docs:
        tool_count[d.get("tool")] += 1
    for doc in docs:
        for r in doc.get("results", []):
            if keep and r.get("dtype") not in keep:
                continue
            group = ("BatchLU " if doc.get("tool") == "bench-gpu" else "") + short(r["backend"])
            if tool_count[doc.get("tool")] > 1:
                group += f" [{os.path.basename(doc['_path'])}]"  # the same tool twice: tell the files apart
            series[(group, r["dtype"])].append(r)
    if not series:
        raise SystemExit("plot_bench.py: no result rows to plot")

    fig, axes = plt.subplots(1, 2, figsize=(15, 6.2), sharex=True)
    panels = [("gflops", "forward: LU factorization"), ("bwd_gflops", "backward: gradient of the factorization")]
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    groups = sorted({g for g, _ in series})
    dtype_style = {"f64": "-", "f32": "--", "c128": "-.", "c64": ":"}
    rect_marker = {"f64": "s", "f32": "D", "c128": "^", "c64": "v"}
    for ax, (key, title) in zip(axes, panels):
        for (group, dtype), rows in sorted(series.items()):
            label = f"{group} {dtype}"
            color = colors[groups.index(group) % len(colors)]
            square = sorted((r["n"], r[key], r) for r in rows
                            if r.get(key) is not None and r["m"] == r["n"])
            rect = [r for r in rows if r.get(key) is not None and r["m"] != r["n"]]
            if square:
                xs = [s[0] for s in square]
                ys = [s[1] for s in square]
                ax.plot(xs, ys, dtype_style.get(dtype, "-"), marker="o", ms=4, color=color, label=label)
                for x, y, r in square:
                    if r.get("status") == "FAIL":
                        ax.plot([x], [y], "o", ms=12, mfc="none", mec="red", mew=2)
            for i, r in enumerate(rect):
                x = max(r["m"], r["n"])
                # A series without square rows is named once, by its first marker.
                ax.plot([x], [r[key]], rect_marker.get(dtype, "s"), ms=7, mfc="none", mec=color,
                        label=None if square or i > 0 else label)
                ax.annotate(f"{r['m']}×{r['n']}", (x, r[key]), textcoords="offset points",
                            xytext=(6, 2) if r["m"] > r["n"] else (6, -8), fontsize=7, color=color)
                if r.get("status") == "FAIL":
                    ax.plot([x], [r[key]], "o", ms=12, mfc="none", mec="red", mew=2)
        ax.set_xscale("log", base=2)
        ns = sorted({max(r["m"], r["n"]) for rows in series.values() for r in rows})
        ax.set_xticks(ns)
        ax.set_xticklabels([str(n) for n in ns])
        ax.minorticks_off()
        ax.set_yscale("log")
        ax.grid(True, which="major", axis="x", alpha=0.3)
        ax.set_xlabel("n (matrix size; batch shrinks as n grows)")
        ax.set_ylabel("GFLOP/s (LAWN 41 getrf flops / time)")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    from matplotlib.lines import Line2D
    order = {d: i for i, d in enumerate(rect_marker)}
    rect_dtypes = sorted({dt for (_, dt), rows in series.items() if any(r["m"] != r["n"] for r in rows)},
                         key=lambda d: (order.get(d, len(order)), d))
    for dt in rect_dtypes:  # one legend entry per marker shape of the rectangular rows
        handles.append(Line2D([], [], marker=rect_marker.get(dt, "s"), ls="none", ms=7, mfc="none", mec="gray"))
        labels.append(f"{dt}, m ≠ n (labelled m×n)")
    if any(r.get("status") == "FAIL" for rows in series.values() for r in rows):
        handles.append(Line2D([], [], marker="o", ls="none", ms=10, mfc="none", mec="red", mew=2))
        labels.append("residual check FAILED")
    fig.legend(handles, labels, loc="lower center", ncol=min(4, len(labels)), fontsize=8, frameon=False)

    if args.title:
        title = args.title
    else:
        m = docs[0].get("machine", {})
        bits = [m.get("cpu_model"), f"{m.get('cores')} cores" if m.get("cores") else None]
        if m.get("openblas_core"):
            bits.append(f"OpenBLAS {m['openblas_core']}")
        gpus = [d["device"] for d in m.get("opencl_devices", []) if d.get("type") != "CPU"]
        if gpus:
            bits.append(", ".join(gpus))
        if m.get("build"):
            bits.append(f"{m['build']} build")
        if m.get("date"):
            bits.append(m["date"])
        title = "BatchLU batched LU — " + ", ".join(b for b in bits if b)
    fig.suptitle(title, fontsize=11)
    rows = max(1, (len(labels) + 3) // 4)
    fig.tight_layout(rect=(0, 0.04 + 0.035 * rows, 1, 0.96))
    fig.savefig(args.output, dpi=110)
    print(f"plot written to {args.output}")


if __name__ == "__main__":
    main()
