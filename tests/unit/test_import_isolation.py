"""``import modelport`` loads no SDK, and neither does using ``memory://``.

Measured against a bare interpreter of the same environment: namespace packages'
``.pth`` files (every ``google-cloud-*`` installs one) import ``google`` before any
code runs, and that is not modelport's doing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SDKS = (
    "boto3",
    "botocore",
    "sagemaker",
    "mlflow",
    "google.cloud.aiplatform",
    "google.cloud.storage",
    "google.auth",
    "google.protobuf",
    "grpc",
    "azure.ai.ml",
    "azure.core",
    "azure.identity",
    "azure.storage",
    "pandas",
)
TEST_TOOLS = ("pytest", "_pytest")  # modelport.testing.conformance imports them, modelport never
PLAIN_IMPORT_LOADS_NOTHING_OF = (*SDKS, *TEST_TOOLS, "pydantic")  # pydantic loads lazily

SCRIPTS = {
    "import": "import modelport",
    "attributes": "import modelport as mp; mp.Registry; mp.Lineage; mp.ModelportError",
    "memory": (
        "import pathlib, tempfile, modelport as mp\n"
        "reg = mp.connect('memory://')\n"
        "with tempfile.TemporaryDirectory() as tmp:\n"
        "    src = pathlib.Path(tmp) / 'm.bin'\n"
        "    src.write_bytes(b'w')\n"
        "    reg.register('m', src)\n"
        "reg.resolve('m@latest')\n"
    ),
}
FORBIDDEN = {
    "import": PLAIN_IMPORT_LOADS_NOTHING_OF,
    "attributes": (*SDKS, *TEST_TOOLS),
    "memory": (*SDKS, *TEST_TOOLS),
}


def modules_after(script: str, env: dict[str, str] | None = None) -> set[str]:
    """The modules a fresh interpreter of this environment holds after ``script``."""
    code = f"{script}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env=env,
    )
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert isinstance(loaded, list)
    return {str(m) for m in loaded}


def loaded_by(
    script: str, forbidden: tuple[str, ...], env: dict[str, str] | None = None
) -> list[str]:
    """The ``forbidden`` packages' modules ``script`` loads that a bare interpreter lacks."""
    new = modules_after(script, env) - modules_after("", env)
    return sorted(m for m in new if any(m == p or m.startswith(f"{p}.") for p in forbidden))


@pytest.mark.parametrize("script", list(SCRIPTS), ids=list(SCRIPTS))
def test_no_sdk_is_imported(script: str) -> None:
    assert "modelport" in modules_after(SCRIPTS[script])
    assert loaded_by(SCRIPTS[script], FORBIDDEN[script]) == []


def test_an_sdk_module_that_is_imported_is_found() -> None:
    pytest.importorskip("google.protobuf")  # both come with the dev extras' SDKs
    pytest.importorskip("botocore")
    assert "google.protobuf" in loaded_by("import modelport, google.protobuf", SDKS)
    assert "botocore" in loaded_by("import botocore.session", SDKS)


def test_what_the_interpreter_loads_at_start_is_not_blamed_on_modelport(tmp_path: Path) -> None:
    """As a namespace ``.pth`` does: ``sitecustomize`` loads a forbidden package first."""
    pytest.importorskip("google.protobuf")
    (tmp_path / "sitecustomize.py").write_text("import google.protobuf\n", encoding="utf-8")
    path = os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path}
    assert "google.protobuf" in modules_after("", env)
    assert loaded_by("import modelport", PLAIN_IMPORT_LOADS_NOTHING_OF, env) == []


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
