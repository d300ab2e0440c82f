# Wall time per step of `make test`. Source this file.
#
# timed NAME COMMAND...: runs COMMAND and, when QUIVER_TIMINGS names a file,
# appends "seconds<TAB>status<TAB>NAME" to it, so that tests/run_all.sh can
# print one table of every compile, download, venv, pg_regress run and
# cluster script, whoever ran it. Returns COMMAND's status.
timed() {
    local name=$1 start status
    shift
    start=${EPOCHREALTIME/./}
    "$@" && status=0 || status=$?
    if [ -n "${QUIVER_TIMINGS:-}" ]; then
        local elapsed=$((${EPOCHREALTIME/./} - start))
        printf '%d.%d\t%s\t%s\n' $((elapsed / 1000000)) $((elapsed % 1000000 / 100000)) "$status" "$name" >>"$QUIVER_TIMINGS"
    fi
    return $status
}

# timing_table FILE START: the steps, longest first; the sum of the top-level
# ones (a step named "outer > inner" is inside its outer step's time); and the
# wall time since START (bash's SECONDS), less than the sum where steps ran
# at once.
timing_table() {
    local file=$1 wall=$((SECONDS - $2))
    [ -s "$file" ] || return 0
    echo "=== wall time per step (seconds, longest first; 'a > b' is part of a)"
    sort -t$'\t' -k1,1 -rn "$file" | awk -F'\t' '{ printf "%8.1f  %-4s %s\n", $1, ($2 == 0 ? "ok" : "FAIL"), $3 }'
    awk -F'\t' '$3 !~ / > / { total += $1 } END { printf "%8.1f       sum of the steps\n", total }' "$file"
    printf '%8d       wall time (%d min %d s)\n' "$wall" $((wall / 60)) $((wall % 60))
}
