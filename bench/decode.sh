#!/usr/bin/env bash
# Decode/prefill throughput, rlcd4j engine vs Python PyTorch eager, same shapes (SmolLM2-135M, random weights), same run.
#
#   bench/decode.sh            # from the repository root; builds the toolkit first (SKIP_BUILD=1 to skip)
#
# Environment: REPS (default 3) timed repetitions per figure (median); NEW (64) new tokens; PROMPT (32) prompt length
# for decoding; PREFILL (128) prompt length for prefill; JAVA_OPTS extra JVM flags (e.g. -Dai.djl.pytorch.num_threads=1);
# TORCH_CONFIGS thread settings tried for torch, "torch_threads:OMP_NUM_THREADS:OPENBLAS_NUM_THREADS[:OMP_WAIT_POLICY]"
# separated by spaces; the best figure over them is reported per metric. OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset for the
# torch commands only (they are set on some machines and pin OpenBLAS to a kernel that may not be the fastest).
set -euo pipefail
cd "$(dirname "$0")/.."

REPS=${REPS:-3}; NEW=${NEW:-64}; PROMPT=${PROMPT:-32}; PREFILL=${PREFILL:-128}
TORCH_CONFIGS=${TORCH_CONFIGS:-"1:1:1 1:1:2 2:2:2 2:2:2:PASSIVE"}
OUT=$(mktemp -d)

if [ "${SKIP_BUILD:-0}" != 1 ] || [ ! -f toolkit/target/classpath.txt ]; then
  echo "building toolkit (mvn -q -o -DskipTests install) ..."
  mvn -q -o -DskipTests install
fi

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/{print $2}') GiB;" \
     "$(java -version 2>&1 | head -1); python $(/usr/bin/python3 -c 'import torch,sys; print(sys.version.split()[0], "torch", torch.__version__)')"
echo "lengths: prefill $PREFILL tokens at batch 1; decode $NEW new tokens after $PROMPT-token prompts; median of $REPS"

echo "load before rlcd4j: $(cut -d' ' -f1-3 /proc/loadavg)"
java -Dai.djl.offline=true -Drlcd4j.mklIntelPath=true ${JAVA_OPTS:-} \
  -cp "toolkit/target/classes:$(cat toolkit/target/classpath.txt)" \
  rlcd4j.bench.DecodeBench "$REPS" "$NEW" "$PROMPT" "$PREFILL" 1 16 2>"$OUT/java.err" | tee "$OUT/java.out"
grep -q '^RESULT decode_b16' "$OUT/java.out" || { cat "$OUT/java.err"; exit 1; }

for c in $TORCH_CONFIGS; do
  IFS=: read -r tt omp ob wait <<<"$c"
  echo "load before torch $c: $(cut -d' ' -f1-3 /proc/loadavg)"
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE ${wait:+OMP_WAIT_POLICY=$wait} OMP_NUM_THREADS="$omp" OPENBLAS_NUM_THREADS="$ob" \
    /usr/bin/python3 bench/decode_torch.py --threads "$tt" --reps "$REPS" --new "$NEW" --prompt "$PROMPT" --prefill "$PREFILL" \
    --batches 1 16 | tee "$OUT/torch-$c.out"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

/usr/bin/python3 - "$OUT" $TORCH_CONFIGS <<'EOF'
import sys, re, pathlib
out, configs = pathlib.Path(sys.argv[1]), sys.argv[2:]
read = lambda f: {m[1]: float(m[2]) for m in re.finditer(r"^RESULT (\S+) (\S+)", f.read_text(), re.M)}
j = read(out / "java.out")
t = {c: read(out / f"torch-{c}.out") for c in configs}
print("\n| metric (tokens/s) | rlcd4j | torch (best of thread settings) | rlcd4j / torch |")
print("|---|---|---|---|")
for k, label in [("prefill_tps", "prefill, batch 1, 128-token prompt"), ("decode_b1_tps", "decode, batch 1"), ("decode_b16_tps", "decode, batch 16")]:
    best = max(configs, key=lambda c: t[c][k])
    print(f"| {label} | {j[k]:.1f} | {t[best][k]:.1f} (threads:OMP:OPENBLAS = {best}) | {j[k] / t[best][k]:.2f}x |")
b1 = max(t[c]["decode_b1_tps"] for c in configs)
r1, r16 = j["decode_b1_tps"] / b1, j["decode_b16_tps"] / j["decode_b1_tps"]
print(f"\ntarget 1: decode batch 1 >= 1.25x torch: {r1:.2f}x  {'PASS' if r1 >= 1.25 else 'MISS'}")
print(f"target 2: decode batch 16 >= 6x batch 1 (rlcd4j): {r16:.2f}x  {'PASS' if r16 >= 6 else 'MISS'}")
print("(torch batch 16 / batch 1 at its best settings: %.2fx)" % (max(t[c]["decode_b16_tps"] for c in configs) / b1))
EOF
rm -rf "$OUT"
