"""A Django app as a pgvector user writes one: model fields of every type, an
HnswIndex, and a migration whose first step is VectorExtension."""
