#!/usr/bin/env bash
# The one command that runs honban's whole test suite, on a fresh machine as
# in CI (.ci/run calls this). Needs only a Rust toolchain (rustup with the
# rustfmt and clippy components). Exits non-zero on the first failure.
#
#   scripts/test.sh
#
# Set CI=true (CI does) to make every check strict and non-interactive.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Snapshot tests (insta) must fail on a mismatch, never write new snapshots.
export INSTA_UPDATE=no
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# Tests never read from a terminal.
exec </dev/null

step() {
    printf '\n==> %s\n' "$*"
}

started=$SECONDS

step "toolchain: $(cargo --version), $(rustc --version)"
if [[ "${CI:-}" == "true" ]]; then
    echo "CI=true: snapshot mismatches fail (INSTA_UPDATE=no)"
fi

step "format: cargo fmt --all -- --check"
cargo fmt --all -- --check

step "lint: cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets -- -D warnings

# --- Python test tools: moto (an AWS-protocol server) for tests/aws/ --------
# Installed into .venv at the repository root; pinned so that the request
# counts the tests assert do not move under us. Reused when already there.
step "python: .venv with moto[server]==5.2.5 and cbor2"
if ! .venv/bin/python -c 'import moto, cbor2, boto3; assert moto.__version__ == "5.2.5"' 2>/dev/null; then
    python3 -m venv .venv
    .venv/bin/pip install --quiet --disable-pip-version-check 'moto[server]==5.2.5' 'cbor2>=5.6'
fi
.venv/bin/python -c 'import moto; print("moto", moto.__version__)'
# ------------------------------------------------------------------------------

# Each test run is also logged, so the totals can be summed at the end.
log="$(mktemp "${TMPDIR:-/tmp}/honban-test.XXXXXX")"
trap 'rm -f "$log"' EXIT

step "doc tests: cargo test --doc"
cargo test --doc 2>&1 | tee -a "$log"

step "tests: cargo test --all-targets --no-fail-fast"
cargo test --all-targets --no-fail-fast 2>&1 | tee -a "$log"

# cargo prints one "test result:" line per test binary; add them up.
read -r passed failed ignored < <(
    awk '/^test result:/ {
            for (i = 1; i <= NF; i++) {
                if ($(i + 1) ~ /^passed/)  p += $i
                if ($(i + 1) ~ /^failed/)  f += $i
                if ($(i + 1) ~ /^ignored/) s += $i
            }
        }
        END { printf "%d %d %d\n", p, f, s }' "$log"
)

step "all checks passed in $((SECONDS - started))s"
echo "tests: ${passed} passed, ${failed} failed, ${ignored} skipped"
