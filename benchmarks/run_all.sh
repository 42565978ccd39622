#!/bin/bash
# The one run the README's performance tables come from: every benchmark, one after another,
# on one machine, with the machine's speed read before each (a fixed piece of work against its
# time on the Xeon of 30/11). Run by hand on a quiet machine, from the project folder:
#     benchmarks/run_all.sh [DIR]  > run.log     (DIR: data and databases, default benchmarks/out)
# About 20 minutes once the data is built (the first run generates and ingests 10,000,000
# crimes: a few minutes more); needs valgrind for the instruction count, Debian's chromium for
# the viewers.
set -u
cd "$(dirname "$0")/.."
DIR=${1:-benchmarks/out}
PY=.venv/bin/python
export O2R_MAX_UPLOAD_MB=2048  # a 10,000,000-row Connect export is over the default limit
speed() {
  $PY -c 'import time
def once():
    start = time.perf_counter(); sum(i * i for i in range(300_000))
    return time.perf_counter() - start
print(f"fixed work {min(once() for _ in range(5)) / 0.015:.2f}x the Xeon time")'
}
step() {
  echo; echo "######## $1  $(date +%H:%M:%S)  load $(cut -d' ' -f1-3 /proc/loadavg)  $(speed)"
}
echo "code $(git rev-parse --short HEAD); $(grep -m1 'model name' /proc/cpuinfo);" \
     "$(grep -m1 'cpu family' /proc/cpuinfo); $(nproc) CPUs"
step "ingest 1,000,000 (1)"; $PY benchmarks/ingest_scale.py --referrals 10000 --crimes 1000000 --dir "$DIR"
step "ingest 1,000,000 (2)"; $PY benchmarks/ingest_scale.py --referrals 10000 --crimes 1000000 --dir "$DIR"
step "ingest 10,000,000"; $PY benchmarks/ingest_scale.py --referrals 100000 --crimes 10000000 --dir "$DIR"
step "workbooks"; $PY benchmarks/xlsx.py --dir "$DIR/xlsx" --source "$DIR/tracker_100000.csv"
for scale in "1000 100000" "10000 1000000" "100000 10000000"; do
  set -- $scale
  for run in 1 2; do
    step "pages $1 ($run)"; $PY benchmarks/pages.py --referrals "$1" --crimes "$2" --dir "$DIR"
  done
done
step "pack history"; $PY benchmarks/pack_history.py --dir "$DIR" --instructions
step "pack history, 1,000 referrals"; $PY benchmarks/pack_history.py --referrals 1000 --crimes 100000 --dir "$DIR"
step "crime growth"; $PY benchmarks/crime_growth.py --dir "$DIR"
step "viewers"; $PY benchmarks/viewers.py --referrals 10000 --crimes 1000000 --dir "$DIR"
step "end"
