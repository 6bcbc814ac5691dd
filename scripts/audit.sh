#!/bin/sh
# The dependencies checked by cargo-deny (issue 8): licenses, bans (duplicates, wildcards) and
# sources, per deny.toml. Needs `cargo install cargo-deny`.
#
#     sh scripts/audit.sh            # licenses, bans, sources: offline
#     sh scripts/audit.sh advisories # also RustSec's advisories (fetches its database from GitHub)
set -eu
cd "$(dirname "$0")/.."
checks="licenses bans sources"
if [ "${1:-}" = "advisories" ]; then
    checks="$checks advisories"
fi
cargo deny --all-features check $checks
