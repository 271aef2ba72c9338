"""Digests of every bundled scenario's outputs, to show a change leaves them byte-identical.

For each ``scenarios/*.yaml``: ``latsim run FILE --json --quiet`` (its stdout) and ``latsim run
FILE --quiet --out DIR`` (summary.json, metrics.parquet, series.parquet), each as a SHA-256.

    python scripts/bundled_digests.py --save before.json     # on the old code
    python scripts/bundled_digests.py --check before.json    # on the new: exit 1 on any difference

``--duration 45m`` runs every scenario that long instead (long enough for the recorder to close
minutes and spill them during the run: bundled scenarios are 2-10 minutes).

Run it from a worktree with ``PYTHONPATH=$PWD`` so that the tree's ``latsim`` is the one run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILES = ("summary.json", "metrics.parquet", "series.parquet")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def digests(scenario: Path, tmp: Path, duration: str | None = None) -> dict[str, str]:
    cmd = [sys.executable, "-m", "latsim", "run", str(scenario)] + (["--duration", duration] if duration else [])
    out: dict[str, str] = {}
    run = subprocess.run([*cmd, "--json", "--quiet"], capture_output=True, check=False)
    if run.returncode not in (0, 1):  # 1: an SLO breached (still a run)
        raise SystemExit(f"{scenario.name}: exit {run.returncode}\n{run.stderr.decode()[-2000:]}")
    out["--json"] = _sha(run.stdout)
    out_dir = tmp / scenario.stem
    run = subprocess.run([*cmd, "--quiet", "--out", str(out_dir)], capture_output=True, check=False)
    if run.returncode not in (0, 1):
        raise SystemExit(f"{scenario.name} --out: exit {run.returncode}\n{run.stderr.decode()[-2000:]}")
    for name in FILES:
        path = out_dir / name
        out[name] = _sha(path.read_bytes()) if path.exists() else "absent"
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    group = ap.add_mutually_exclusive_group(required=True)
    group.add_argument("--save", type=Path, help="write the digests to this JSON file")
    group.add_argument("--check", type=Path, help="compare with digests saved earlier; exit 1 on a difference")
    ap.add_argument("--duration", help="run every scenario this long (latsim run --duration)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        now = {p.name: digests(p, Path(tmp), args.duration) for p in sorted((ROOT / "scenarios").glob("*.yaml"))}
    if args.save:
        args.save.write_text(json.dumps(now, indent=1, sort_keys=True) + "\n")
        print(f"{len(now)} scenarios, {sum(len(v) for v in now.values())} digests -> {args.save}")
        return 0
    before = json.loads(args.check.read_text())
    bad = [f"{name} {what}" for name in sorted(set(before) | set(now))
           for what in FILES + ("--json",) if before.get(name, {}).get(what) != now.get(name, {}).get(what)]
    for line in bad:
        print(f"differs: {line}")
    print(f"{len(now)} scenarios: {'all outputs byte-identical' if not bad else f'{len(bad)} differ'}")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
