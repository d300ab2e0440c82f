#!/usr/bin/env bash
# make bench-codes: the walk over codes with an exact rerank, measured in
# memory (bench/codes_prototype.rs) on GloVe-50 and Fashion-MNIST, and on
# MiniLM sentence embeddings when bench/sentences.py has made them. Writes
# bench/results/codes_prototype.md, which make bench copies into BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/setup.sh
cargo build --release --features pg15 --example codes_prototype
source bench/raw_datasets.sh
run=./target/release/examples/codes_prototype

out=bench/results/codes_prototype.md
{
    echo "## Design measurement: a walk over codes with an exact rerank (in memory)"
    echo
    echo "Written by \`make bench-codes\` (bench/codes_prototype.rs) on $(date -u +%Y-%m-%d), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores."
    echo "The graph is built in memory (m = 16, ef_construction = 64); every query's recall@10 is"
    echo "against brute force. Per query: distances estimated from codes, distances measured on"
    echo "whole vectors, neighbor lists read, and what each page layout would touch (page accesses"
    echo "and KB): today's (every measured node's element read whole), codes stored in each element"
    echo "beside its vector, or each neighbor list carrying its neighbors' codes."
    echo
    cat <<'READING'
How to read them (as measured on 2026-11-26):
- 8-bit codes (a level per dimension over the sample's range, and the residual's norm) walk
  as well as whole vectors: recall equals today's at every ef_search on all three datasets.
  Their error bound is tight, so "rerank bounded" measures about k = 10-13 whole vectors per
  query whatever ef_search is.
- 4-bit codes lose recall at low ef_search on GloVe-50 and MiniLM unless the beam widens by
  half; their bound is loose (about ef whole vectors measured).
- 1-bit codes cannot walk GloVe-50 (recall 0.51 at ef_search 40). At 384 and 784 dimensions
  they need about twice the beam, and their bound (probabilistic) drops true neighbors, so
  everything found must be measured.
- Codes in the elements cut the bytes a query touches 3-4x (8-bit) but not its page accesses,
  for 11-23% more index. Codes in the neighbor lists cut page accesses 8-17x, at 2x the index
  (1-bit, 384-d and up) to 4.8x (8-bit, GloVe-50).
READING
    echo
    echo "### GloVe-50: 100,000 vectors, cosine, 1,000 held-out queries"
    echo
    "$run" "$data/glove.base.f32" "$data/glove.queries.f32" 50 cosine 10 20 40 80 160
    echo
    echo "### Fashion-MNIST: 60,000 vectors x 784, L2, 1,000 test images"
    echo
    "$run" "$data/fmnist.base.f32" "$data/fmnist.queries.f32" 784 l2 10 20 40 80
    sentences=$(ls -d bench/data/minilm-*/ 2>/dev/null | head -1)
    if [ -n "$sentences" ] && [ -s "$sentences/base.f32" ]; then
        echo
        echo "### MiniLM-L6 sentence embeddings ($(basename "$sentences")): 384-d, cosine, held-out queries"
        echo
        "$run" "$sentences/base.f32" "$sentences/queries.f32" 384 cosine 10 20 40 80 160
    fi
} > "$out.tmp"
mv "$out.tmp" "$out"
echo "bench-codes: wrote $out"
