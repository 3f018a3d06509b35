# The API fuzzer: schemathesis (PyPI, pinned in Tests/fuzz/requirements.txt)
# against the real server and its /openapi.yaml (Tests/fuzz/run_fuzz.py).
# Sourced after scripts/lib/setup.sh, which gives ROOT, say and ensure_packages.

# ensure_fuzz VENV: installs schemathesis into VENV when it is missing or not
# the pinned version; creates VENV when absent.
ensure_fuzz() {
  local venv="$1"
  ensure_packages python3-venv postgresql-client-15
  if [ ! -x "$venv/bin/python" ]; then
    say "creating $venv"
    python3 -m venv "$venv"
  fi
  local wanted
  wanted="$(sed -n 's/^schemathesis==//p' "$ROOT/Tests/fuzz/requirements.txt")"
  if [ "$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("schemathesis"))' 2>/dev/null)" != "$wanted" ]; then
    say "installing schemathesis $wanted into $venv (pip)"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$ROOT/Tests/fuzz/requirements.txt"
  fi
}

# run_api_fuzz VENV [run_fuzz.py arguments]: the fuzzer against
# .build/debug/barrier and the test cluster in BARRIER_TEST_DATABASE_URL (a
# superuser URL); fails on any failed check or fewer than 2,000 cases.
run_api_fuzz() {
  local venv="$1"; shift
  say "API fuzzing (schemathesis): Tests/fuzz/run_fuzz.py"
  (cd "$ROOT" && "$venv/bin/python" Tests/fuzz/run_fuzz.py "$@")
}
