"""The library: the Chroma store, its keyword index, embeddings and finding documents."""
