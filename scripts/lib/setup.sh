# Shared set-up for scripts/run, scripts/test and scripts/bench: install what is
# missing from Debian's packages, then build. Sourced, not run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

say() { printf '%s\n' "barrier: $*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else say "need root to run: $*"; exit 1
  fi
}

# Debian packages the product needs at run time (and to build: libpq-dev is
# what the issue names for client headers; runuser comes with util-linux).
# weasyprint prints letters to PDF, msmtp hands e-mail to the agency's relay,
# poppler-utils gives the tests pdftotext, python3-venv the test SMTP server.
BARRIER_DEBIAN_PACKAGES=(postgresql-15 postgresql-contrib libpq-dev postgresql-client-15 util-linux weasyprint fonts-dejavu-core msmtp poppler-utils python3-venv)

ensure_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

ensure_swift() {
  if ! command -v swift >/dev/null 2>&1; then
    if [ -x /opt/swift/usr/bin/swift ]; then export PATH="/opt/swift/usr/bin:$PATH"
    else say "the Swift 6 toolchain is not installed (expected swift on PATH or in /opt/swift)"; exit 1
    fi
  fi
}

# build CONFIGURATION [extra swift build flags]
build() {
  local configuration="$1"; shift
  ensure_swift
  if [ ! -x ".build/$configuration/barrier" ]; then
    say "first $configuration build: compiling the dependencies takes several minutes on 2 cores (about 7 for release, 3 to 5 for debug)"
  fi
  # The whole output goes to a log; the terminal gets it without the progress
  # lines and the dependencies' own warnings. A failed build prints its error
  # lines from the whole log (a dependency's too) and the log's tail.
  local log="$ROOT/.build/build-$configuration.log"
  mkdir -p "$ROOT/.build"
  set +e
  swift build -c "$configuration" "$@" 2>&1 | tee "$log" | grep -Ev '^(\[[0-9]+/[0-9]+\]|warning: .swift-distributed-tracing.|Building for|Write swift-version|Fetching|Fetched|Computing|Computed|Creating working copy|Working copy|Updating|Updated)|\.build/checkouts/|found [0-9]+ file\(s\) which are unhandled'
  local status=${PIPESTATUS[0]}
  set -e
  if [ "$status" -ne 0 ]; then
    say "build failed (swift build exited with $status); its errors, from $log:"
    grep -E '(error|fatal error|Killed|killed|out of memory)' "$log" | grep -v '^\[[0-9]*/[0-9]*\]' | head -n 40 >&2 || true
    say "the log's last lines:"
    tail -n 25 "$log" >&2
    exit 1
  fi
}
