#!/usr/bin/env bash
# make bench-ivf: IVF lists over codes with an exact rerank, measured in memory
# (bench/ivf_prototype.rs) on GloVe-50, Fashion-MNIST and, when
# bench/sentences.py has made them, MiniLM sentence embeddings, before pages
# hold them. Writes bench/results/ivf_prototype.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/setup.sh
cargo build --release --features pg15 --example ivf_prototype
source bench/raw_datasets.sh
run=./target/release/examples/ivf_prototype

out=bench/results/ivf_prototype.md
{
    echo "## Design measurement: IVF lists over codes with an exact rerank (in memory)"
    echo
    echo "Written by \`make bench-ivf\` (bench/ivf_prototype.rs) on $(date -u +%Y-%m-%d), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores."
    echo "Centers trained by k-means (k-means++ seeds, at most 12 Lloyd iterations) on 50 rows per list"
    echo "(at least 10,000); each row coded as its residual from its list's center. Per query (500"
    echo "held-out): recall@10 against brute force, rows estimated from codes, rows measured exactly by"
    echo "the rerank (in order of their bounds, until no bound is below the k-th exact distance), and"
    echo "the KB of codes read. 'bound broken' counts rows whose bound exceeded their exact distance."
    echo
    echo "### GloVe-50: 100,000 vectors, cosine, 316 lists"
    echo
    "$run" "$data/glove.base.f32" "$data/glove.queries.f32" 50 cosine 316 1 4 8 16 32 64
    echo
    echo "### Fashion-MNIST: 60,000 vectors x 784, L2, 245 lists"
    echo
    "$run" "$data/fmnist.base.f32" "$data/fmnist.queries.f32" 784 l2 245 1 2 4 8 16 32
    sentences=$(ls -d bench/data/minilm-*/ 2>/dev/null | head -1)
    if [ -n "$sentences" ] && [ -s "$sentences/base.f32" ]; then
        echo
        echo "### MiniLM-L6 sentence embeddings ($(basename "$sentences")): 384-d, cosine, 245 lists"
        echo
        "$run" "$sentences/base.f32" "$sentences/queries.f32" 384 cosine 245 1 4 8 16 32 64
    fi
} > "$out.tmp"
mv "$out.tmp" "$out"
echo "bench-ivf: wrote $out"
