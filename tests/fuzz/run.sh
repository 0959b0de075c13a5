#!/usr/bin/env bash
# make fuzz: runs each libFuzzer target in turn for SECONDS, starting from its
# committed corpus (tests/fuzz/corpus/TARGET, read only) and saving what it
# finds into SCRATCH/corpus/TARGET; crashes go to SCRATCH/crashes/. Prints the
# executions per target and exits 1 if any target found a crash, a leak or
# an UBSan report.
#
#   tests/fuzz/run.sh BIN_DIR SECONDS SCRATCH [TARGET...]
set -uo pipefail

bin=$1 seconds=$2 scratch=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for d in "$here"/corpus/*/; do targets+=("$(basename "$d")"); done
fi

mkdir -p "$scratch/crashes"
failed=()
summary=()
for t in "${targets[@]}"; do
  mkdir -p "$scratch/corpus/$t"
  log="$scratch/$t.log"
  echo "fuzz: $t for ${seconds}s (log: $log)"
  # The corpus of found inputs first: libFuzzer writes new entries there.
  # -max_len: the largest configs and datagrams in the seeds fit, with room.
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ASAN_OPTIONS=detect_leaks=1 \
    "$bin/fuzz_$t" -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$scratch/crashes/$t-" \
    "$scratch/corpus/$t" "$here/corpus/$t" >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  if [ "$rc" -ne 0 ]; then
    failed+=("$t")
    grep -m1 -E 'ERROR: |runtime error:|SUMMARY:' "$log"
  fi
  summary+=("$(printf '%-18s %12s execs %8s/s  %s' "$t" "${execs:-?}" "${rate:-?}" \
    "$([ "$rc" -eq 0 ] && echo ok || echo "FAILED (see $log)")")")
done

printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: ${failed[*]} failed; inputs in $scratch/crashes/ (add each to tests/fuzz/corpus/TARGET once fixed)"
  exit 1
fi
