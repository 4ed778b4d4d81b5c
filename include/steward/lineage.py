"""The CI safety check on the dbt graph (after GitLab's safe-model check).

- only staging and restricted models read sources (the identified zone);
- special-category data (the `restricted` models) feeds nothing but models whose meta
  names `fairness_monitoring` among their readers: never a model feature, never a release;
- anything analysts can read (models under `release/`) descends from personal data only
  through a risk-gated or aggregated release (`meta.release_gate: true`).
"""

from __future__ import annotations

from typing import Any

ANALYST_FOLDER = "release"
FAIRNESS = "fairness_monitoring"


def _models(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        uid: node
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model"
        and node["package_name"] == manifest["metadata"].get("project_name", node["package_name"])
    }


def _folder(node: dict[str, Any]) -> str:
    parts = node["original_file_path"].split("/")
    return parts[1] if len(parts) > 2 else ""


def _ancestors(uid: str, models: dict[str, dict[str, Any]]) -> set[str]:
    seen: set[str] = set()
    stack = [uid]
    while stack:
        for parent in models[stack.pop()]["depends_on"]["nodes"]:
            if parent not in seen:
                seen.add(parent)
                if parent in models:
                    stack.append(parent)
    return seen


def problems(manifest: dict[str, Any]) -> list[str]:
    models = _models(manifest)
    sources = manifest["sources"]
    found = []
    for uid, node in sorted(models.items()):
        name, folder = node["name"], _folder(node)
        meta = node.get("meta") or node.get("config", {}).get("meta") or {}
        parents = node["depends_on"]["nodes"]
        reads_source = [p for p in parents if p.startswith("source.")]
        if reads_source and folder not in {"staging", "restricted"}:
            found.append(
                f"{name}: reads the identified zone directly ({', '.join(reads_source)}); only staging may"
            )
        ancestors = _ancestors(uid, models)
        restricted = sorted(
            models[a]["name"]
            for a in ancestors
            if a in models and _folder(models[a]) == "restricted"
        )
        if restricted and FAIRNESS not in (meta.get("readers") or []):
            found.append(
                f"{name}: selects from special-category data ({', '.join(restricted)}) but is not a fairness-monitoring model"
            )
        if folder == ANALYST_FOLDER:
            personal = [
                a
                for a in ancestors
                if a in sources and sources[a].get("meta", {}).get("sensitivity") != "none"
            ]
            if personal and not meta.get("release_gate"):
                found.append(f"{name}: analysts could read personal data without the release gate")
            if restricted:
                found.append(f"{name}: a release must never descend from special-category data")
    return found
