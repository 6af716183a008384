"""What one Flux Kustomization builds, read statically from its `spec.path` in the repository.

kustomize-controller builds the path's kustomization file, or, when there is none, one it
generates: every YAML file below the path, and every subdirectory that has its own
kustomization file (not descended into). The result tells which files hold the objects the
Kustomization applies (resource files, with the namespace kustomize gives them), and which other
files shape them (kustomization files, patches, generator inputs): a child app declared in a
resource file depends on the latter, never on its siblings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.core.paths import is_under, join_inside, parent_dir
from bot.core.render.flux.objects import excluded
from bot.core.render.kustomization import (
    KUSTOMIZATION_FILES,
    find_kustomization,
    scan_kustomization,
)
from bot.core.tree_view import YAML_SUFFIXES, TreeView
from bot.model.finding import Finding

_RESOURCE_FIELDS = ("resources", "bases", "components")
# A kustomization with nothing but these only lists objects: it builds them as written.
_LISTING_KEYS = frozenset({"apiVersion", "kind", "metadata", "resources", "bases", "sortOptions"})


@dataclass(frozen=True, slots=True)
class BuildLayout:
    directory: str
    kustomization_file: str | None  # None: Flux generates one listing `generated`
    generated: tuple[str, ...]  # entries of the generated kustomization, relative to directory
    resource_files: Mapping[str, str]  # file -> the namespace kustomize sets ("" none)
    input_files: frozenset[str]
    findings: tuple[Finding, ...]
    # Every kustomization of the build only lists resources: the objects come out as written.
    transparent: bool = False

    @property
    def config_files(self) -> frozenset[str]:
        """Inputs that are not resource files: what shapes the objects, not the objects."""
        return self.input_files - self.resource_files.keys()


def _body(path: str, view: TreeView) -> Mapping[str, Any]:
    load = view.load_yaml(path)
    data = load.documents[0].data if load.documents else None
    return data if isinstance(data, Mapping) else {}


def _walk_resources(
    kfile: str, outer_namespace: str, view: TreeView, found: dict[str, str], seen: set[str]
) -> None:
    """Resource files reachable through `resources`/`bases`/`components`. kustomize's
    namespace transformer runs outermost last, so the outermost non-empty namespace wins."""
    if kfile in seen:
        return
    seen.add(kfile)
    body = _body(kfile, view)
    namespace = outer_namespace or str(body.get("namespace") or "")
    directory = parent_dir(kfile)
    for field in _RESOURCE_FIELDS:
        entries = body.get(field)
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, str):
                continue
            local = join_inside(directory, entry)
            real, _problem = view.resolve(local) if local is not None else (None, None)
            if real is None:
                continue
            if view.exists(real):
                found.setdefault(real, namespace)
            elif view.is_dir(real):
                child = find_kustomization(real, view)
                if child is not None:
                    _walk_resources(child, namespace, view, found, seen)


def _generated_entries(
    directory: str, view: TreeView, ignore: Iterable[str]
) -> tuple[list[str], list[str]]:
    """(YAML files, subdirectories with a kustomization file) Flux lists for `directory`."""
    files: list[str] = []
    kdirs: list[str] = []
    candidates = sorted(p for p in view.entries if is_under(p, directory) and p != directory)
    for path in candidates:
        if excluded(path, ignore):
            continue
        if any(is_under(path, k) for k in kdirs):
            continue
        owner = _kustomization_dir_between(parent_dir(path), directory, view)
        if owner is not None:
            if owner not in kdirs:
                kdirs.append(owner)
            continue
        if path.endswith(YAML_SUFFIXES):
            files.append(path)
    return files, kdirs


def _kustomization_dir_between(start: str, root: str, view: TreeView) -> str | None:
    """The highest directory strictly below `root` (up to `start`) with a kustomization."""
    chain: list[str] = []
    current = start
    while current != root and is_under(current, root):
        chain.append(current)
        current = parent_dir(current)
    for directory in reversed(chain):
        if any(view.exists(f"{directory}/{name}") for name in KUSTOMIZATION_FILES):
            return directory
    return None


def _relative(path: str, directory: str) -> str:
    return "./" + (path[len(directory) + 1 :] if directory else path)


def kustomize_namespaces(view: TreeView, ignore: Iterable[str]) -> dict[str, set[str]]:
    """For every resource file some kustomization of the repository lists: the namespaces
    kustomize gives it (objects outside any Flux Kustomization still get theirs)."""
    found: dict[str, set[str]] = {}
    for path in view.entries:
        if path.rsplit("/", 1)[-1] not in KUSTOMIZATION_FILES or excluded(path, ignore):
            continue
        resources: dict[str, str] = {}
        _walk_resources(path, "", view, resources, set())
        for resource, namespace in resources.items():
            if namespace:
                found.setdefault(resource, set()).add(namespace)
    return found


def scan_layout(
    directory: str,
    target_namespace: str,
    components: Iterable[str],
    view: TreeView,
    ignore: Iterable[str],
) -> BuildLayout:
    components = tuple(components)
    kfile = find_kustomization(directory, view)
    inputs: set[str] = set()
    findings: list[Finding] = []
    resources: dict[str, str] = {}
    generated: list[str] = []
    roots: list[str] = []
    if kfile is not None:
        roots.append(kfile)
    else:
        files, kdirs = _generated_entries(directory, view, ignore)
        for path in files:
            resources.setdefault(path, target_namespace)
            inputs.add(path)
        for kdir in kdirs:
            child = find_kustomization(kdir, view)
            if child is not None:
                roots.append(child)
        generated = sorted(_relative(p, directory) for p in [*files, *kdirs])
    for component in components:
        local = join_inside(directory, component)
        child = find_kustomization(local, view) if local is not None else None
        if child is not None:
            roots.append(child)
    seen: set[str] = set()
    for root in roots:
        scan = scan_kustomization(root, view)
        inputs.update(scan.input_files)
        findings.extend(scan.findings)
        _walk_resources(root, target_namespace, view, resources, seen)
    transparent = not target_namespace and all(
        set(_body(kfile, view)) <= _LISTING_KEYS and not _body(kfile, view).get("components")
        for kfile in seen
    )
    return BuildLayout(
        directory=directory,
        kustomization_file=kfile,
        generated=tuple(generated),
        resource_files=resources,
        input_files=frozenset(inputs),
        findings=tuple(findings),
        transparent=transparent and not components,
    )
