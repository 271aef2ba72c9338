"""The compiled engine: the hot modules built by mypyc, used only while they match their sources.

The modules of ``MODULES`` are plain Python; ``python -m latsim.native_build build`` (``make`` runs it
after installing) compiles them, as they are, with mypyc into a cache of the environment
(``sys.prefix/share/latsim/native``) with a manifest of the sources' SHA-256. ``install()`` (called
by ``latsim/__init__.py``) puts a finder in front of the import system that loads a compiled module
instead of its source only when every compiled source is byte-identical to the one beside it:
an edited ``.py`` is never shadowed by an older build, and a tree without a build, or
``LATSIM_NATIVE=0``, runs the pure-Python modules. Both give byte-identical results
(``tests/test_native.py``).

The extension modules are never written beside the sources (``pip install -e`` would: then an
edited module would be silently ignored), and nothing in the build is executed from the scenario.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

# (hashlib, importlib.util, shutil, subprocess, tempfile: imported where used; `latsim --help`
# imports this module)

# the modules a request's life runs through (benchmarks/README.md, "A compiled build")
MODULES = ("latsim.engine.simulation", "latsim.engine.calls", "latsim.engine.fastpath", "latsim.engine.target",
           "latsim.engine.health", "latsim.engine.feed",
           "latsim.metrics.recorder")
PACKAGE = Path(__file__).resolve().parent  # the latsim package these sources are in


def cache_dir() -> Path:
    return Path(sys.prefix) / "share" / "latsim" / "native"


def module_path(module: str) -> Path:
    """A module's source file, relative to the directory that holds the ``latsim`` package."""
    return Path(*module.split(".")).with_suffix(".py")


def source(module: str) -> Path:
    return PACKAGE.parent / module_path(module)


def _manifest() -> dict[str, Any] | None:
    """The environment's build manifest (None: no build, or not one)."""
    try:
        manifest = json.loads((cache_dir() / "manifest.json").read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        return None
    return manifest


def digest(path: Path) -> str:
    import hashlib
    return hashlib.sha256(path.read_bytes()).hexdigest()


class _Finder:
    """Finds the compiled modules of a manifest (and mypyc's shared library of them), once it has
    checked that every compiled source is the one beside it; else it finds nothing."""

    def __init__(self, root: Path, manifest: dict[str, Any]) -> None:
        self.root = root
        self.manifest = manifest
        self.files: dict[str, Path] = {}
        self.checked = False

    def _check(self) -> None:
        self.checked = True
        m = self.manifest
        try:
            if m.get("python") != sys.version or sorted(m["sources"]) != sorted(MODULES):
                return
            if any(digest(source(name)) != sha for name, sha in m["sources"].items()):
                return  # a source changed since the build: the pure-Python modules
            files = {name: self.root / rel for name, rel in m["files"].items()}
        except (OSError, KeyError, TypeError, AttributeError):
            return
        if all(f.is_file() for f in files.values()):
            self.files = files

    def usable(self) -> bool:
        """Whether this build is of the sources beside it (and so is used)."""
        if not self.checked:
            self._check()
        return bool(self.files)

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name not in self.manifest.get("files", ()):
            return None
        if not self.checked:
            self._check()
        f = self.files.get(name)
        if f is None:
            return None
        import importlib.util
        return importlib.util.spec_from_file_location(name, f)

    def invalidate_caches(self) -> None:
        pass


_finder: _Finder | None = None


def install() -> None:
    """Load the compiled modules where a build of these very sources exists (see the module's
    docstring); a stat when there is none."""
    global _finder
    if _finder is not None or os.environ.get("LATSIM_NATIVE", "1") == "0":
        return
    manifest = _manifest()
    if manifest is None:
        return
    _finder = _Finder(cache_dir(), manifest)
    sys.meta_path.insert(0, _finder)


def compiled() -> list[str]:
    """The modules of ``MODULES`` that are loaded compiled (imports them)."""
    import importlib
    for name in MODULES:
        importlib.import_module(name)
    return [name for name in MODULES if not str(getattr(sys.modules[name], "__file__", "")).endswith(".py")]


def current() -> bool:
    """Whether the environment's build is of these very sources (``native_build build --if-stale``)."""
    manifest = _manifest()
    return manifest is not None and _Finder(cache_dir(), manifest).usable()


def in_use() -> bool:
    """Whether this process loads the compiled modules (a build of these very sources, and
    ``LATSIM_NATIVE`` not 0)."""
    return _finder is not None and _finder.usable()


def describe() -> str:
    """What runs the engine, for the benchmarks' headers."""
    if in_use():
        return "the engine's hot modules compiled by mypyc (latsim/native.py)"
    return "the engine as pure Python (LATSIM_NATIVE=0, or no build of these sources: make native)"

