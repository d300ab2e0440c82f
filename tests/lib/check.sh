# Pass/fail bookkeeping for the whole-cluster tests. Source this file.
# check WHAT RESULT: RESULT "t" passes, anything else fails.
passed=0 failed=0
check() {
    if [ "$2" = t ]; then passed=$((passed + 1)); echo "ok: $1"; else failed=$((failed + 1)); echo "FAILED: $1"; fi
}

# check_summary NAME: prints the counts; fails if any check failed.
check_summary() {
    echo "$1: $passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}
