"""The Dockerfile, .dockerignore and docker-compose.yml, read (no Docker engine runs here)."""

from __future__ import annotations

import fnmatch
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
# The top-level folders of the packages pyproject installs (bot, flows, storage, messages).
SOURCES = sorted({name.split(".")[0] for name in PYPROJECT["tool"]["setuptools"]["packages"]})


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile as (INSTRUCTION, arguments), continuation lines joined, comments out."""
    text = (ROOT / "Dockerfile").read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    found = []
    for line in joined.splitlines():
        if line.strip():
            word, _, rest = line.strip().partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def test_the_dependencies_are_installed_before_the_source_is_copied() -> None:
    steps = instructions()
    copies = [(i, args.split()[0]) for i, (word, args) in enumerate(steps) if word == "COPY"]
    [pyproject] = [i for i, source in copies if source == "pyproject.toml"]
    sources = {source.rstrip("/"): i for i, source in copies}
    assert set(SOURCES) <= set(sources), "every package is copied into the image"
    first_source = min(sources[name] for name in SOURCES)
    assert pyproject < first_source
    between = [args for word, args in steps[pyproject:first_source] if word == "RUN"]
    assert any("pip install -r requirements.txt" in args for args in between)
    installs = [args for word, args in steps[first_source:] if word == "RUN" and "pip" in args]
    assert installs, "the source is installed"
    assert all("--no-deps" in args for args in installs), "no dependency layer after the source"


def test_the_dependency_list_is_what_pyproject_says(tmp_path: Path) -> None:
    """Run the Dockerfile's own extraction on pyproject.toml, as `docker build` would."""
    [command] = [
        args for word, args in instructions() if word == "RUN" and "requirements.txt" in args
    ]
    extract = command.split(">", 1)[0].strip()
    words = shlex.split(extract)
    assert words[:2] == ["python", "-c"]
    (tmp_path / "pyproject.toml").write_bytes((ROOT / "pyproject.toml").read_bytes())
    printed = subprocess.run(  # noqa: S603 - the Dockerfile's own command, on a copy
        [sys.executable, "-c", words[2]],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    project = PYPROJECT["project"]
    expected = (
        project["dependencies"]
        + project["optional-dependencies"]["postgres"]
        + PYPROJECT["build-system"]["requires"]
    )
    assert printed == expected
    assert any(line.startswith("asyncpg") for line in printed)  # PostgreSQL works in the image


def test_the_health_check_asks_the_database_in_either_mode() -> None:
    [health] = [args for word, args in instructions() if word == "HEALTHCHECK"]
    assert '["samenopvoeden", "check", "--health"]' in health
    assert "--timeout=" in health
    assert ("ENTRYPOINT", '["samenopvoeden"]') in instructions()


def ignored(name: str, patterns: list[str]) -> bool:
    return any(
        fnmatch.fnmatch(name, pattern.removeprefix("**/"))
        or name.startswith(pattern.rstrip("/") + "/")
        for pattern in patterns
    )


def test_dockerignore_keeps_secrets_databases_and_tools_out() -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for name in (
        ".venv",
        ".ci-venv",
        ".git",
        ".env",
        "tests",
        "benchmarks",
        "samenopvoeden.db",
        "samenopvoeden.db-wal",
        "samenopvoeden.db.key",
        "__pycache__",
        "samenopvoeden.egg-info",
    ):
        assert ignored(name, patterns), name
    for name in ("pyproject.toml", "README.md", *SOURCES):
        assert not ignored(name, patterns), name


def test_compose_builds_the_image_once_and_every_bot_runs_it() -> None:
    yaml = pytest.importorskip("yaml")
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    builders = [name for name, service in services.items() if "build" in service]
    assert builders == ["migrate"]
    image = services["migrate"]["image"]
    ours = [name for name, service in services.items() if service.get("image") == image]
    assert sorted(ours) == ["bot1", "bot2", "migrate"]
    for name in ("bot1", "bot2"):
        assert services[name]["pull_policy"] == "never"  # the image is built here, not pulled
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }
