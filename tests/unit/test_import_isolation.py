"""``import modelport`` loads no SDK, and neither does using ``memory://``."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

SDKS = ("mlflow", "boto3", "botocore", "google", "azure", "grpc", "pandas", "sagemaker")

SCRIPTS = {
    "import": "import modelport",
    "attributes": "import modelport as mp; mp.Registry; mp.Lineage; mp.ModelportError",
    "memory": (
        "import pathlib, tempfile, modelport as mp\n"
        "reg = mp.connect('memory://')\n"
        "src = pathlib.Path(tempfile.mkdtemp()) / 'm.bin'\n"
        "src.write_bytes(b'w')\n"
        "reg.register('m', src)\n"
        "reg.resolve('m@latest')\n"
    ),
}


def modules_after(script: str) -> list[str]:
    code = f"{script}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert isinstance(loaded, list)
    return [str(m) for m in loaded]


@pytest.mark.parametrize("script", list(SCRIPTS), ids=list(SCRIPTS))
def test_no_sdk_is_imported(script: str) -> None:
    loaded = modules_after(SCRIPTS[script])
    assert "modelport" in loaded
    sdks = sorted(m for m in loaded if m.split(".")[0] in SDKS)
    assert sdks == []


def test_the_public_names_are_all_exported_and_resolve() -> None:
    import modelport

    assert modelport.__all__ == sorted(modelport._EXPORTS)
    for name in modelport.__all__:
        assert getattr(modelport, name) is not None


def test_importing_the_connection_submodule_keeps_mp_connect_the_function() -> None:
    script = (
        "import modelport as mp\n"
        "from modelport.connection import EMBEDDED_DEFAULT\n"
        "import modelport.connection\n"
        "assert callable(mp.connect) and not isinstance(mp.connect, type(mp)), mp.connect\n"
        "print(repr(mp.connect('memory://')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Registry('memory://')"
