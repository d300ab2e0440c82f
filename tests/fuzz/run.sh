#!/usr/bin/env bash
# Coverage-guided fuzzing of the pure decoders on stable Rust: libFuzzer
# (the libfuzzer-sys crate) linked into each target, with the coverage
# instrumentation cargo-fuzz would ask rustc for, so neither nightly nor
# cargo-fuzz is needed. Usage: run.sh [target...] (default: all), each for
# FUZZ_SECONDS (default 60). A crash ends that target's run, leaves its input
# in tests/fuzz/artifacts/<target>/ and makes the script exit 1 after the
# others; replay it with tests/fuzz/target/<triple>/release/<target> <file>.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${FUZZ_SECONDS:-60}
triple=$(rustc -vV | sed -n 's/^host: //p')
# libfuzzer-sys compiles libFuzzer, which is C++.
if ! command -v c++ >/dev/null && command -v apt-get >/dev/null; then
    apt-get install -y -q g++ >/dev/null
fi

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cd fuzz_targets && ls *.rs | sed 's/\.rs$//')
fi

# Instrumentation only for the target triple: build scripts and proc macros
# (built for the host when --target is given) stay plain.
export RUSTFLAGS="${RUSTFLAGS:-} -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing"
cargo build --release --target "$triple" --bins

status=0
for target in "${targets[@]}"; do
    corpus=corpus/$target
    mkdir -p "$corpus" "artifacts/$target"
    # Seeds: valid encodings of each format (seeds.rs), so runs start past the magic numbers.
    "target/$triple/release/seeds" "$corpus" "$target"
    echo "=== fuzz $target for ${seconds}s"
    if ! "target/$triple/release/$target" "$corpus" -max_total_time="$seconds" -max_len=4096 \
        -artifact_prefix="artifacts/$target/" -print_final_stats=1 2>"artifacts/$target.log"; then
        echo "!!! $target failed: see tests/fuzz/artifacts/$target.log and artifacts/$target/"
        tail -40 "artifacts/$target.log"
        status=1
    else
        grep -E "^stat::number_of_executed_units|^stat::new_units_added" "artifacts/$target.log" | tr '\n' ' ' || true
        echo
    fi
done
exit $status
