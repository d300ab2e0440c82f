#!/usr/bin/env bash
# The examples (examples/run.sh) with --check: each question must find the
# document that answers it, with the real all-MiniLM-L6-v2 embeddings.
# Quiver must be installed.
set -euo pipefail
cd "$(dirname "$0")/.."
output=$(bash examples/run.sh --check 2>&1) && status=0 || status=$?
echo "$output"
passed=$(grep -c "^  ok: " <<<"$output" || true)
failed=$(grep -c "^  FAILED: " <<<"$output" || true)
echo "examples: $passed passed, $failed failed"
[ "$status" = 0 ] && [ "$failed" = 0 ] && [ "$passed" -gt 0 ]
