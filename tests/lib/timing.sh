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

# timing_table FILE: the steps, longest first, and the total of the top-level
# ones (nested steps, named "outer > inner", are inside their outer step's time).
timing_table() {
    local file=$1
    [ -s "$file" ] || return 0
    echo "=== wall time per step (seconds, longest first; 'a > b' is part of a)"
    sort -t$'\t' -k1,1 -rn "$file" | awk -F'\t' '{ printf "%8.1f  %-4s %s\n", $1, ($2 == 0 ? "ok" : "FAIL"), $3 }'
    awk -F'\t' '$3 !~ / > / { total += $1 } END { printf "%8.1f       total (%d min %d s)\n", total, total / 60, total % 60 }' "$file"
}
