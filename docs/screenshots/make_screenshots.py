"""Regenerate the report screenshots in this folder: ``make screenshots`` (or run this file).

Runs a bundled scenario with ``latsim run --out``, then photographs its ``report.html`` with
headless Chromium at a desktop width and a narrow (phone) width. Needs ``chromium`` (or
``chromium-browser`` / ``google-chrome``) on the PATH; exits 3 with a message when none is there.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SCENARIO = ROOT / "scenarios" / "az-failure.yaml"
SHOTS = {"report-desktop.png": (1280, 2600), "report-narrow.png": (420, 2600)}
BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def browser() -> str | None:
    return next((p for b in BROWSERS if (p := shutil.which(b))), None)


def screenshot(exe: str, html: Path, png: Path, width: int, height: int) -> None:
    with tempfile.TemporaryDirectory() as profile:
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--hide-scrollbars", f"--user-data-dir={profile}", f"--screenshot={png}",
               f"--window-size={width},{height}", html.as_uri()]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
    if not png.is_file() or png.stat().st_size == 0:
        raise SystemExit(f"chromium wrote no screenshot to {png}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE, help="where the PNGs go (default: this folder)")
    ap.add_argument("--scenario", type=Path, default=SCENARIO)
    args = ap.parse_args(argv)
    exe = browser()
    if exe is None:
        print("no chromium on the PATH: install it (apt-get install chromium) to regenerate the screenshots",
              file=sys.stderr)
        return 3
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = Path(tmp) / "run"
        subprocess.run([sys.executable, "-m", "latsim", "run", str(args.scenario), "--out", str(run_dir),
                        "--quiet"], check=False, cwd=ROOT)  # exit 1 (an SLO breached) still writes the report
        html = run_dir / "report.html"
        if not html.is_file():
            raise SystemExit(f"latsim run wrote no {html}")
        for name, (w, h) in SHOTS.items():
            screenshot(exe, html, args.out / name, w, h)
            print(f"wrote {args.out / name} ({w}x{h})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
