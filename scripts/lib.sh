# shellcheck shell=bash
# Shared helpers for the scripts in scripts/ and .ci/. Source it, do not run it:
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# Sets RELEVO_ROOT (the repository root) and puts the Swift toolchain on PATH
# when it is installed in /opt/swift but not on PATH yet.

RELEVO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export RELEVO_ROOT

# Progress and errors go to stderr so stdout stays usable by callers.
relevo_log() { printf 'relevo: %s\n' "$*" >&2; }
relevo_die() { printf 'relevo: error: %s\n' "$*" >&2; exit 1; }

if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi

# Fails with a clear message when no Swift toolchain can be found.
relevo_require_swift() {
    command -v swift >/dev/null 2>&1 \
        || relevo_die "swift not found on PATH nor in /opt/swift/usr/bin; install a Swift 6 toolchain"
}
