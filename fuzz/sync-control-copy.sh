#!/usr/bin/env bash
# Writes Sources/FuzzControl/ControlMappingCopy.swift: a verbatim copy of the three pieces of slothd the
# control fuzzer needs (ControlRequest, ControlServer.request, ControlRouter.Endpoint). They live in the
# `slothd` executable target, whose other files pull in the whole daemon, so the fuzzer compiles a copy;
# scripts/fuzz runs this before every build so the copy never falls behind the daemon.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="$here/../Sources/slothd"
out="$here/Sources/FuzzControl/ControlMappingCopy.swift"

# block FILE START-REGEX END-REGEX: the lines from START through the first END after it; fails if absent.
block() {
    awk -v start="$2" -v end="$3" '
        !on && $0 ~ start { on = 1; print; next }
        on { print; if ($0 ~ end) { found = 1; exit } }
        END { exit found ? 0 : 1 }' "$1" || { echo "sync-control-copy: no block /$2/ ... /$3/ in $1" >&2; exit 1; }
}

tmp="$(mktemp)"
trap 'rm -f "$tmp"' EXIT
{
    cat <<'HEADER'
// GENERATED COPY kept for the fuzzer — do not edit: fuzz/sync-control-copy.sh (run by scripts/fuzz)
// rewrites it from Sources/slothd/ControlRouter.swift and Sources/slothd/ControlServer.swift.
// Only the URI -> path/query mapping and the Endpoint matching are copied, verbatim; the real types
// carry much more (the router's stores, the server's socket), which the fuzzer does not need.
import Foundation
import NIOHTTP1

// Sources/slothd/ControlRouter.swift: ControlRequest
HEADER
    block "$src/ControlRouter.swift" '^struct ControlRequest: Sendable \{' '^\}$'
    printf '\nenum ControlServer {\n    // Sources/slothd/ControlServer.swift: ControlServer.request\n'
    block "$src/ControlServer.swift" '^    static func request\(_ head: HTTPRequestHead' '^    \}$'
    printf '}\n\nenum ControlRouter {\n    // Sources/slothd/ControlRouter.swift: ControlRouter.Endpoint\n'
    block "$src/ControlRouter.swift" '^    enum Endpoint: Equatable \{' '^    \}$'
    printf '}\n'
} > "$tmp"

if ! cmp -s "$tmp" "$out"; then
    cp "$tmp" "$out"
    echo "sync-control-copy: updated $out from Sources/slothd (commit it with the daemon change)" >&2
fi
