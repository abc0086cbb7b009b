#!/usr/bin/env bash
# Long-prompt throughput at batch 1, rlcd4j engine vs Python PyTorch eager, same shapes (SmolLM2-135M, random weights).
#
#   bench/prefill.sh           # from the repository root; compiles the toolkit first (SKIP_BUILD=1 to skip)
#
# Environment: RUNS (default 2) times the pair "rlcd4j, then torch" is run, alternated; ROUNDS (3) rounds per run
# (median); LENGTHS ("128 512 1024") prompt lengths; KINDS ("score prefill"): score = log-probability of every next
# token (what `rlcd score` computes), prefill = forward into a KV cache and the last position's logits (generation);
# VARIANTS ("new,old"): rlcd4j as it is ("new"), without the native prefill ("ops", -Drlcd4j.nativePrefill=false) and
# before the long-prompt changes too ("old", -Drlcd4j.longPrefill=false), alternated in one JVM; JAVA_OPTS extra
# JVM flags; TORCH_CONFIGS thread settings tried for torch, separated by spaces, each
# "torch_threads:OMP_NUM_THREADS:OPENBLAS_NUM_THREADS[:OMP_WAIT_POLICY]" (the best per figure is reported).
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-2}; ROUNDS=${ROUNDS:-3}; LENGTHS=${LENGTHS:-"128 512 1024"}; KINDS=${KINDS:-"score prefill"}
VARIANTS=${VARIANTS:-new,old}
TORCH_CONFIGS=${TORCH_CONFIGS:-"1:1:2 2:2:2:PASSIVE"}
OUT=$(mktemp -d)
[ "$KINDS" = "score prefill" ] && JKIND=both || JKIND=$KINDS

if [ "${SKIP_BUILD:-0}" != 1 ] || [ ! -f toolkit/target/classpath.txt ]; then
  echo "compiling toolkit ..."
  ./mvnw -B -q -o compile -pl toolkit
  (cd toolkit && ../mvnw -B -q -o dependency:build-classpath -Dmdep.outputFile=target/classpath.txt \
    -Dmdep.includeScope=runtime)
fi
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs);" \
     "$(java -version 2>&1 | head -1)"

for r in $(seq 1 "$RUNS"); do
  echo "run $r: load before rlcd4j: $(cut -d' ' -f1-3 /proc/loadavg)"
  java -Dai.djl.offline=true -Drlcd4j.mklIntelPath=true ${JAVA_OPTS:-} \
    -cp "toolkit/target/classes:$(cat toolkit/target/classpath.txt)" \
    rlcd4j.bench.PrefillBench "$ROUNDS" "$JKIND" "$VARIANTS" $LENGTHS 2>"$OUT/java.err" | tee "$OUT/java-$r.out"
  grep -q '^RESULT' "$OUT/java-$r.out" || { cat "$OUT/java.err"; exit 1; }
  for c in $TORCH_CONFIGS; do
    IFS=: read -r tt omp ob wait <<<"$c"
    echo "run $r: load before torch $c: $(cut -d' ' -f1-3 /proc/loadavg)"
    (cd bench && env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE ${wait:+OMP_WAIT_POLICY=$wait} OMP_NUM_THREADS="$omp" \
      OPENBLAS_NUM_THREADS="$ob" /usr/bin/python3 prefill_torch.py --threads "$tt" --rounds "$ROUNDS" --kinds $KINDS \
      --lengths $LENGTHS) | tee "$OUT/torch-$r-$c.out"
  done
done

/usr/bin/python3 - "$OUT" "$RUNS" "$KINDS" "$LENGTHS" "$VARIANTS" $TORCH_CONFIGS <<'EOF'
import sys, re, pathlib
out, runs, kinds, lengths, variants, configs = pathlib.Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3].split(), \
    sys.argv[4].split(), sys.argv[5].split(","), sys.argv[6:]
read = lambda f: {m[1]: float(m[2]) for m in re.finditer(r"^RESULT (\S+) (\S+)", f.read_text(), re.M)}
for what, label in (("", "wall time"), ("_cpu", "process CPU time")):
    print(f"\nBy {label}:\n\n| run | kind | tokens | " + " | ".join(f"rlcd4j {v} (tokens/s)" for v in variants)
          + " | torch, best setting (tokens/s) | rlcd4j / torch | ms/token vs the shortest |")
    print("|---" * (6 + len(variants)) + "|")
    for r in range(1, runs + 1):
        j = read(out / f"java-{r}.out")
        t = {c: read(out / f"torch-{r}-{c}.out") for c in configs}
        for k in kinds:
            for T in lengths:
                best = max(configs, key=lambda c: t[c][f"{k}_torch_{T}{what}_tps"])
                tt, jn = t[best][f"{k}_torch_{T}{what}_tps"], j[f"{k}_{variants[0]}_{T}{what}_tps"]
                growth = j[f"{k}_{variants[0]}_{lengths[0]}{what}_tps"] / jn
                print(f"| {r} | {k} | {T} | " + " | ".join(f"{j[f'{k}_{v}_{T}{what}_tps']:.1f}" for v in variants)
                      + f" | {tt:.1f} ({best}) | {jn / tt:.2f}x | {growth:.2f}x |")
EOF
rm -rf "$OUT"
