#!/usr/bin/env bash
# GPU check: the CUDA tests, then the whole-suite throughput benchmark on one GPU; every
# figure goes to one Markdown and one JSON file (default results/gpu_check/gpu_check.{md,json}).
# Installs nothing and needs no network: it runs on the Python and torch already there.
#
#   tools/gpu_check.sh                       # on a machine with one CUDA GPU, about 5-7 minutes
#   tools/gpu_check.sh --out DIR             # another output folder
#   tools/gpu_check.sh --device cpu --archs 3 --C 4 --N 1 --phase-s 5    # dry run on a CPU
#
# Every option but --skip-tests goes to tools/gpu_check.py (python tools/gpu_check.py --help):
# --archs, --phase-s, --in-flight, --modes, --metrics, --C, --N, --batch-size, --seed, --out.
# Python: $PYTHON if set, else the first of .venv/bin/python, python3, python whose torch
# sees the GPU; src/ goes on PYTHONPATH, so the package need not be installed.
# Exit status: 0 all done; 3 no CUDA GPU visible; 4 a CUDA test failed, could not be
# collected or did not run on the GPU (the benchmark still runs and writes its files);
# 5 the benchmark ran past its time limit (finished phases are written); anything else:
# the benchmark failed (its message above). At most 2 + 5.5 minutes, set by timeouts.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PYTHONPATH="$ROOT/src${PYTHONPATH:+:$PYTHONPATH}"  # this checkout's package, installed or not

DEVICE=cuda
OUT="$ROOT/results/gpu_check"
SKIP_TESTS=0
ARGS=()
while (($#)); do
  case "$1" in
    --skip-tests) SKIP_TESTS=1; shift ;;
    --device) DEVICE="$2"; ARGS+=("$1" "$2"); shift 2 ;;
    --device=*) DEVICE="${1#--device=}"; ARGS+=("$1"); shift ;;
    --out) OUT="$2"; shift 2 ;;
    --out=*) OUT="${1#--out=}"; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ {sub(/^# ?/, ""); print; next} NR > 1 {exit}' "$0"; exit 0 ;;
    *) ARGS+=("$1"); shift ;;
  esac
done
mkdir -p "$OUT"
START=$(date +%s)
say() { echo "gpu_check: $*"; }
die() { local code=$1; shift; echo "gpu_check: ERROR: $*" >&2; exit "$code"; }

# 1. the interpreter and the device: $PYTHON if set, else the first of the repository's
#    .venv, python3 and python whose torch sees a GPU (for --device cpu: imports torch);
#    fail loudly, before anything else, when no GPU is there
PROBE='import sys, torch
ok = torch.cuda.is_available() and torch.cuda.device_count() > 0
print(f"{sys.executable}: torch {torch.__version__}, CUDA build {torch.version.cuda}, GPUs visible: "
      f"{torch.cuda.device_count() if ok else 0}" + (f" ({torch.cuda.get_device_name(0)})" if ok else ""))
sys.exit(0 if ok or sys.argv[1] == "cpu" else 1)'
PY=""
TRIED=()
for c in ${PYTHON:-.venv/bin/python python3 python}; do
  command -v "$c" >/dev/null 2>&1 || continue
  if LINE=$("$c" -c "$PROBE" "${DEVICE%%:*}" 2>&1); then PY="$c"; echo "$LINE"; break; fi
  TRIED+=("$(echo "$LINE" | tail -n 1)")
done
if [[ -z "$PY" ]]; then
  printf '  tried: %s\n' "${TRIED[@]:-no python found}" >&2
  if [[ "$DEVICE" == cuda* ]]; then
    die 3 "no CUDA GPU visible to torch: this check needs one GPU (or --device cpu for a dry run)"
  fi
  die 3 "no python with torch found (set PYTHON)"
fi
if [[ "$DEVICE" == cuda* ]] && command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
fi

# 2. the CUDA tests: the tests that skip without a GPU (in the files that ask
#    torch.cuda.is_available(), the tests whose name says cuda)
TESTS_JSON="$OUT/cuda_tests.json"
TESTS_BAD=""
rm -f "$TESTS_JSON"
if ((SKIP_TESTS == 0)); then
  mapfile -t FILES < <(grep -l 'cuda.is_available' tests/test_*.py | sort)
  say "CUDA tests in ${FILES[*]}"
  XML="$OUT/cuda_tests.xml"
  set +e
  timeout 120 "$PY" -m pytest -q -n 0 -p no:cacheprovider -rs -k cuda --continue-on-collection-errors \
    --junitxml "$XML" "${FILES[@]}"
  RC=$?
  set -e
  "$PY" - "$XML" "$TESTS_JSON" "$RC" "$DEVICE" "${FILES[*]}" <<'EOF'
import json, sys
import xml.etree.ElementTree as ET
xml, out, rc, device, files = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
res = {"command": f"pytest -n 0 -k cuda {files}", "exit_status": rc, "passed": [], "failed": [],
       "skipped": []}
try:
    for case in ET.parse(xml).getroot().iter("testcase"):
        name = f"{case.get('classname')}::{case.get('name')}"
        skip = case.find("skipped")
        bad = case.find("failure") if case.find("failure") is not None else case.find("error")
        if bad is not None:  # a collection error (e.g. a missing module) names its test file
            lines = [ln.strip() for ln in (bad.text or "").splitlines() if ln.strip()]
            why = lines[-1] if lines else bad.get("message", "")
            res["failed"].append(f"{name} ({why[:200]})")
        elif skip is not None:
            res["skipped"].append(f"{name} ({skip.get('message', '')})")
        else:
            res["passed"].append(name)
except (OSError, ET.ParseError) as e:
    res["failed"].append(f"no test report: {e}")
res["summary"] = (f"{len(res['passed'])} passed, {len(res['failed'])} failed, {len(res['skipped'])} skipped"
                  + (" (dry run: no GPU)" if not device.startswith("cuda") else ""))
json.dump(res, open(out, "w"), indent=2)
print("gpu_check: CUDA tests:", res["summary"])
EOF
  # a failed, uncollectable or skipped CUDA test fails the check, after the benchmark has run
  if ((RC != 0 && RC != 5)); then TESTS_BAD="CUDA tests failed or could not be collected (pytest exit status $RC)"
  elif [[ "$DEVICE" == cuda* ]] && grep -q -i 'no CUDA' "$TESTS_JSON"; then
    TESTS_BAD="CUDA tests were skipped for want of a GPU"
  fi
fi

# 3. the throughput benchmark (bounded: each phase stops after --phase-s seconds)
say "throughput benchmark"
set +e
timeout 330 "$PY" tools/gpu_check.py --out "$OUT" --tests-json "$TESTS_JSON" "${ARGS[@]}"
RC=$?
set -e
if ((RC == 124)); then
  die 5 "the benchmark ran past its 330 s limit; the phases it finished are in $OUT/gpu_check.md"
elif ((RC != 0)); then
  die "$RC" "the benchmark failed (exit status $RC)"
fi
say "done in $(($(date +%s) - START)) s: $OUT/gpu_check.md, $OUT/gpu_check.json"
if [[ -n "$TESTS_BAD" ]]; then die 4 "$TESTS_BAD; see $TESTS_JSON (the benchmark's figures are written)"; fi
