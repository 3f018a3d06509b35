# The browser tests: a real headless Chromium (Debian's chromium and
# chromium-driver) driven by selenium, pytest and axe-selenium-python (PyPI)
# from the test venv, against the real server (Tests/browser). Sourced after
# scripts/lib/setup.sh, which gives ROOT, say and ensure_packages.

BARRIER_BROWSER_DEBIAN_PACKAGES=(chromium chromium-driver)

# ensure_browser_tests VENV: installs what is missing; creates VENV when absent.
ensure_browser_tests() {
  local venv="$1"
  ensure_packages "${BARRIER_BROWSER_DEBIAN_PACKAGES[@]}"
  if [ ! -x "$venv/bin/python" ]; then
    say "creating $venv"
    python3 -m venv "$venv"
  fi
  if ! "$venv/bin/python" -c 'import selenium, pytest, axe_selenium_python' 2>/dev/null; then
    say "installing selenium, pytest and axe-selenium-python into $venv (pip)"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$ROOT/Tests/browser/requirements.txt"
  fi
}

# run_browser_tests VENV [pytest arguments]: the browser suite against
# .build/debug/barrier and the test cluster in BARRIER_TEST_DATABASE_URL.
run_browser_tests() {
  local venv="$1"; shift
  say "browser tests (headless Chromium): Tests/browser"
  (cd "$ROOT" && "$venv/bin/python" -m pytest -q Tests/browser "$@")
}
