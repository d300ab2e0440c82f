# Source this: the raw float32 rows the in-memory prototypes read, made once
# in target/datasets/raw (GloVe-50's first 100,000 vectors and its queries,
# Fashion-MNIST's 60,000 training images and 1,000 test images).
data=target/datasets/raw
mkdir -p "$data" bench/results
datasets=tests/lib/datasets.py
[ -s "$data/glove.base.f32" ] || python3 "$datasets" glove base --count 100000 --raw > "$data/glove.base.f32"
[ -s "$data/glove.queries.f32" ] || python3 "$datasets" glove queries --raw > "$data/glove.queries.f32"
[ -s "$data/fmnist.base.f32" ] || python3 "$datasets" fashion-mnist base --raw > "$data/fmnist.base.f32"
[ -s "$data/fmnist.queries.f32" ] || python3 "$datasets" fashion-mnist queries --count 1000 --raw > "$data/fmnist.queries.f32"
