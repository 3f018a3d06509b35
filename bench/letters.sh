#!/usr/bin/env bash
# The letters benchmark: a campaign of generated suppliers (default 10,000)
# whose letters are rendered and frozen (target: 60 s per 100,000 letters, at
# least 10 s: < 10 s for 10,000, < 60 s at national scale with --suppliers
# 100000), and the PDF throughput
# of the warm workers against one warm WeasyPrint process rendering the same
# HTML in the same run (target >= 0.8 x cores x that ceiling).
# Run it as `scripts/bench letters`. Exits 0 when it measured, whatever the figures.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

usage() {
    cat <<USAGE
usage: scripts/bench letters [options]

  --suppliers N   suppliers in the campaign (default 10000)
  --pdfs N        PDFs printed for the throughput figure (default 200)
  --seed S        generator seed (default 7)
USAGE
}

suppliers=10000 pdfs=200 seed=7
while [[ $# -gt 0 ]]; do
    case "$1" in
        --suppliers) suppliers=${2:?}; shift 2 ;;
        --pdfs) pdfs=${2:?}; shift 2 ;;
        --seed) seed=${2:?}; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "letters bench: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done
for n in "$suppliers" "$pdfs" "$seed"; do
    [[ $n =~ ^[0-9]+$ ]] || { echo "letters bench: '$n' is not a number" >&2; exit 2; }
done

out="$root/bench/out"
mkdir -p "$out"
work=$(mktemp -d "$out/letters.XXXXXX")
trap 'rm -rf "$work"' EXIT
say() { printf '\n== %s\n' "$*"; }
note() { printf '   %s\n' "$*"; }
die() { echo "letters bench: $*" >&2; exit 1; }
ratio() { awk -v a="$1" -v b="$2" -v d="${3:-2}" 'BEGIN { if (b == 0) print "n/a"; else printf "%.*f", d, a / b }'; }
verdict() { awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN { ok = (op == ">=") ? v >= l : v < l; print ok ? "PASS" : "FAIL" }'; }
result() { sed -nE "s/.*(^| )$1=([^ ]+).*/\2/p" <<<"$2" | tail -n1; }

barrier=${BARRIER_BIN:-$root/.build/release/barrier}
[[ -x $barrier ]] || die "no barrier binary at $barrier (scripts/bench builds it)"
/usr/bin/python3 -c 'import weasyprint' 2>/dev/null || die "WeasyPrint is needed: apt-get install weasyprint"
venv="$root/.barrier/bench-venv"
if ! "$venv/bin/python" -c 'import faker' 2>/dev/null; then
    note "setting up $venv with faker (pip)"
    python3 -m venv "$venv" && "$venv/bin/pip" install -q --disable-pip-version-check faker || die "pip install faker failed"
fi

say "data: $suppliers suppliers, seed $seed"
gen_hash=$(sha256sum "$root/bench/gen_facilitators.py" | cut -c1-8)
csv_file="$out/facilitators-r$suppliers-s$seed-g$gen_hash.csv"
[[ -s $csv_file ]] || "$venv/bin/python" "$root/bench/gen_facilitators.py" --rows "$suppliers" --seed "$seed" --out "$csv_file" ||
    die "generating the CSV failed"
note "$csv_file"

say "database"
unset DATABASE_URL
export BARRIER_CLUSTER=bench-letters BARRIER_CLUSTER_FAST=1
timeout 60 "$barrier" db start </dev/null >"$work/db-start.out" 2>"$work/db-start.log" || { cat "$work/db-start.log" >&2; die "barrier db start failed"; }
admin_url=$(tail -n1 "$work/db-start.out")
bench_url=$(sed -E "s#^(postgres(ql)?://[^/?]*)(/[^?]*)?#\1/barrier_letters_bench#" <<<"$admin_url")
psql -q "$admin_url" -c 'DROP DATABASE IF EXISTS barrier_letters_bench WITH (FORCE)' -c 'CREATE DATABASE barrier_letters_bench' >/dev/null ||
    die "could not create the bench database"
export DATABASE_URL=$bench_url
"$barrier" migrate >/dev/null
"$barrier" agency create --name "Bench Inspectorate" --country BE >/dev/null
psql -q "$bench_url" -c "UPDATE agencies SET street = 'Rue de la Loi 16', postal_code = '1000', city = 'Brussels', \
    email = 'barrier@inspectorate.example', signatory_name = 'Dr. A. Verstraete', signatory_title = 'Head of Licensing'" >/dev/null
"$barrier" import facilitators "$csv_file" >"$work/import.log" 2>&1 || { tail -3 "$work/import.log" >&2; die "import failed"; }
# the generator archives about 5% of its suppliers; the campaign writes to every one
psql -q "$bench_url" -c "UPDATE facilitators SET status = 'active' WHERE status = 'archived'" >/dev/null
note "imported $suppliers suppliers into $bench_url"

say "campaign: letters rendered and frozen, then $pdfs PDFs"
"$barrier" bench-letters --pdfs "$pdfs" --html-out "$work/letter.html" >"$work/bench.out" 2>&1 || { cat "$work/bench.out" >&2; die "bench-letters failed"; }
cat "$work/bench.out" | sed 's/^/   /'
run=$(cat "$work/bench.out")
letters=$(result letters "$run"); freeze=$(result freeze_seconds "$run")
printed=$(result pdfs "$run"); pdf_seconds=$(result pdf_seconds "$run"); workers=$(result workers "$run")

say "ceiling: one warm WeasyPrint process, the same letter HTML"
ceiling_count=$(( pdfs / 4 > 20 ? pdfs / 4 : 20 ))
ceiling=$(/usr/bin/python3 "$root/bench/pdf_ceiling.py" "$work/letter.html" "$ceiling_count")
note "$ceiling"
ceiling_rate=$(ratio "$(result ceiling_pdfs "$ceiling")" "$(result ceiling_seconds "$ceiling")")
# For the record: what this machine gives with one independent WeasyPrint per worker.
parallel_total=0 parallel_time=0
for w in $(seq "$workers"); do
    /usr/bin/python3 "$root/bench/pdf_ceiling.py" "$work/letter.html" "$ceiling_count" >"$work/parallel-$w.out" &
done
wait
for w in $(seq "$workers"); do
    line=$(cat "$work/parallel-$w.out")
    parallel_total=$((parallel_total + $(result ceiling_pdfs "$line")))
    parallel_time=$(awk -v a="$parallel_time" -v b="$(result ceiling_seconds "$line")" 'BEGIN { print (b > a) ? b : a }')
done
parallel_rate=$(ratio "$parallel_total" "$parallel_time")
note "$workers independent warm processes at once: $parallel_rate letters/s together ($(ratio "$parallel_rate" "$ceiling_rate") x one process)"
pdf_rate=$(ratio "$printed" "$pdf_seconds")
freeze_limit=$(awk -v n="$letters" 'BEGIN { l = 60 * n / 100000; printf "%.0f", (l < 10) ? 10 : l }')
target=$(awk -v c="$ceiling_rate" -v w="$workers" 'BEGIN { printf "%.2f", 0.8 * w * c }')

say "results"
printf '   %-34s %10s  %-28s %s\n' "figure" "value" "ceiling / target" "result"
printf '   %-34s %10s  %-28s %s\n' "$letters letters frozen (HTML+text)" "${freeze}s" "< $freeze_limit s" "$(verdict "$freeze" "<" "$freeze_limit")"
printf '   %-34s %10s  %-28s %s\n' "PDF letters/s ($workers workers)" "$pdf_rate" "ceiling $ceiling_rate/s x $workers x 0.8 = $target" \
    "$(verdict "$pdf_rate" ">=" "$target") (ratio $(ratio "$pdf_rate" "$ceiling_rate") x ceiling)"
printf '   %-34s %10s  %-28s %s\n' "  vs $workers independent processes" "$pdf_rate" "$parallel_rate/s" "ratio $(ratio "$pdf_rate" "$parallel_rate")"
"$barrier" db stop >/dev/null 2>&1 || true
