#!/usr/bin/env bash
# What leak-lab/release-on-every-path adds to `deno lint` on this repository.
# Alternates runs of the same files and built-in rules with and without the plugin, and prints each run, the
# median and the spread (wall seconds, peak RSS). Without plugins Deno keeps an incremental lint cache (with
# plugins it does not), so "without" is measured both cold (fresh DENO_DIR each run) and warm (cache filled).
#
# Usage: bash lint/measure_cost.sh [rounds=7]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-7}
# Beside deno.json, so every path in them means the same: the project's lint without the plugin, and every
# file of the repository (the deliberate leaks too) with and without it.
config=.lint-cost-no-plugin.json
all=.lint-cost-all.json
all_without=.lint-cost-all-no-plugin.json
empty=.lint-cost-empty-plugin.json # a plugin with no rule: what Deno's plugin runtime costs by itself
scratch=$(mktemp -d)
trap 'rm -rf "$scratch" "$config" "$all" "$all_without" "$empty"' EXIT
echo 'export default { name: "empty", rules: {} };' >"$scratch/empty_plugin.ts"
deno eval 'const c = JSON.parse(Deno.readTextFileSync("deno.json")).lint;
  const write = (file, lint) => Deno.writeTextFileSync(file, JSON.stringify({ lint }));
  write(Deno.args[0], { ...c, plugins: [] });
  write(Deno.args[1], { plugins: c.plugins, exclude: ["node_modules/", "workshop-steps/.tmp-*/", "test-artifacts/"] });
  write(Deno.args[2], { exclude: ["node_modules/", "workshop-steps/.tmp-*/", "test-artifacts/"] });
  write(Deno.args[3], { ...c, plugins: [Deno.args[4]] });' \
  "$config" "$all" "$all_without" "$empty" "$scratch/empty_plugin.ts"

measure() { # label, then the command; appends "seconds kilobytes" to $scratch/label
  local label=$1
  shift
  /usr/bin/time -f "%e %M" -o "$scratch/one" "$@" >/dev/null 2>&1 || true # the deliberate leaks fail all-with
  tail -n 1 "$scratch/one" >>"$scratch/$label" # after "Command exited with non-zero status" if any
}

deno lint --config "$config" >/dev/null 2>&1 || true # fills the incremental cache (without the plugin, its ignore comments are unknown codes)
for ((i = 1; i <= rounds; i++)); do
  measure with deno lint
  measure empty-plugin deno lint --config "$empty"
  measure without-cold env DENO_DIR="$scratch/deno-dir-$i" deno lint --config "$config"
  measure without-warm deno lint --config "$config"
  measure all-with deno lint --config "$all"
  measure all-without env DENO_DIR="$scratch/deno-dir-all-$i" deno lint --config "$all_without"
done

count() { deno lint "$@" 2>&1 | sed -n 's/^Checked \([0-9]*\) files*$/\1/p'; }
echo "deno lint: the project's $(count) files (with, without-*) and all $(count --config "$all_without") (all-*)," \
  "$rounds alternating rounds; $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for label in with empty-plugin without-cold without-warm all-with all-without; do
  sort -n "$scratch/$label" | awk -v label="$label" '
    { s[NR] = $1; m[NR] = $2 / 1024 }
    END {
      mid = int((NR + 1) / 2); asort(m)
      printf "%-13s median %.2f s (min %.2f, max %.2f)  peak RSS median %.0f MB  runs:", label, s[mid], s[1], s[NR], m[mid]
      for (i = 1; i <= NR; i++) printf " %.2f", s[i]
      print ""
    }'
done
