"""Exploring a set of feature vectors: a 2-D map, nearest neighbours, near-duplicates and
the least typical images. Light package: numpy only at module level; umap-learn, openTSNE,
faiss and scikit-learn are imported inside the functions that need them (on the worker).
"""
