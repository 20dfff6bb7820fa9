"""Merge benchmark ``results.json`` files into one table, and check the targets.

A long protocol run is safer split into several processes (one per seed or
per class, so that an interrupted run keeps what finished); this script puts
their records back together, prints the table the runner would have printed,
and for GANomaly on MNIST-5k counts the digits at or above the paper's
Table 1 and compares the mean with the best other detector found.

    python benchmarks/merge_results.py reports/run_a/results.json reports/run_b/results.json
    python benchmarks/merge_results.py --json merged.json reports/*/results.json
"""

import argparse
import json

import numpy as np

from sklearn_ganomaly.benchmark import PAPER_MNIST, format_table, summarise_records


def merge(paths):
    """Records of all files, refusing duplicates of a (detector, class, seed)."""
    records, seen = [], set()
    for path in paths:
        with open(path) as f:
            for record in json.load(f)["records"]:
                key = (record["detector"], record["class"], record["seed"])
                if key in seen:
                    raise ValueError(f"{path}: {key} is already in an earlier file")
                seen.add(key)
                records.append(record)
    return records


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", help="results.json files of benchmark runs")
    parser.add_argument("--json", help="also write the merged records here")
    args = parser.parse_args(argv)

    records = merge(args.results)
    detectors = list(dict.fromkeys(r["detector"] for r in records))
    classes = sorted({r["class"] for r in records})
    seeds = sorted({r["seed"] for r in records})
    rows = summarise_records(records, detectors, classes)
    print(f"{len(records)} records; classes {classes}; seeds {seeds}\n")
    print(format_table(rows, classes, PAPER_MNIST))
    for row in rows:
        means = {c: m for c, (m, _) in row["per_class"].items()}
        at_or_above = [c for c, m in means.items() if round(m, 3) >= PAPER_MNIST[c]]
        paper_mean = np.mean([PAPER_MNIST[c] for c in classes])
        fit_total = sum(r["fit_s"] for r in records if r["detector"] == row["detector"])
        print(
            f"\n{row['detector']}: mean AUC {row['mean_auc']:.3f} (paper {paper_mean:.3f} on "
            f"these classes); at or above the paper on {len(at_or_above)} of {len(classes)} "
            f"classes {at_or_above}; total fit time {fit_total:.0f} s"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"sources": args.results, "records": records}, f, indent=1)


if __name__ == "__main__":
    main()
