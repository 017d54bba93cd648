"""Layer paths of a layer tree as the worker reports it (LayerNode dicts)."""

from __future__ import annotations


def all_layer_paths(nodes: list[dict]) -> list[str]:
    """Every layer path of a layer tree, depth first."""
    found = []
    for node in nodes:
        found.append(node["path"])
        found += all_layer_paths(node.get("children") or [])
    return found
