"""The typed Python client in clients/python, generated from the OpenAPI (``make client``).

openapi-python-client (pinned in the test extra: its output changes between releases) reads the
document the app serves at ``/openapi.json`` in development, built here in-process from fixed
settings (``model_validate``: no environment variable, no database) so the output depends on the
code only. tests/test_generated_client.py regenerates into a temporary directory and compares:
any route or schema change without ``make client`` fails there.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from app.devtools.dev_env import PROJECT_ROOT

CLIENT_DIR = PROJECT_ROOT / "clients" / "python"
CONFIG = PROJECT_ROOT / "clients" / "openapi-python-client.yaml"


def openapi_document() -> dict[str, Any]:
    """What a development server answers at /openapi.json (docs on, ``lp_session`` cookie)."""
    from app.core.config import Environment, Settings
    from app.main import create_app

    settings = Settings.model_validate(
        {
            "environment": Environment.DEVELOPMENT,
            "secret_key": secrets.token_urlsafe(48),  # required to build the app; never used
            "database_url": "postgresql://launchproof@127.0.0.1:5432/launchproof",
        }
    )
    document: dict[str, Any] = create_app(settings).openapi()
    return document


def generate(output: Path) -> None:
    """Write the client project to ``output`` (replaced)."""
    bin_dir = str(Path(sys.executable).parent)  # the generator's ruff hooks run from PATH
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    with tempfile.TemporaryDirectory() as scratch:
        spec = Path(scratch) / "openapi.json"
        spec.write_text(json.dumps(openapi_document(), indent=2, sort_keys=True), encoding="utf-8")
        target = Path(scratch) / "client"
        subprocess.run(
            [
                str(Path(bin_dir) / "openapi-python-client"),
                "generate",
                "--path",
                str(spec),
                "--output-path",
                str(target),
                "--config",
                str(CONFIG),
                "--meta",
                "setup",
            ],
            env=env,
            check=True,
            capture_output=True,
        )
        shutil.rmtree(output, ignore_errors=True)
        shutil.copytree(target, output)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--output", type=Path, default=CLIENT_DIR)
    generate(parser.parse_args().output)
    print(f"wrote {parser.parse_args().output}")


if __name__ == "__main__":
    main()
