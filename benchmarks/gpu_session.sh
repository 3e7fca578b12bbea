#!/usr/bin/env bash
# Every GPU figure of docs/benchmarks.md in one command (one short lease of a GPU machine): the CUDA tests, the
# Fashion-MNIST GPU recipe (per-epoch time, images/s, time to 94%; eager and with train.cuda_graphs), the whole
# `trainlab run` command, ablations of compile / bf16 / channels-last / compiled CUDA graphs, and the sequence
# models' fused cells. Each step has its own time limit and the session ends within $BUDGET seconds (later steps
# are skipped, saying so). The log goes to the terminal and to $OUT/gpu_session.log; the recipe run's summary.json
# and metrics.csv are copied to $OUT.
#
#     OUT=/tmp/gpu BUDGET=420 TRAINLAB_DATA=/path/with/fashion-mnist bash benchmarks/gpu_session.sh
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/trainlab-gpu}
BUDGET=${BUDGET:-420}
LOG=$OUT/gpu_session.log
RUNS=$(mktemp -d)
mkdir -p "$OUT"
export PYTHONPATH=src${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
T0=$SECONDS

step() {  # step NAME LIMIT_S COMMAND...
  local name=$1 limit=$2 left=$((BUDGET - (SECONDS - T0)))
  shift 2
  if ((left < 20)); then echo "== $name: skipped, the budget is spent" | tee -a "$LOG"; return; fi
  ((limit > left)) && limit=$left
  echo "== $name (limit ${limit}s, at $((SECONDS - T0))s): $*" | tee -a "$LOG"
  timeout "$limit" "$@" 2>&1 | tee -a "$LOG"
  echo "== $name: exit ${PIPESTATUS[0]} at $((SECONDS - T0))s" | tee -a "$LOG"
}

step gpu 20 nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv
step cuda-tests 150 python -m pytest -q -p no:cacheprovider tests/test_cuda.py
step recipe-cuda-graphs 150 python benchmarks/gpu_throughput.py train.cuda_graphs=true
step recipe 150 python benchmarks/gpu_throughput.py
step whole-run 150 bash -c "time python -m trainlab run configs/fashion_mnist_gpu.yaml --out $RUNS --name gpu \
  && cp $RUNS/gpu/summary.json $RUNS/gpu/metrics.csv $OUT/"
step whole-run-cuda-graphs 150 bash -c "time python -m trainlab run configs/fashion_mnist_gpu.yaml \
  train.cuda_graphs=true --out $RUNS --name graphs && cp $RUNS/graphs/summary.json $OUT/graphs-summary.json"
step cuda-graphs-batch-512 150 python benchmarks/gpu_throughput.py train.cuda_graphs=true train.batch_size=512 \
  optim.lr=0.004
step cuda-graphs-ema 150 python benchmarks/gpu_throughput.py train.cuda_graphs=true train.ema_decay=0.98
step recipe-24-epochs 150 python benchmarks/gpu_throughput.py train.epochs=24
step eager-bf16 60 python benchmarks/gpu_throughput.py train.compile=false train.epochs=3
step eager-fp32 60 python benchmarks/gpu_throughput.py train.compile=false train.precision=fp32 train.epochs=3
step eager-bf16-nchw 60 python benchmarks/gpu_throughput.py train.compile=false train.channels_last=false \
  train.epochs=3
step compile-cuda-graphs 120 python benchmarks/gpu_throughput.py train.compile_mode=reduce-overhead train.epochs=4
step seq 90 python benchmarks/seq_throughput.py --device cuda --cells gru,lstm --repeats 3
rm -rf "$RUNS"
echo "== done at $((SECONDS - T0))s" | tee -a "$LOG"
