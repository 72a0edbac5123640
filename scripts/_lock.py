"""Write requirements.lock and requirements-dev.lock from pyproject.toml (run by scripts/lock).

requirements.lock pins every package monitor needs to run (the closure of
[project].dependencies); requirements-dev.lock pins that and the dev tools ([dev] extra), with
the same versions for the packages both hold. Versions come from one of:

- a fresh resolve (the default): pip picks the newest versions pyproject.toml allows, nothing
  is installed (`pip install --dry-run --ignore-installed --report`);
- `--from-venv`: the versions installed in the environment of the Python running this.

The closure follows each package's Requires-Dist with its markers evaluated for this Python
and platform (and the extras asked for), so a lock is for the Python version it was made with.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path

try:
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name
except ImportError:  # a fresh .venv has only pip, which carries its own copy
    from pip._vendor.packaging.requirements import Requirement  # type: ignore[no-redef]
    from pip._vendor.packaging.utils import canonicalize_name  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parents[1]
RUNTIME_LOCK = "requirements.lock"
DEV_LOCK = "requirements-dev.lock"

# name -> (version, Requires-Dist lines)
Index = Mapping[str, tuple[str, list[str]]]


def roots(pyproject: Path) -> tuple[list[str], list[str]]:
    """([project].dependencies, the [dev] extra) as requirement strings."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    return list(project["dependencies"]), list(project["optional-dependencies"]["dev"])


def closure(requirements: Iterable[str], index: Index) -> dict[str, str]:
    """Every package `requirements` pull in (themselves included) -> its version in `index`."""
    pinned: dict[str, str] = {}
    seen: set[tuple[str, frozenset[str]]] = set()
    todo = [Requirement(r) for r in requirements]
    while todo:
        requirement = todo.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        name = canonicalize_name(requirement.name)
        key = (name, frozenset(requirement.extras))
        if key in seen:
            continue
        seen.add(key)
        if name not in index:
            raise SystemExit(f"scripts/lock: {requirement} is needed but {name} is not there")
        version, requires = index[name]
        pinned[name] = version
        extras = {"", *requirement.extras}
        for line in requires:
            child = Requirement(line)
            if child.marker is None or any(child.marker.evaluate({"extra": e}) for e in extras):
                child.marker = None  # judged here, in the parent's context
                todo.append(child)
    return pinned


def installed() -> dict[str, tuple[str, list[str]]]:
    """The running environment's packages."""
    return {
        canonicalize_name(d.metadata["Name"]): (d.version, list(d.requires or []))
        for d in metadata.distributions()
    }


def resolved(requirements: list[str]) -> dict[str, tuple[str, list[str]]]:
    """The packages pip would install for `requirements` into an empty environment."""
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.json"
        command = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed"]
        command += ["--disable-pip-version-check", "--report", str(report), *requirements]
        print("scripts/lock: resolving with pip (nothing is installed)…", file=sys.stderr)
        subprocess.run(command, check=True, stdout=sys.stderr)
        items = json.loads(report.read_text(encoding="utf-8"))["install"]
    return {
        canonicalize_name(i["metadata"]["name"]): (
            i["metadata"]["version"],
            list(i["metadata"].get("requires_dist") or []),
        )
        for i in items
    }


def render(pins: Mapping[str, str], what: str) -> str:
    python = ".".join(map(str, sys.version_info[:2]))
    lines = [
        f"# {what}, pinned for Python {python} on {platform.system()} {platform.machine()}.",
        "# Made by scripts/lock from pyproject.toml (scripts/lock upgrades them all); do not",
        "# edit by hand. scripts/run and scripts/test install from these files.",
    ]
    lines += [f"{name}=={version}" for name, version in sorted(pins.items())]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/lock", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--from-venv",
        action="store_true",
        help="pin the versions installed in this Python's environment instead of resolving",
    )
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    runtime, dev = roots(args.root / "pyproject.toml")
    index = installed() if args.from_venv else resolved([*runtime, *dev])
    runtime_pins = closure(runtime, index)
    dev_pins = closure([*runtime, *dev], index)
    (args.root / RUNTIME_LOCK).write_text(
        render(runtime_pins, "What monitor needs to run"), encoding="utf-8"
    )
    (args.root / DEV_LOCK).write_text(
        render(dev_pins, "What monitor needs to run, and its dev tools"), encoding="utf-8"
    )
    print(
        f"scripts/lock: {RUNTIME_LOCK} ({len(runtime_pins)} packages), "
        f"{DEV_LOCK} ({len(dev_pins)} packages)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
