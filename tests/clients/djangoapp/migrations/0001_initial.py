# As `makemigrations` writes it, with VectorExtension first (pgvector-python's advice).
from django.db import migrations, models
from pgvector.django import BitField, HalfVectorField, HnswIndex, SparseVectorField, VectorExtension, VectorField


class Migration(migrations.Migration):
    initial = True
    dependencies = []

    operations = [
        VectorExtension(),
        migrations.CreateModel(
            name="Item",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("embedding", VectorField(dimensions=8)),
                ("half", HalfVectorField(dimensions=8)),
                ("sparse", SparseVectorField(dimensions=8)),
                ("bits", BitField(length=8)),
            ],
            options={
                "indexes": [
                    HnswIndex(name="item_embedding_hnsw", fields=["embedding"], m=16, ef_construction=64,
                              opclasses=["vector_cosine_ops"]),
                ],
            },
        ),
    ]
