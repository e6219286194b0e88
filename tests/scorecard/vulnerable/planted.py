"""What the vulnerable deployment has around it: a weak DNS zone, a source tree with a leaked key
in its history, a Dockerfile that runs as root and production settings ``check-config`` refuses.

Every credential-shaped value is made here at run time (``secrets``), so the repository holds
none and the scanners that guard it (detect-secrets, gitleaks) stay clean.
"""

from __future__ import annotations

import secrets
import string
import subprocess
from pathlib import Path

from tests.email.keys import dkim_record, private_key
from tests.scorecard.stack import DKIM_SELECTOR, DOMAIN, HOST

# The sending domain as a careless operator publishes it: SPF lets every host on the internet
# send as the domain, the DKIM key is 1024-bit, and there is no _dmarc record at all.
WEAK_DKIM_BITS = 1024


def dns_zone() -> dict[str, dict[str, list[str]]]:
    return {
        DOMAIN: {"TXT": ["v=spf1 +all"], "A": ["127.0.0.1"]},
        HOST: {"A": ["127.0.0.1"]},
        f"{DKIM_SELECTOR}._domainkey.{DOMAIN}": {
            "TXT": [dkim_record(private_key(WEAK_DKIM_BITS, "vulnerable"))]
        },
    }


def fake_aws_key() -> tuple[str, str]:
    """An access key id and secret in AWS's shapes (which every scanner knows), random."""
    alphabet = string.ascii_uppercase + "234567"  # base32, as AWS issues them
    key_id = "AKIA" + "".join(secrets.choice(alphabet) for _ in range(16))
    return key_id, scanner_visible_token(40)


def scanner_visible_token(length: int) -> str:
    """A random token that gitleaks' generic-api-key rule always reports: letters and digits
    alternate, so the value never contains one of the rule's stopwords (English words that
    mark a value as a placeholder) and its entropy stays above the rule's threshold. A
    ``token_urlsafe`` value spells such a word now and then, and the planted key goes unseen."""
    letters, digits = string.ascii_letters, string.digits
    return "".join(secrets.choice(digits if n % 2 else letters) for n in range(length))


DOCKERFILE = """\
FROM python:latest
ADD . /app
WORKDIR /app
RUN pip install -r requirements.txt
ENV DEBUG=true
CMD python -m app serve --host 0.0.0.0
"""


PYPROJECT = """\
[build-system]
requires = ["setuptools"]
build-backend = "setuptools.build_meta"

[project]
name = "shop"
version = "0.1.0"

[tool.setuptools]
packages = ["shop"]
"""


# Script injection: an issue title anyone can write runs as shell in a job with deploy secrets.
WORKFLOW = """\
name: deploy
on: issues
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - run: echo "deploying for ${{ github.event.issue.title }}"
"""


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=vulnerable", "-c", "user.email=v@vulnerable.test", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def planted_repo(root: Path) -> Path:
    """A git repository whose history holds a key (committed, then "removed"), whose tree holds
    another in ``.env`` and a third as a default in the package (so in its wheel), whose
    Dockerfile runs as root from a floating base image and whose workflow runs an issue title
    as shell."""
    repo = root / "planted-repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    key_id, secret = fake_aws_key()
    (repo / "settings.py").write_text(
        f'AWS_ACCESS_KEY_ID = "{key_id}"\nAWS_SECRET_ACCESS_KEY = "{secret}"\n', encoding="utf-8"
    )
    (repo / "requirements.txt").write_text("fastapi\nuvicorn\n", encoding="utf-8")
    (repo / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (repo / "shop").mkdir()
    # The classic default: a real-looking key as the fallback, shipped in every wheel.
    fallback = f"sk-proj-{scanner_visible_token(40)}"
    (repo / "shop" / "__init__.py").write_text(
        f'import os\nOPENAI_API_KEY = os.environ.get("OPENAI_API_KEY", "{fallback}")\n',
        encoding="utf-8",
    )
    (repo / "Dockerfile").write_text(DOCKERFILE, encoding="utf-8")
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github" / "workflows" / "deploy.yml").write_text(WORKFLOW, encoding="utf-8")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "first deploy")
    # "Removed" in the next commit: still in the history, and in every clone of it.
    (repo / "settings.py").write_text(
        'import os\nAWS_ACCESS_KEY_ID = os.environ["AWS_ACCESS_KEY_ID"]\n', encoding="utf-8"
    )
    (repo / ".env").write_text(
        f"OPENAI_API_KEY=sk-proj-{scanner_visible_token(40)}\n", encoding="utf-8"
    )
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "read the key from the environment")
    return repo


def production_env_file(root: Path) -> Path:
    """Production settings that ``check-config`` refuses: debug on, docs public, a short key,
    cookies without Secure, a wildcard origin."""
    path = root / "production.env"
    path.write_text(
        # pragma: allowlist nextline secret (setting names, no value)
        "ENVIRONMENT=production\nDEBUG=true\nDOCS_ENABLED=true\n"
        f"SECRET_KEY={secrets.token_hex(4)}\nSESSION_COOKIE_SECURE=false\nALLOWED_ORIGINS=*\n"
        f"PUBLIC_URL=http://{HOST}\n",
        encoding="utf-8",
    )
    return path
