"""The `yiwang` console script works from any folder and wraps Django's commands."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

YIWANG = str(Path(sys.executable).parent / "yiwang")


def _run(args, tmp_path, **env):
    environment = {**os.environ, "YIWANG_VAR_DIR": str(tmp_path / "var"), **env}
    environment.pop("DATABASE_URL", None)  # a fresh SQLite file of its own
    return subprocess.run(
        [YIWANG, *args], cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=300
    )


@pytest.mark.slow
def test_migrate_seed_and_audit_verify_from_another_folder(tmp_path):
    assert Path(YIWANG).exists(), "the console script is installed by `pip install -e .`"
    migrate = _run(["migrate", "-v0"], tmp_path)
    assert migrate.returncode == 0, migrate.stderr
    assert (tmp_path / "var" / "yiwang.sqlite3").exists()
    seed = _run(["seed", "--persons", "300"], tmp_path)
    assert seed.returncode == 0, seed.stderr
    verify = _run(["audit", "verify"], tmp_path)
    assert verify.returncode == 0, verify.stderr
    assert "audit chain intact" in verify.stdout
    token = _run(["token", "create", "--user", "nobody", "--name", "x"], tmp_path)
    assert token.returncode != 0
    assert "--user" in token.stderr


def test_demo_help_lists_the_verbs(tmp_path):
    result = _run(["help"], tmp_path)
    assert result.returncode == 0
    assert "yiwang demo" in result.stdout
    assert "audit" in result.stdout


@pytest.mark.slow
def test_serve_masks_id_numbers_in_the_access_log(tmp_path):
    import socket
    import time
    import urllib.error
    import urllib.request

    assert _run(["migrate", "-v0"], tmp_path).returncode == 0
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = {**os.environ, "YIWANG_VAR_DIR": str(tmp_path / "var")}
    environment.pop("DATABASE_URL", None)
    server = subprocess.Popen(
        [YIWANG, "serve", "--port", str(port), "--workers", "1"],
        cwd=tmp_path,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/api/registry/persons/360302198001010014?phone=13812345678"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url, timeout=2)
            except urllib.error.HTTPError as error:
                assert error.code == 401
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("yiwang serve did not answer")
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert "/api/registry/persons/3603**********0014" in output
    assert "138****5678" in output
    assert "360302198001010014" not in output
