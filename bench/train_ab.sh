#!/usr/bin/env bash
# Training throughput of this checkout against another revision, alternated in one run: bench/train_ab.sh REV
# builds REV's toolkit in a temporary worktree, then runs TrainBench (forward, backward, clip, AdamW on the SmolLM2-135M
# shapes, random weights) for full fine-tuning and LoRA, ROUNDS times, swapping which revision goes first each round.
#   bench/train_ab.sh 76ae8ea            # B=4 T=128, 10 timed steps after 3 warm-up steps, 3 rounds
set -euo pipefail
cd "$(dirname "$0")/.."
REV=${1:?usage: bench/train_ab.sh REV}
B=${B:-4}; T=${T:-128}; STEPS=${STEPS:-10}; WARMUP=${WARMUP:-3}; ROUNDS=${ROUNDS:-3}
OLD=$(mktemp -d /tmp/rlcd4j-ab.XXXXXX)
trap 'git worktree remove --force "$OLD" >/dev/null 2>&1 || true' EXIT
git worktree add -q --detach "$OLD" "$REV"
MVNW="$PWD/mvnw" # the checkout's wrapper: REV may predate its own
(cd "$OLD" && "$MVNW" -B -o -q -pl toolkit -am package -Dmaven.test.skip=true)
./mvnw -B -o -q -pl toolkit -am package -Dmaven.test.skip=true
CP_NEW="toolkit/target/classes:$(cat toolkit/target/classpath.txt)"
CP_OLD="$OLD/toolkit/target/classes:$(cat "$OLD/toolkit/target/classpath.txt")"
echo "# $(date -u +%FT%TZ) $(uname -m) $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg); new=$(git rev-parse --short HEAD) old=$REV"
run() { # label classpath mode
  printf '%s ' "$1"
  java -Xmx2g -Dai.djl.offline=true -Drlcd4j.mklIntelPath=true -cp "$2" rlcd4j.bench.TrainBench "$3" "$B" "$T" "$STEPS" "$WARMUP" 2>/dev/null
}
for round in $(seq "$ROUNDS"); do
  for mode in full lora; do
    if [ $((round % 2)) = 1 ]; then run old "$CP_OLD" "$mode"; run new "$CP_NEW" "$mode"
    else run new "$CP_NEW" "$mode"; run old "$CP_OLD" "$mode"; fi
  done
done
