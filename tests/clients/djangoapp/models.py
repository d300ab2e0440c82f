from django.db import models
from pgvector.django import BitField, HalfVectorField, HnswIndex, SparseVectorField, VectorField


class Item(models.Model):
    embedding = VectorField(dimensions=8)
    half = HalfVectorField(dimensions=8)
    sparse = SparseVectorField(dimensions=8)
    bits = BitField(length=8)

    class Meta:
        app_label = "djangoapp"
        indexes = [
            HnswIndex(name="item_embedding_hnsw", fields=["embedding"], m=16, ef_construction=64,
                      opclasses=["vector_cosine_ops"]),
        ]
