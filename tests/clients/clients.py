"""Client libraries and ORMs against Quiver installed as `vector`, each through
pgvector-python's adapters, as an application would use them: psycopg 3 (text,
binary, COPY binary), psycopg2, asyncpg, pg8000, SQLAlchemy 2 (Core and ORM),
SQLModel, Django (fields, HnswIndex, distance expressions, a migration with
VectorExtension) and Peewee.

Each stores the same rows (vector, halfvec, sparsevec and bit columns), reads
them back, measures every distance operator against numpy, creates an hnsw
index the way that client writes it, and runs a kNN query whose plan must be
an index scan and whose answer must be the exact one.

usage: clients.py SOCKET_DIR PORT   (databases clients_* are created there)
"""
import asyncio
import sys

import numpy as np

SOCKET_DIR, PORT = sys.argv[1], int(sys.argv[2])
DIMS, ROWS, K = 8, 2000, 5

rng = np.random.default_rng(7)
DATA = np.round(rng.normal(size=(ROWS, DIMS)), 3).astype(np.float32)
# Half of each sparse row is zero.
SPARSE = np.where(rng.random(size=(ROWS, DIMS)) < 0.5, 0, DATA).astype(np.float32)
BITS = ["".join("1" if x > 0 else "0" for x in row) for row in DATA]
QUERY = np.round(rng.normal(size=DIMS), 3).astype(np.float32)
QUERY_BITS = "".join("1" if x > 0 else "0" for x in QUERY)

import checks
from checks import check, run, summary



# ---- what the answers must be -------------------------------------------------

def dense_distance(op, a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if op == "<->":
        return float(np.linalg.norm(a - b))
    if op == "<#>":
        return float(-a @ b)
    if op == "<+>":
        return float(np.abs(a - b).sum())
    if not (a.any() and b.any()):
        return float("nan")  # no cosine for a zero vector
    return float(1 - a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def bit_distance(op, a, b):
    x, y = np.array([c == "1" for c in a]), np.array([c == "1" for c in b])
    if op == "<~>":
        return float((x != y).sum())
    union = (x | y).sum()
    return float(1 - (x & y).sum() / union) if union else 0.0


def half(v):
    return np.asarray(v, np.float16).astype(np.float32)


def expected(op, row=0, kind="vector"):
    """The distance from row `row` to the query under `op`, for a column kind."""
    if kind == "bit":
        return bit_distance(op, BITS[row], QUERY_BITS)
    if kind == "halfvec":
        return dense_distance(op, half(DATA[row]), half(QUERY))
    if kind == "sparsevec":
        return dense_distance(op, SPARSE[row], QUERY)
    return dense_distance(op, DATA[row], QUERY)


def nearest(op, kind="vector"):
    """The K smallest distances from the query under `op`."""
    return sorted(expected(op, r, kind) for r in range(ROWS))[:K]


def as_array(value):
    """A vector as numpy, whichever form the client returned it in."""
    return value.to_numpy() if hasattr(value, "to_numpy") else np.asarray(value, np.float32)


def bit_text(bits):
    """A bit string as text, whichever form the client returned it in."""
    if isinstance(bits, (bytes, bytearray)):
        # bit's binary form, which psycopg hands over as it came: a length, then the bits
        length = int.from_bytes(bits[:4], "big")
        return "".join("1" if bits[4 + i // 8] & (0x80 >> i % 8) else "0" for i in range(length))
    return bits.to_text() if hasattr(bits, "to_text") else bits


def reads_back(row, embedding, half_value, sparse, bits=None):
    """Whether values read from the database are row `row` as written."""
    bits_text = bit_text(bits)
    return (np.array_equal(as_array(embedding), DATA[row]) and np.array_equal(as_array(half_value), half(DATA[row]))
            and np.array_equal(as_array(sparse), SPARSE[row]) and (bits is None or bits_text == BITS[row]))


def close(a, b, tolerance=1e-4):
    return len(a) == len(b) and all(abs(x - y) <= tolerance * max(1.0, abs(y)) for x, y in zip(a, b))


DENSE_OPS = ["<->", "<#>", "<=>", "<+>"]
BIT_OPS = ["<~>", "<%>"]
ALL_KINDS = [("embedding", "vector", DENSE_OPS), ("half", "halfvec", DENSE_OPS),
             ("sparse", "sparsevec", DENSE_OPS), ("bits", "bit", BIT_OPS)]
TABLE = f"(id int PRIMARY KEY, embedding vector({DIMS}), half halfvec({DIMS}), sparse sparsevec({DIMS}), bits bit({DIMS}))"


# pgvector-python's method for each operator (SQLAlchemy and Peewee name them alike).
METHODS = {"<->": "l2_distance", "<#>": "max_inner_product", "<=>": "cosine_distance", "<+>": "l1_distance",
           "<~>": "hamming_distance", "<%>": "jaccard_distance"}


def operand(kind, bits=None):
    """The query as pgvector-python's value for a column kind; for bit, `bits`
    if the client has a type for it, else the text."""
    from pgvector import HalfVector, SparseVector
    return {"vector": QUERY, "halfvec": HalfVector(QUERY), "sparsevec": SparseVector(QUERY)}.get(kind, bits or QUERY_BITS)


def check_distances(client, measure, kinds=ALL_KINDS, name=lambda op: op):
    """measure(column, kind, op): the client's distance from row 0 to the query."""
    for column, kind, ops in kinds:
        got = [measure(column, kind, op) for op in ops]
        want = [expected(op, 0, kind) for op in ops]
        check(f"{client}: {kind} {' '.join(name(op) for op in ops)} as numpy computes them", close(got, want, 1e-3),
              f"{got} vs {want}")


def conninfo(db):
    return f"host={SOCKET_DIR} port={PORT} user=postgres dbname={db}"


def create_database(db):
    checks.create_database(SOCKET_DIR, PORT, db)


def knn_checks(what, explain_lines, distances, op, kind="vector"):
    plan = "\n".join(explain_lines)
    check(f"{what}: the kNN query ({kind} {op}) is an index scan", "Index Scan" in plan, plan)
    check(f"{what}: the kNN query ({kind} {op}) returns the exact {K} nearest", close(distances, nearest(op, kind)),
          f"{distances} vs {nearest(op, kind)}")


# ---- psycopg 3 ---------------------------------------------------------------------

def test_psycopg():
    import psycopg
    from pgvector import Bit, HalfVector, SparseVector
    from pgvector.psycopg import register_vector

    create_database("clients_psycopg")
    with psycopg.connect(conninfo("clients_psycopg"), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        register_vector(conn)
        conn.execute(f"CREATE TABLE items {TABLE}")
        # Text parameters for the first half, COPY in binary for the rest.
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO items VALUES (%s, %s, %s, %s, %s)",
                            [(i, DATA[i], HalfVector(DATA[i]), SparseVector(SPARSE[i]), Bit(BITS[i]))
                             for i in range(ROWS // 2)])
            with cur.copy("COPY items FROM STDIN WITH (FORMAT BINARY)") as copy:
                copy.set_types(["int4", "vector", "halfvec", "sparsevec", "bit"])
                for i in range(ROWS // 2, ROWS):
                    copy.write_row((i, DATA[i], HalfVector(DATA[i]), SparseVector(SPARSE[i]), Bit(BITS[i])))
        check("psycopg: rows inserted by parameters and by COPY binary",
              conn.execute("SELECT count(*) FROM items").fetchone()[0] == ROWS)
        for binary in (False, True):
            form = "binary" if binary else "text"
            with conn.cursor(binary=binary) as cur:
                for row in (3, ROWS - 3):
                    cur.execute("SELECT embedding, half, sparse, bits FROM items WHERE id = %s", (row,))
                    embedding, half_value, sparse, bits = cur.fetchone()
                    check(f"psycopg ({form}): row {row} reads back as written",
                          reads_back(row, embedding, half_value, sparse, bits))
                # `%` in an operator is written `%%` beside psycopg's placeholders.
                check_distances(f"psycopg ({form})", lambda column, kind, op: cur.execute(
                    f"SELECT {column} {op.replace('%', '%%')} %s FROM items WHERE id = 0",
                    (operand(kind, Bit(QUERY_BITS)),)).fetchone()[0])
        conn.execute("ANALYZE items")
        for column, kind, op, opclass in [("embedding", "vector", "<=>", "vector_cosine_ops"),
                                          ("half", "halfvec", "<->", "halfvec_l2_ops"),
                                          ("sparse", "sparsevec", "<#>", "sparsevec_ip_ops"),
                                          ("bits", "bit", "<~>", "bit_hamming_ops")]:
            conn.execute(f"CREATE INDEX ON items USING hnsw ({column} {opclass})")
            query_value = operand(kind, Bit(QUERY_BITS))
            query = f"SELECT {column} {op} %s FROM items ORDER BY {column} {op} %s LIMIT {K}"
            conn.execute("SET hnsw.ef_search = 200")
            # 2,000 rows of 8 bits are cheaper sorted, and the planner knows it;
            # here the index must serve the query when asked to.
            conn.execute(f"SET enable_seqscan = {'off' if kind == 'bit' else 'on'}")
            plan = [r[0] for r in conn.execute("EXPLAIN " + query, (query_value, query_value))]
            distances = [r[0] for r in conn.execute(query, (query_value, query_value))]
            if kind == "bit":
                # Hamming distances tie: compare the distances, not the rows.
                distances = sorted(distances)
            knn_checks("psycopg", plan, distances, op, kind)


# ---- psycopg2 -------------------------------------------------------------------------

def test_psycopg2():
    import psycopg2
    from pgvector import HalfVector, SparseVector
    from pgvector.psycopg2 import register_vector

    create_database("clients_psycopg2")
    conn = psycopg2.connect(conninfo("clients_psycopg2"))
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("CREATE EXTENSION IF NOT EXISTS vector")
    register_vector(conn)
    cur.execute(f"CREATE TABLE items {TABLE}")
    cur.executemany("INSERT INTO items VALUES (%s, %s, %s, %s, %s)",
                    [(i, DATA[i], HalfVector(DATA[i]), SparseVector(SPARSE[i]), BITS[i]) for i in range(ROWS)])
    cur.execute("SELECT embedding, half, sparse FROM items WHERE id = 5")
    embedding, half_value, sparse = cur.fetchone()
    check("psycopg2: a row reads back as written", reads_back(5, embedding, half_value, sparse))
    def measure(column, kind, op):
        cast = "::bit(8)" if kind == "bit" else ""
        cur.execute(f"SELECT {column} {op.replace('%', '%%')} %s{cast} FROM items WHERE id = 0", (operand(kind),))
        return cur.fetchone()[0]

    check_distances("psycopg2", measure)
    cur.execute("CREATE INDEX ON items USING hnsw (embedding vector_l2_ops) WITH (m = 16, ef_construction = 64)")
    cur.execute("ANALYZE items")
    cur.execute("SET hnsw.ef_search = 200")
    query = f"SELECT embedding <-> %s FROM items ORDER BY embedding <-> %s LIMIT {K}"
    cur.execute("EXPLAIN " + query, (QUERY, QUERY))
    plan = [r[0] for r in cur.fetchall()]
    cur.execute(query, (QUERY, QUERY))
    knn_checks("psycopg2", plan, [r[0] for r in cur.fetchall()], "<->")
    conn.close()


# ---- asyncpg (binary protocol throughout) ---------------------------------------------

def test_asyncpg():
    import asyncpg
    from pgvector import HalfVector, SparseVector
    from pgvector.asyncpg import register_vector

    create_database("clients_asyncpg")

    async def main():
        conn = await asyncpg.connect(host=SOCKET_DIR, port=PORT, user="postgres", database="clients_asyncpg")
        await conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        await register_vector(conn)
        await conn.execute(f"CREATE TABLE items {TABLE}")
        await conn.executemany("INSERT INTO items VALUES ($1, $2, $3, $4, $5::text::bit(8))",
                               [(i, DATA[i], HalfVector(DATA[i]), SparseVector(SPARSE[i]), BITS[i]) for i in range(ROWS)])
        row = await conn.fetchrow("SELECT embedding, half, sparse FROM items WHERE id = 7")
        check("asyncpg (binary): a row reads back as written", reads_back(7, row["embedding"], row["half"], row["sparse"]))
        measured = {}
        for column, kind, ops in ALL_KINDS:
            cast = "::text::bit(8)" if kind == "bit" else ""
            for op in ops:
                measured[column, op] = await conn.fetchval(f"SELECT {column} {op} $1{cast} FROM items WHERE id = 0",
                                                           operand(kind))
        check_distances("asyncpg", lambda column, kind, op: measured[column, op])
        await conn.execute("CREATE INDEX ON items USING hnsw (half halfvec_cosine_ops)")
        await conn.execute("ANALYZE items")
        await conn.execute("SET hnsw.ef_search = 200")
        query = f"SELECT half <=> $1 AS d FROM items ORDER BY half <=> $1 LIMIT {K}"
        plan = [r[0] for r in await conn.fetch("EXPLAIN " + query, HalfVector(QUERY))]
        distances = [r["d"] for r in await conn.fetch(query, HalfVector(QUERY))]
        knn_checks("asyncpg", plan, distances, "<=>", "halfvec")
        await conn.close()

    asyncio.run(main())


# ---- pg8000 ---------------------------------------------------------------------------

def test_pg8000():
    import pg8000.native
    from pgvector import HalfVector, SparseVector
    from pgvector.pg8000 import register_vector

    create_database("clients_pg8000")
    conn = pg8000.native.Connection("postgres", unix_sock=f"{SOCKET_DIR}/.s.PGSQL.{PORT}", database="clients_pg8000")
    conn.run("CREATE EXTENSION IF NOT EXISTS vector")
    register_vector(conn)
    conn.run(f"CREATE TABLE items {TABLE}")
    for i in range(ROWS):
        conn.run("INSERT INTO items VALUES (:id, :e, :h, :s, :b::bit(8))", id=i, e=DATA[i], h=HalfVector(DATA[i]),
                 s=SparseVector(SPARSE[i]), b=BITS[i])
    embedding, half_value, sparse = conn.run("SELECT embedding, half, sparse FROM items WHERE id = 9")[0]
    check("pg8000: a row reads back as written", reads_back(9, embedding, half_value, sparse))
    check_distances("pg8000", lambda column, kind, op: conn.run(
        f"SELECT {column} {op} :q{'::bit(8)' if kind == 'bit' else ''} FROM items WHERE id = 0", q=operand(kind))[0][0])
    conn.run("CREATE INDEX ON items USING hnsw (sparse sparsevec_l2_ops)")
    conn.run("ANALYZE items")
    conn.run("SET hnsw.ef_search = 200")
    query = f"SELECT sparse <-> :q FROM items ORDER BY sparse <-> :q LIMIT {K}"
    plan = [r[0] for r in conn.run("EXPLAIN " + query, q=SparseVector(QUERY))]
    distances = [r[0] for r in conn.run(query, q=SparseVector(QUERY))]
    knn_checks("pg8000", plan, distances, "<->", "sparsevec")
    conn.close()


# ---- SQLAlchemy 2: Core and ORM ---------------------------------------------------------

def sqlalchemy_engine(db):
    from sqlalchemy import create_engine
    return create_engine(f"postgresql+psycopg://postgres@/{db}?host={SOCKET_DIR}&port={PORT}")


def sqlalchemy_explain(conn, stmt):
    """The plan of the SQL SQLAlchemy writes for `stmt`, its values inlined as literals."""
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
    return [r[0] for r in conn.exec_driver_sql("EXPLAIN " + str(compiled))]


def test_sqlalchemy():
    from pgvector import SparseVector
    from pgvector.sqlalchemy import BIT, HALFVEC, SPARSEVEC, VECTOR
    from sqlalchemy import Index, Integer, select, text
    from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

    create_database("clients_sqlalchemy")
    engine = sqlalchemy_engine("clients_sqlalchemy")
    with engine.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS vector"))

    class Base(DeclarativeBase):
        pass

    class Item(Base):
        __tablename__ = "items"
        id: Mapped[int] = mapped_column(Integer, primary_key=True)
        embedding = mapped_column(VECTOR(DIMS))
        half = mapped_column(HALFVEC(DIMS))
        sparse = mapped_column(SPARSEVEC(DIMS))
        bits = mapped_column(BIT(DIMS))

    Index("items_embedding_hnsw", Item.embedding, postgresql_using="hnsw",
          postgresql_with={"m": 16, "ef_construction": 64}, postgresql_ops={"embedding": "vector_ip_ops"})
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all([Item(id=i, embedding=DATA[i], half=DATA[i], sparse=SparseVector(SPARSE[i]), bits=BITS[i])
                         for i in range(ROWS)])
        session.commit()
        item = session.get(Item, 11)
        check("SQLAlchemy ORM: a row reads back as written", reads_back(11, item.embedding, item.half, item.sparse, item.bits))
        check_distances("SQLAlchemy ORM", lambda column, kind, op: session.scalar(
            select(getattr(getattr(Item, column), METHODS[op])(operand(kind))).where(Item.id == 0)), name=METHODS.get)
    with engine.connect() as conn:
        conn.execute(text("ANALYZE items"))
        conn.execute(text("SET hnsw.ef_search = 200"))
        # Core, on the table behind the ORM class.
        items = Item.__table__
        distance = items.c.embedding.max_inner_product(QUERY)
        stmt = select(distance).order_by(distance).limit(K)
        knn_checks("SQLAlchemy Core", sqlalchemy_explain(conn, stmt), list(conn.scalars(stmt)), "<#>")
    with Session(engine) as session:
        session.execute(text("SET hnsw.ef_search = 200"))
        distance = Item.embedding.max_inner_product(QUERY)
        stmt = select(Item, distance).order_by(distance).limit(K)
        plan = sqlalchemy_explain(session.connection(), stmt)
        knn_checks("SQLAlchemy ORM", plan, [d for _, d in session.execute(stmt)], "<#>")
        # Ordered by a similarity, highest first, as ORMs and dashboards write it.
        similarity = Item.embedding.max_inner_product(QUERY) * -1
        stmt = select(similarity).order_by(similarity.desc()).limit(K)
        knn_checks("SQLAlchemy ORM, by similarity DESC", sqlalchemy_explain(session.connection(), stmt),
                   [-s for s in session.scalars(stmt)], "<#>")
    engine.dispose()


# ---- SQLModel ------------------------------------------------------------------------

def test_sqlmodel():
    from pgvector.sqlalchemy import VECTOR
    from sqlalchemy import Column, Index, text
    from sqlmodel import Field, Session, SQLModel, select

    create_database("clients_sqlmodel")
    engine = sqlalchemy_engine("clients_sqlmodel")
    with engine.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS vector"))

    class Document(SQLModel, table=True):
        id: int = Field(primary_key=True)
        embedding: list = Field(sa_column=Column(VECTOR(DIMS)))

    Index("document_embedding_hnsw", Document.__table__.c.embedding, postgresql_using="hnsw",
          postgresql_ops={"embedding": "vector_l1_ops"})
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        for i in range(ROWS):
            session.add(Document(id=i, embedding=DATA[i]))
        session.commit()
        check("SQLModel: a row reads back as written", np.array_equal(as_array(session.get(Document, 13).embedding), DATA[13]))
        session.exec(text("ANALYZE document"))
        session.exec(text("SET hnsw.ef_search = 200"))
        distance = Document.embedding.l1_distance(QUERY)
        stmt = select(Document.id, distance).order_by(distance).limit(K)
        plan = sqlalchemy_explain(session.connection(), stmt)
        knn_checks("SQLModel", plan, [d for _, d in session.exec(stmt)], "<+>")
    engine.dispose()


# ---- Django: fields, a migration with VectorExtension, HnswIndex, distance expressions ----

def test_django():
    import django
    from django.conf import settings

    # The database has no extension: the app's migration creates it.
    create_database("clients_django")
    settings.configure(
        DATABASES={"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "clients_django",
                               "USER": "postgres", "HOST": SOCKET_DIR, "PORT": str(PORT)}},
        INSTALLED_APPS=["djangoapp"],
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        USE_TZ=True,
    )
    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from djangoapp.models import Item
    from pgvector import HalfVector, SparseVector
    from pgvector.django import (CosineDistance, HammingDistance, JaccardDistance, L1Distance, L2Distance,
                                 MaxInnerProduct)

    call_command("migrate", "djangoapp", verbosity=0)
    with connection.cursor() as cur:
        cur.execute("SELECT extname, obj_description(oid, 'pg_extension') FROM pg_extension WHERE extname = 'vector'")
        found = cur.fetchone()
        cur.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'djangoapp_item' AND indexdef LIKE '%hnsw%'")
        indexdefs = [r[0] for r in cur.fetchall()]
    check("Django: the migration's VectorExtension created Quiver as vector", bool(found) and "Quiver" in (found[1] or ""),
          str(found))
    check("Django: the migration created the HnswIndex", any("vector_cosine_ops" in d and "m='16'" in d for d in indexdefs),
          str(indexdefs))
    Item.objects.bulk_create([Item(id=i, embedding=DATA[i], half=HalfVector(DATA[i]), sparse=SparseVector(SPARSE[i]),
                                   bits=BITS[i]) for i in range(ROWS)])
    item = Item.objects.get(id=17)
    check("Django: a row reads back as written", reads_back(17, item.embedding, item.half, item.sparse, item.bits))
    functions = {"<->": L2Distance, "<#>": MaxInnerProduct, "<=>": CosineDistance, "<+>": L1Distance,
                 "<~>": HammingDistance, "<%>": JaccardDistance}
    check_distances("Django", lambda column, kind, op: Item.objects.filter(id=0).annotate(
        d=functions[op](column, operand(kind))).values_list("d", flat=True)[0], name=lambda op: functions[op].__name__)
    with connection.cursor() as cur:
        cur.execute("ANALYZE djangoapp_item")
        cur.execute("SET hnsw.ef_search = 200")
    nearest_items = Item.objects.annotate(d=CosineDistance("embedding", QUERY)).order_by("d")[:K]
    plan = nearest_items.explain().splitlines()
    knn_checks("Django", plan, [i.d for i in nearest_items], "<=>")
    most_similar = Item.objects.annotate(similarity=1 - CosineDistance("embedding", QUERY)).order_by("-similarity")[:K]
    knn_checks("Django, by similarity DESC", most_similar.explain().splitlines(), [1 - i.similarity for i in most_similar],
               "<=>")
    connection.close()


# ---- Peewee -----------------------------------------------------------------------------

def test_peewee():
    from peewee import IntegerField, Model, PostgresqlDatabase
    from pgvector import HalfVector, SparseVector
    from pgvector.peewee import FixedBitField, HalfVectorField, SparseVectorField, VectorField

    create_database("clients_peewee")
    db = PostgresqlDatabase("clients_peewee", host=SOCKET_DIR, port=PORT, user="postgres")
    db.connect()
    db.execute_sql("CREATE EXTENSION IF NOT EXISTS vector")

    class Item(Model):
        id = IntegerField(primary_key=True)
        embedding = VectorField(dimensions=DIMS)
        half = HalfVectorField(dimensions=DIMS)
        sparse = SparseVectorField(dimensions=DIMS)
        bits = FixedBitField(max_length=DIMS)

        class Meta:
            database = db
            table_name = "items"

    Item.add_index("embedding vector_l2_ops", using="hnsw")
    db.create_tables([Item])
    Item.insert_many([{"id": i, "embedding": DATA[i], "half": HalfVector(DATA[i]), "sparse": SparseVector(SPARSE[i]),
                       "bits": BITS[i]} for i in range(ROWS)]).execute()
    item = Item.get_by_id(19)
    check("Peewee: a row reads back as written", reads_back(19, item.embedding, item.half, item.sparse, item.bits))
    check_distances("Peewee", lambda column, kind, op: Item.select(
        getattr(getattr(Item, column), METHODS[op])(operand(kind)).alias("d")).where(Item.id == 0).scalar(), name=METHODS.get)
    db.execute_sql("ANALYZE items")
    db.execute_sql("SET hnsw.ef_search = 200")
    distance = Item.embedding.l2_distance(QUERY)
    query = Item.select(distance.alias("d")).order_by(distance).limit(K)
    sql, params = query.sql()
    plan = [r[0] for r in db.execute_sql("EXPLAIN " + sql, params).fetchall()]
    knn_checks("Peewee", plan, [r.d for r in query], "<->")
    db.close()


def main():
    for name, test in [("psycopg", test_psycopg), ("psycopg2", test_psycopg2), ("asyncpg", test_asyncpg),
                       ("pg8000", test_pg8000), ("SQLAlchemy", test_sqlalchemy), ("SQLModel", test_sqlmodel),
                       ("Django", test_django), ("Peewee", test_peewee)]:
        run(name, test)
    return summary("clients")


if __name__ == "__main__":
    sys.exit(main())
