"""Pin the images of one environment by digest: the pipeline step before `kubectl apply -k`.

    python infra/k8s/pin_images.py infra/k8s/overlays/production/env \
        launchproof=ghcr.io/your-org/launchproof@sha256:<64 hex>
    python infra/k8s/pin_images.py --check infra/k8s/overlays/production/env

Rewrites the ``images:`` entry of that name in the environment's Component (newName and
digest), so the app and its migration Job get the same image. Refuses anything but a digest
reference. ``--check`` exits 1 while any digest is still the all-zero placeholder.
Standard library only (the pipeline needs no kustomize binary for this step).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

REFERENCE = re.compile(r"^(?P<name>[a-z0-9][a-z0-9._/:-]*)@(?P<digest>sha256:[0-9a-f]{64})$")
PLACEHOLDER = "sha256:" + "0" * 64


def pin(text: str, image: str, reference: str) -> str:
    match = REFERENCE.match(reference)
    if match is None:
        raise ValueError(f"{image}: not a name@sha256:<digest> reference")
    entry = re.compile(
        rf"(- name: {re.escape(image)}\n\s+newName: )\S+(.*\n\s+digest: )sha256:[0-9a-f]{{64}}"
    )
    new, count = entry.subn(rf"\g<1>{match['name']}\g<2>{match['digest']}", text)
    if count != 1:
        raise ValueError(f"{image}: no images entry of that name")
    return new


def main(argv: list[str]) -> int:
    check = argv[:1] == ["--check"]
    args = argv[1:] if check else argv
    if not args:
        sys.stderr.write(f"{__doc__}\n")
        return 2
    path = Path(args[0]) / "kustomization.yaml"
    text = path.read_text(encoding="utf-8")
    if check:
        if PLACEHOLDER in text:
            sys.stderr.write(f"{path}: an image is still the placeholder digest\n")
            return 1
        return 0
    try:
        for item in args[1:]:
            image, _, reference = item.partition("=")
            text = pin(text, image, reference)
    except ValueError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    path.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
