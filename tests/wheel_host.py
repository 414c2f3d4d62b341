"""Build the app's wheel from a clean copy, install it in a new virtualenv, and run a host project with it."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.helpers import ROOT, environ_without_settings, free_port, running_server

#: Wheels of the app's dependencies, downloaded once (git-ignored): installs from it need no network.
WHEELHOUSE = ROOT / ".wheelhouse"
#: What the distribution is built from; otpsite/, tests/ and build leftovers in the checkout stay out.
SOURCES = ["pyproject.toml", "README.md", "verification"]


def run(command: list, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(part) for part in command], capture_output=True, text=True, timeout=300, **kwargs)
    if result.returncode:
        raise RuntimeError(f"{' '.join(map(str, command))} failed:\n{result.stdout}\n{result.stderr}")
    return result


def build_wheel(workdir: Path) -> Path:
    """Build the wheel from a copy of its sources (never the checkout, whose build/ may hold stale files)."""
    source = workdir / "source"
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(ROOT / name, source / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    run([*pip, "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--wheel-dir", workdir / "dist", source])
    [wheel] = (workdir / "dist").glob("*.whl")
    return wheel


def runtime_requirements() -> list[str]:
    """Return the distribution's dependencies, as pyproject.toml declares them."""
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]


def extra_requirements(extra: str) -> list[str]:
    """Return what the distribution's optional `extra` adds, as pyproject.toml declares it."""
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"][extra]


def new_virtualenv(path: Path, wheel: Path, extra: str = "") -> Path:
    """Make a virtualenv with the wheel (and its optional `extra`) and their dependencies alone; return its python."""
    run([sys.executable, "-m", "venv", "--without-pip", path])
    python = path / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    # --no-compile: byte-compiling Django's files would take longer than the rest of the install.
    install = [*pip, "--python", python, "install", "--quiet", "--no-compile", "--no-index", "--find-links", WHEELHOUSE]
    target = f"{wheel}[{extra}]" if extra else wheel
    try:
        run([*install, target])
    except RuntimeError:
        # First run, or the dependencies changed: fill the wheelhouse from the package index once.
        needed = runtime_requirements() + (extra_requirements(extra) if extra else [])
        run([*pip, "download", "--quiet", "--only-binary=:all:", "--dest", WHEELHOUSE, *needed])
        run([*install, target])
    return python


def host_environ(**extra: str) -> dict[str, str]:
    """Return an environment in which nothing points back into the checkout or its virtualenv."""
    env = environ_without_settings(PYTHONUNBUFFERED="1", **extra)
    # Without PYTHONDONTWRITEBYTECODE: the wheel is installed --no-compile, so the first process writes the bytecode
    # the next ones read, as in any installed project (phonenumbers' geocoder alone takes 6 s to compile).
    for name in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE"):
        env.pop(name, None)
    return env


@dataclass
class Host:
    python: Path
    project: Path
    settings: str

    def manage(self, *args: str) -> str:
        """Run a manage.py command of the host; return what it printed."""
        command = [self.python, "manage.py", *args]
        return run(command, cwd=self.project, env=host_environ(DJANGO_SETTINGS_MODULE=self.settings)).stdout


@dataclass
class LiveHost:
    url: str
    log: list[str] = field(default_factory=list)


@contextmanager
def serve(host: Host) -> Iterator[LiveHost]:
    """Run the host's runserver on a free port until the block ends."""
    port = free_port()
    live = LiveHost(f"http://127.0.0.1:{port}")
    command = [host.python, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]
    environ = host_environ(DJANGO_SETTINGS_MODULE=host.settings)
    with running_server(command, "Quit the server with", live.log.append, cwd=host.project, env=environ):
        yield live
