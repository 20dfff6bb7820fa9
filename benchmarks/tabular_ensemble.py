"""Ensembles over model seeds, off ``tabular_study.py`` folders fitted on the same splits.

Each folder holds fits of one configuration with another ``--model-seed``;
for a read-out and a snapshot, every member's training and test scores are
turned into robust z-scores with the member's training scores and averaged.
Prints the mean AUC over tables of each member alone and of the ensemble.

    python benchmarks/tabular_ensemble.py reports/tables/C_wide reports/tables/C_seed100 \\
        reports/tables/C_seed200 --snapshot 1000 --readout knn1+lof10_euc
"""

import argparse
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).parent))
from tabular_analysis import readouts, robust  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+")
    parser.add_argument("--snapshot", default="1000")
    parser.add_argument("--readout", default="knn1+lof10_euc")
    args = parser.parse_args(argv)
    names = sorted(p.name for p in Path(args.folders[0]).glob("*_seed*.npz"))
    per_table = {}  # table -> list of (member aucs..., ensemble auc)
    for name in names:
        table = name.rsplit("_seed", 1)[0]
        members, y = [], None
        for folder in args.folders:
            with np.load(Path(folder) / name) as f:
                d = {k: f[k] for k in f.files}
            y = d["y_test"]
            snap = args.snapshot
            out = readouts(
                d[f"{snap}/z_train"].astype(float),
                d[f"{snap}/z_test"].astype(float),
                (d[f"{snap}/latent_train"], d[f"{snap}/latent_test"]),
                (d[f"{snap}/recon_train"], d[f"{snap}/recon_test"]),
            )[args.readout]
            members.append(robust(*out)[1])
        aucs = [roc_auc_score(y, m) for m in members]
        aucs.append(roc_auc_score(y, np.mean(members, axis=0)))
        per_table.setdefault(table, []).append(aucs)
    means = np.mean([np.mean(v, axis=0) for v in per_table.values()], axis=0)
    labels = [Path(f).name for f in args.folders] + ["ensemble"]
    for label, value in zip(labels, means, strict=True):
        print(f"{label:>14}: {value:.3f}")
    print(
        f"{len(per_table)} tables, {len(names)} splits; read-out {args.readout}, "
        f"snapshot {args.snapshot}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
