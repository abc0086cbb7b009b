#!/usr/bin/env bash
# A change to the native decode step, measured alone: the step plus the LM head of toolkit/src/main/c/decode_step.c
# as it is in the working tree ("new") against a commit ("old"), both in one C program, their steps alternated with a
# plain streaming sum of the same weights (bench/step_ab.c). SmolLM2-135M shapes, random weights, two threads.
#
#   bench/step_ab.sh [REV]     # from the repository root; REV (default HEAD) is the old build
#
# Environment: ROWS ("1 16") batch rows; WEIGHTS ("0 1"): 0 fp32, 1 bf16 copies; REPS (30) alternated rounds per
# figure; RUNS (3) programs per setting; CONTEXT (64) cache columns each row attends to. REV must have today's entry
# points (rlcd4j_linear with claimed rows, 1ef2a2f or later). Needs gcc; no Java.
set -euo pipefail
cd "$(dirname "$0")/.."

REV=${1:-HEAD}; ROWS=${ROWS:-"1 16"}; WEIGHTS=${WEIGHTS:-"0 1"}; REPS=${REPS:-30}; RUNS=${RUNS:-3}; CONTEXT=${CONTEXT:-64}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
CFLAGS="-O3 -mavx2 -mfma -mf16c -fPIC"

mkdir -p "$OUT/old"
git archive "$REV" toolkit/src/main/c | tar -x -C "$OUT/old"
compile() { # $1 prefix, $2 source folder
  gcc $CFLAGS -c -I"$2" -Drlcd4j_decode_step="$1"_decode_step -Drlcd4j_linear="$1"_linear \
    -Drlcd4j_narrow="$1"_narrow -o "$OUT/$1.o" "$2/decode_step.c"
}
compile old "$OUT/old/toolkit/src/main/c"
compile new toolkit/src/main/c
gcc $CFLAGS -o "$OUT/step_ab" bench/step_ab.c "$OUT/old.o" "$OUT/new.o" -lpthread -lm

echo "old: $(git rev-parse --short "$REV"); new: the working tree ($(git rev-parse --short HEAD)$(git diff --quiet -- toolkit/src/main/c || echo ' + changes'))"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
for w in $WEIGHTS; do
  for r in $ROWS; do
    for i in $(seq "$RUNS"); do "$OUT/step_ab" "$r" "$REPS" "$w" "$CONTEXT"; done
  done
done
