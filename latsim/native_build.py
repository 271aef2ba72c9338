"""``python -m latsim.native_build build|status|clean``: compile the engine's hot modules with mypyc
into the environment's cache that ``latsim.native`` loads them from (``make`` runs ``build`` after
installing). Kept apart from ``latsim.native``, which every ``latsim`` command imports."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from latsim.native import MODULES, PACKAGE, cache_dir, compiled, current, digest, module_path


def build() -> int:
    """Compile ``MODULES`` with mypyc into ``cache_dir()``: 0 when built, 1 when it could not be
    (no mypyc, no C compiler: latsim then runs as pure Python, which it says)."""
    import importlib.util
    if importlib.util.find_spec("mypyc") is None:  # (the dev extra's mypy brings it)
        print("latsim.native: mypyc is not installed (pip install mypy): the engine runs as pure Python",
              file=sys.stderr)
        return 1
    root = cache_dir()
    with tempfile.TemporaryDirectory(prefix="latsim-native-") as tmp:
        work = Path(tmp)
        shutil.copytree(PACKAGE, work / "latsim",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.so"))
        (work / "mypy.ini").write_text("[mypy]\nignore_missing_imports = True\n")
        files = [str(module_path(name)) for name in MODULES]
        env = dict(os.environ, PYTHONPATH=str(work), MYPYC_OPT_LEVEL=os.environ.get("MYPYC_OPT_LEVEL", "3"))
        proc = subprocess.run([sys.executable, "-m", "mypyc", *files], cwd=work, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if proc.returncode != 0:
            print(proc.stdout[-4000:], file=sys.stderr)
            print("latsim.native: the build failed: the engine runs as pure Python", file=sys.stderr)
            return 1
        built: dict[str, str] = {}
        for so in sorted(work.glob("**/*.so")):
            rel = so.relative_to(work)
            if rel.parts[0] == "build":
                continue
            name = ".".join(rel.parts[:-1] + (so.name.split(".")[0],))
            built[name] = str(rel)
        missing = [name for name in MODULES if name not in built]
        if missing:
            print(f"latsim.native: mypyc built no module for {missing}: the engine runs as pure Python",
                  file=sys.stderr)
            return 1
        sources = {name: digest(work / module_path(name)) for name in MODULES}
        try:  # the manifest last: a build cut short leaves none, and so is not used
            if root.exists():
                shutil.rmtree(root)
            root.mkdir(parents=True)
            for name in built:
                (root / built[name]).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(work / built[name], root / built[name])
            manifest = {"python": sys.version, "sources": sources, "files": built}
            (root / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
        except OSError as e:
            print(f"latsim.native: cannot write the build to {root} ({e.strerror or e}): the engine runs as "
                  "pure Python", file=sys.stderr)
            return 1
    print(f"latsim.native: {len(MODULES)} modules compiled by mypyc into {root}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["build"]:
        if "--if-stale" in args[1:] and current():
            return 0  # built from these very sources already
        return build()
    if args[:1] == ["status"]:  # (importing latsim installed the build's finder, unless LATSIM_NATIVE=0)
        done = compiled()
        print(f"compiled: {', '.join(done) if done else 'none (pure Python)'}")
        return 0
    if args[:1] == ["clean"]:
        shutil.rmtree(cache_dir(), ignore_errors=True)
        return 0
    print("usage: python -m latsim.native_build build [--if-stale] | status | clean", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
