#!/usr/bin/env bash
# One-call GPU check for a machine with a CUDA GPU and PyTorch but no network.
#
# Prepare once on a machine with network access (skorch, mlxtend and pyod are
# pure Python wheels to carry over):
#   echo /.whl/ >> .git/info/exclude
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
#       -d .whl skorch==1.4.0 mlxtend==0.25.0 tabulate pyod==3.6.7
# Then, on the GPU machine, with .whl beside the checkout (about 10 minutes):
#   bash benchmarks/gpu_check.sh
# It writes under $OUT (or ./gpu_out): nvidia-smi samples, the throughput table
# (img32, img64: GANomalyDetector vs a plain loop, train and score img/s), the
# GPU utilisation during each, and the wall time of one paper-protocol training
# run (MNIST-5k, digit 2 anomalous, 15 epochs, batch 64).
set -uo pipefail
OUT=${OUT:-gpu_out}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
if [ -d .whl ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site:$PWD || exit 1
else
  export PYTHONPATH=$PWD
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$OUT/gpu.txt"

# Sample utilisation every 200 ms in the background for the whole script.
nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used --format=csv,noheader \
  -lms 200 > "$OUT/utilisation.csv" 2>&1 &
SMI=$!
trap 'kill $SMI 2>/dev/null' EXIT
mark() { echo "$(date +%Y/%m/%d\ %H:%M:%S.%3N) $1" >> "$OUT/marks.txt"; }

mark "throughput start"
python3 benchmarks/throughput.py --device cuda --case img32 --case img64 --repeats 3 \
  --json "$OUT/throughput.json" 2>&1 | tee "$OUT/throughput.txt"
mark "throughput end"

mark "paper run start"
python3 - <<'PY' 2>&1 | tee "$OUT/paper_run.txt"
import time
import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn_ganomaly import GANomalyDetector
from sklearn_ganomaly.datasets import load_mnist5k, one_class_split

X, y = load_mnist5k()
X_train, X_test, y_test = one_class_split(X, y, 2, random_state=0)
start = time.perf_counter()
model = GANomalyDetector(n_epochs=15, device="cuda", random_state=0).fit(X_train)
fit_s = time.perf_counter() - start
start = time.perf_counter()
scores = model.anomaly_score(X_test)
score_s = time.perf_counter() - start
print(f"paper protocol, digit 2, 15 epochs on cuda: fit {fit_s:.1f} s "
      f"({len(X_train) * 15 / fit_s:.0f} train img/s), score {score_s:.2f} s, "
      f"AUC {roc_auc_score(y_test, scores):.3f}, best epoch {model.best_epoch_}")
PY
mark "paper run end"
# The quick benchmark (GANomaly + 4 PyOD detectors) on the GPU, for its wall time.
python3 -m sklearn_ganomaly.benchmark --quick --device cuda --out "$OUT/quick" --no-figures \
  2>&1 | tail -12 | tee "$OUT/quick.txt"
python3 - "$OUT" <<'PY'
import sys, datetime as dt
out = sys.argv[1]
rows = []
for line in open(f"{out}/utilisation.csv"):
    parts = [p.strip() for p in line.split(",")]
    try:
        rows.append((dt.datetime.strptime(parts[0], "%Y/%m/%d %H:%M:%S.%f"), float(parts[1].split()[0])))
    except (ValueError, IndexError):
        pass
marks = [l.split(" ", 2) for l in open(f"{out}/marks.txt")]
marks = {m[2].strip(): dt.datetime.strptime(m[0] + " " + m[1], "%Y/%m/%d %H:%M:%S.%f") for m in marks}
for phase in ("throughput", "paper run"):
    a, b = marks[f"{phase} start"], marks[f"{phase} end"]
    u = [v for t, v in rows if a <= t <= b]
    if u:
        print(f"GPU utilisation during {phase}: mean {sum(u)/len(u):.0f}% over {len(u)} samples")
PY
