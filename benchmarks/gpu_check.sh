#!/usr/bin/env bash
# One-call GPU check for a machine with a CUDA GPU and PyTorch but no network,
# sized to run in under 5 minutes on one recent GPU so that a 15-minute loan
# is enough to run it and rerun it once.
#
# Prepare once on a machine with network access (skorch, mlxtend and pyod are
# pure Python wheels to carry over):
#   echo /.whl/ >> .git/info/exclude
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
#       -d .whl skorch==1.4.0 mlxtend==0.25.0 tabulate pyod==3.6.7
# Then, on the GPU machine, with .whl beside the checkout:
#   bash benchmarks/gpu_check.sh
# It writes under $OUT (or ./gpu_out) and prints, in this order:
#   1. training and scoring images/s (img32, img64: GANomalyDetector against a
#      plain PyTorch loop) and the GPU's utilisation meanwhile;
#   2. scoring images/s of the default read-out against 'latent' with 20,000
#      reference codes, and the peak GPU memory of scoring 100,000 28x28
#      images with each;
#   3. the paper's MNIST protocol with the defaults, all 30 fits (ten digits,
#      seeds 0-2), on the GPU: the mean ROC AUC and fit times.
set -uo pipefail
OUT=${OUT:-gpu_out}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
START=$(date +%s)
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

echo "== 1. throughput"
mark "throughput start"
python3 benchmarks/throughput.py --device cuda --case img32 --case img64 --repeats 3 \
  --json "$OUT/throughput.json" 2>&1 | tee "$OUT/throughput.txt"
mark "throughput end"

echo "== 2. read-out cost and scoring memory"
python3 benchmarks/readout_cost.py --device cuda --repeats 3 --json "$OUT/readout_cost.json" \
  2>&1 | tee "$OUT/readout_cost.txt"
python3 - <<'PY' 2>&1 | tee "$OUT/memory.txt"
import warnings
import numpy as np
import torch
from sklearn_ganomaly import GANomalyDetector

rng = np.random.default_rng(0)
train = rng.random((3000, 1, 28, 28), dtype=np.float32)
test = rng.random((100_000, 1, 28, 28), dtype=np.float32)
for method in ("latent", "auto"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = GANomalyDetector(n_epochs=1, score_method=method, device="cuda", random_state=0)
        model.fit(train)
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    base = torch.cuda.memory_allocated()
    model.anomaly_score(test)
    torch.cuda.synchronize()
    peak = (torch.cuda.max_memory_allocated() - base) / 2**20
    print(f"scoring 100,000 28x28 images, score_method={model.score_method_}: "
          f"peak GPU memory +{peak:.1f} MiB over the fitted model")
PY

echo "== 3. the MNIST protocol, defaults, 30 fits"
mark "mnist start"
python3 -m sklearn_ganomaly.benchmark --dataset mnist5k --classes 0-9 --seeds 0,1,2 \
  --detectors GANomaly --device cuda --out "$OUT/mnist" --no-figures 2>&1 | tail -6 \
  | tee "$OUT/mnist.txt"
mark "mnist end"

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
for phase in ("throughput", "mnist"):
    a, b = marks[f"{phase} start"], marks[f"{phase} end"]
    u = [v for t, v in rows if a <= t <= b]
    if u:
        print(f"GPU utilisation during {phase}: mean {sum(u)/len(u):.0f}% over {len(u)} samples")
PY
echo "gpu_check wall time: $(( $(date +%s) - START )) s"
