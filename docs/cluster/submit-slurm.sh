#!/usr/bin/env bash
# Submits a sharded sancsim run to Slurm: a job array of SHARDS tasks
# (sancsim-array.sbatch) and a merge job (sancsim-merge.sbatch) that starts
# only once every task has succeeded, and is cancelled if one fails.
#
#   submit-slurm.sh [--wait] SCENARIO TRIALS SEED SHARDS OUT [SANCSIM]
#
#   SCENARIO  scenario file
#   TRIALS    total trials;  SEED  the seed;  SHARDS  number of array tasks
#   OUT       folder for the run, on a file system every node sees: it gets
#             shard-K/partial.json, logs/ and the merged outputs in merged/
#   SANCSIM   the sancsim binary the nodes run (default: sancsim on PATH here)
#   --wait    wait for the merge job (sbatch --wait) and exit 0 only if it
#             completed and wrote OUT/merged/report.html
#
# COMMAND (default run) shards another command the same way: compare, sweep
# or sensitivity, with its own options in EXTRA_ARGS (split at spaces), e.g.
#   COMMAND=compare EXTRA_ARGS="--variant training.mfu=0.40" submit-slurm.sh ...
#
# Prints the job ids as `array job: ID` and `merge job: ID`. Options for both
# jobs (partition, account, time limit) go in Slurm's own environment
# variables, e.g. SBATCH_PARTITION=short SBATCH_ACCOUNT=proj; JOB_NAME
# names the jobs (default: sancsim, and sancsim-merge).
set -euo pipefail

usage() {
  echo "usage: $0 [--wait] SCENARIO TRIALS SEED SHARDS OUT [SANCSIM]" >&2
  exit 2
}
die() { echo "submit-slurm: $*" >&2; exit 2; }

WAIT=no
positional=()
for a in "$@"; do
  case "$a" in
    --wait) WAIT=yes ;;
    -h | --help) usage ;;
    -*) die "unknown option $a" ;;
    *) positional+=("$a") ;;
  esac
done
[ "${#positional[@]}" -eq 5 ] || [ "${#positional[@]}" -eq 6 ] || usage
SCENARIO="${positional[0]}"
TRIALS="${positional[1]}"
SEED="${positional[2]}"
SHARDS="${positional[3]}"
OUT="${positional[4]}"
SANCSIM="${positional[5]:-sancsim}"
JOB_NAME="${JOB_NAME:-sancsim}"

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
command -v sbatch >/dev/null || die "sbatch not found: is this a Slurm submit host?"
[[ "$TRIALS" =~ ^[1-9][0-9]*$ ]] || die "TRIALS must be a positive whole number, got '$TRIALS'"
[[ "$SEED" =~ ^[0-9]+$ ]] || die "SEED must be a whole number, got '$SEED'"
[[ "$SHARDS" =~ ^[1-9][0-9]*$ ]] || die "SHARDS must be a positive whole number, got '$SHARDS'"
[ -f "$SCENARIO" ] || die "$SCENARIO: no such scenario file"

# The jobs start in this folder but may run on other nodes: give them
# absolute paths, and check the binary and the scenario here first.
SCENARIO="$(cd "$(dirname "$SCENARIO")" && pwd)/$(basename "$SCENARIO")"
if [[ "$SANCSIM" == */* ]]; then
  [ -x "$SANCSIM" ] || die "$SANCSIM: not an executable file"
  SANCSIM="$(cd "$(dirname "$SANCSIM")" && pwd)/$(basename "$SANCSIM")"
else
  SANCSIM="$(command -v "$SANCSIM")" || die "'${positional[5]:-sancsim}' not found on PATH; give the binary's path"
fi
"$SANCSIM" validate "$SCENARIO" >/dev/null || die "$SCENARIO does not validate (see above)"

mkdir -p "$OUT/logs"
OUT="$(cd "$OUT" && pwd)"
MERGED="$OUT/merged"
for old in "$OUT"/shard-*/partial.json "$MERGED/report.html"; do
  if [ -e "$old" ]; then
    die "$OUT already holds results of an earlier run ($old): choose another folder or delete them"
  fi
done

export SANCSIM SCENARIO TRIALS SEED SHARDS OUT MERGED

array_id="$(sbatch --parsable --export=ALL --job-name="$JOB_NAME" --array="1-$SHARDS" \
  --output="$OUT/logs/shard-%a.out" "$HERE/sancsim-array.sbatch")"
array_id="${array_id%%;*}"
echo "array job: $array_id ($SHARDS tasks, logs in $OUT/logs/)"

merge_args=(--export=ALL --job-name="$JOB_NAME-merge" --dependency="afterok:$array_id"
  --kill-on-invalid-dep=yes --output="$OUT/logs/merge.out" "$HERE/sancsim-merge.sbatch")

if [ "$WAIT" = no ]; then
  merge_id="$(sbatch --parsable "${merge_args[@]}")"
  echo "merge job: ${merge_id%%;*} (outputs in $MERGED/)"
  exit 0
fi

# sbatch --wait prints the id at submission and returns when the job ends;
# read the id from its output while it waits.
idfile="$OUT/logs/merge-job-id"
# Created before the waiter starts, so the loop below never reads a file
# that the background redirection has not made yet.
: >"$idfile"
stdbuf -oL sbatch --parsable --wait "${merge_args[@]}" >"$idfile" &
waiter=$!
while [ "$(wc -l <"$idfile")" -lt 1 ] && kill -0 "$waiter" 2>/dev/null; do sleep 0.1; done
merge_id="$(head -n1 "$idfile")"
merge_id="${merge_id%%;*}"
[ -n "$merge_id" ] || { wait "$waiter" || true; die "the merge job was not submitted"; }
echo "merge job: $merge_id (outputs in $MERGED/); waiting for it"
wait_rc=0
wait "$waiter" || wait_rc=$?

# sbatch --wait returns 0 for a job cancelled because a shard failed, so ask
# the controller for the job's state and look for the outputs.
state="$(scontrol show job "$merge_id" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | head -n1)"
if [ "$wait_rc" -eq 0 ] && [ "${state:-COMPLETED}" = COMPLETED ] && [ -f "$MERGED/report.html" ]; then
  echo "merged outputs in $MERGED/"
  exit 0
fi
echo "submit-slurm: the merge job $merge_id ended ${state:-in an unknown state} (exit $wait_rc) without outputs;" \
  "see $OUT/logs/ and: scontrol show job $array_id" >&2
exit 1
