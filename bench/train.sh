#!/usr/bin/env bash
# Training throughput, rlcd4j vs Python PyTorch, the same step (forward, backward, global-norm clip, AdamW) on the
# SmolLM2-135M shapes with random weights, full fine-tuning and LoRA (r 8 on q, v), side by side in one run.
#   bench/train.sh            # B=4 T=128, 10 timed steps after 3 warm-up steps
#   B=8 T=256 STEPS=5 bench/train.sh
# Python is Debian's python3-torch on /usr/bin/python3 (OpenBLAS). It runs with OPENBLAS_CORETYPE and
# OPENBLAS_L2_SIZE unset (only in its own command) so OpenBLAS picks its kernels itself; both thread settings that
# djl-feasibility found best on this 2-core machine are tried. rlcd4j runs with DJL's default (2 intra-op threads).
set -euo pipefail
cd "$(dirname "$0")/.."
B=${B:-4}; T=${T:-128}; STEPS=${STEPS:-10}; WARMUP=${WARMUP:-3}
./mvnw -B -o -q -pl toolkit -am package -DskipTests
CP="toolkit/target/classes:$(cat toolkit/target/classpath.txt)"
echo "# $(date -u +%FT%TZ) $(uname -m) $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
for mode in full lora; do
  java -Xmx2g -Dai.djl.offline=true -Drlcd4j.mklIntelPath=true \
    -cp "$CP" rlcd4j.bench.TrainBench "$mode" "$B" "$T" "$STEPS" "$WARMUP" 2>/dev/null
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=2 \
    /usr/bin/python3 bench/train_torch.py "$mode" "$B" "$T" "$STEPS" "$WARMUP" 1
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 \
    /usr/bin/python3 bench/train_torch.py "$mode" "$B" "$T" "$STEPS" "$WARMUP" 2
done
