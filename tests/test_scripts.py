"""scripts/: the lock files pin what the project runs with, the install is skipped only while
its inputs are unchanged, and scripts/run prints the address Streamlit really serves.

No test here installs anything: the install itself is pip reading the lock file. scripts/run
is run for real, in a copy of the repository whose .venv borrows this environment's packages
(a venv without pip that adds this one's site-packages), with the install stamp current.
"""

from __future__ import annotations

import os
import re
import shutil
import site
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from importlib import metadata
from pathlib import Path

import pytest
from feedgen import Item, rss
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from monitor import ingest
from monitor.store import DuckDBStore

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
RUNTIME = list(PROJECT["dependencies"])
DEV = list(PROJECT["optional-dependencies"]["dev"])


def pins(name: str, folder: Path = ROOT) -> dict[str, str]:
    """A lock file's `name==version` lines (names canonical)."""
    found: dict[str, str] = {}
    for line in (folder / name).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==([^\s;]+)", line)
        assert match, f"{name}: not a pin: {line!r}"
        found[canonicalize_name(match.group(1))] = match.group(2)
    return found


def needed(requirements: list[str]) -> dict[str, str]:
    """What this environment has installed for `requirements`, dependencies and their extras
    followed (markers judged here): name -> installed version."""
    versions: dict[str, str] = {}
    seen: set[tuple[str, frozenset[str]]] = set()
    todo = [(Requirement(r), True) for r in requirements]
    while todo:
        requirement, judge = todo.pop()
        if judge and requirement.marker and not requirement.marker.evaluate({"extra": ""}):
            continue
        name = canonicalize_name(requirement.name)
        if (name, frozenset(requirement.extras)) in seen:
            continue
        seen.add((name, frozenset(requirement.extras)))
        dist = metadata.distribution(name)
        versions[name] = dist.version
        for line in dist.requires or []:
            child = Requirement(line)
            contexts = ["", *requirement.extras]
            if child.marker is None or any(child.marker.evaluate({"extra": e}) for e in contexts):
                todo.append((child, False))
    return versions


# -- the lock files ----------------------------------------------------------------------------


def test_the_runtime_lock_pins_exactly_what_this_environment_runs_monitor_with() -> None:
    assert pins("requirements.lock") == needed(RUNTIME)


def test_the_dev_lock_pins_exactly_what_this_environment_tests_monitor_with() -> None:
    assert pins("requirements-dev.lock") == needed(RUNTIME + DEV)


def test_every_pyproject_dependency_is_pinned_inside_its_range() -> None:
    runtime, dev = pins("requirements.lock"), pins("requirements-dev.lock")
    for lock, requirements in ((runtime, RUNTIME), (dev, RUNTIME + DEV)):
        for text in requirements:
            requirement = Requirement(text)
            name = canonicalize_name(requirement.name)
            assert name in lock, f"{text} is not in the lock"
            assert requirement.specifier.contains(lock[name], prereleases=True), (text, lock[name])
    # The two files agree on every package they share.
    assert {n: dev[n] for n in runtime} == runtime


def test_scripts_lock_writes_these_files_from_the_environment(tmp_path: Path) -> None:
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "_lock.py"),
            "--from-venv",
            "--root",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    for name in ("requirements.lock", "requirements-dev.lock"):
        assert pins(name, tmp_path) == pins(name), name


# -- a copy of the repository with a borrowed .venv ----------------------------------------------


def _borrowed_tree(tmp_path: Path) -> Path:
    """The files scripts/run needs, and a .venv that uses this environment's packages."""
    tree = tmp_path / "repo"
    tree.mkdir()
    for name in ("app.py", "pyproject.toml", "requirements.lock", "requirements-dev.lock"):
        shutil.copy(ROOT / name, tree)
    shutil.copytree(ROOT / "scripts", tree / "scripts")
    shutil.copytree(ROOT / "pages", tree / "pages", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / ".streamlit", tree / ".streamlit")
    venv = tree / ".venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    packages = next(venv.glob("lib/python3*/site-packages"))
    parent = [p for p in site.getsitepackages() if Path(p).is_dir()]
    (packages / "_borrowed.pth").write_text(
        "import site; " + "; ".join(f"site.addsitedir({p!r})" for p in parent) + "\n"
    )
    for command in ("monitor", "streamlit"):
        body = Path(sys.executable).with_name(command).read_text().split("\n", 1)[1]
        script = venv / "bin" / command
        script.write_text(f"#!{venv / 'bin' / 'python'}\n{body}")
        script.chmod(0o755)
    return tree


def _bash(tree: Path, code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", f". scripts/_venv.sh && {code}"],
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _mark_installed(tree: Path, extras: str) -> None:
    done = _bash(tree, f"install_inputs '{extras}' > '.venv/.installed{extras}'")
    assert done.returncode == 0, done.stderr


def test_the_install_is_skipped_only_while_pyproject_and_the_lock_are_unchanged(
    tmp_path: Path,
) -> None:
    tree = _borrowed_tree(tmp_path)

    def current(extras: str) -> bool:
        return _bash(tree, f"venv_current '{extras}'").returncode == 0

    assert not current("") and not current("[dev]")
    _mark_installed(tree, "")
    assert current("") and not current("[dev]")
    # ensure_venv does nothing then (no pip: this .venv has none, so it would fail).
    skipped = _bash(tree, "ensure_venv ''")
    assert skipped.returncode == 0 and "installing" not in skipped.stderr, skipped.stderr
    lock = tree / "requirements.lock"
    original = lock.read_text()
    lock.write_text(original.replace("streamlit==", "streamlit>="))
    assert not current("")
    lock.write_text(original)
    os.utime(lock)  # a newer date with the same content is no change
    assert current("")
    (tree / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text() + "\n# x\n")
    assert not current("")
    # The dev install reads its own lock.
    _mark_installed(tree, "[dev]")
    assert current("[dev]")
    (tree / "requirements-dev.lock").write_text(original)
    assert not current("[dev]")


# -- scripts/run prints the address it serves ------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
@pytest.mark.parametrize("where", ["argument", "environment", "config.toml"])
def test_scripts_run_prints_the_address_it_serves(tmp_path: Path, where: str) -> None:
    tree = _borrowed_tree(tmp_path)
    _mark_installed(tree, "")
    db = tmp_path / "store.duckdb"
    feed = rss([Item("Eins", link="https://site.example/1")])
    ingest.ingest_bytes(DuckDBStore(db), feed, source="f.xml", feed_url="https://site.example/feed")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMLIT_")}
    env.update(MONITOR_DB=str(db), PYTHONPATH=str(ROOT / "src"))
    args: list[str] = []
    if where == "argument":
        args = ["--server.port", str(port)]
    elif where == "environment":
        env["STREAMLIT_SERVER_PORT"] = str(port)
    else:
        config = tree / ".streamlit" / "config.toml"
        config.write_text(config.read_text().replace("[server]\n", f"[server]\nport = {port}\n"))
    server = subprocess.Popen(
        ["bash", "scripts/run", *args],
        cwd=tree,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    try:
        assert server.stdout is not None
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            line = server.stdout.readline()
            if not line:
                break
            output.append(line)
            if "URL:" in line:
                break
        printed = re.findall(r"https?://[^\s]+", "".join(output))
        assert printed, "".join(output)
        # Every address it names is the one it serves, and it answers there.
        assert set(printed) == {f"http://127.0.0.1:{port}"}, "".join(output)
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with direct.open(printed[0] + "/_stcore/health", timeout=30) as answer:
            assert answer.read() == b"ok"
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=20)
        if server.stdout is not None:
            server.stdout.close()
