"""cfn-lint on the packaged template, SAM transform included."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from chalicelib.web.i18n import LANGUAGES
from deploy.packaging import PackagedStack

CFN_LINT = Path(sys.executable).parent / "cfn-lint"


def _lint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CFN_LINT), "--format", "parseable", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_packaged_template_passes_cfn_lint(packaged: PackagedStack) -> None:
    # GIVEN the template `make package` wrote  WHEN cfn-lint reads it
    result = _lint(packaged.template_path)
    # THEN it reports nothing (errors, warnings or informational findings)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_cfn_lint_catches_a_broken_copy(
    packaged: PackagedStack, template: dict[str, Any], tmp_path: Path
) -> None:
    # GIVEN a copy with a misspelt table property and an impossible timeout
    broken = json.loads(json.dumps(template))
    broken["Resources"]["PowerletTable"]["Properties"]["BillingMod"] = "PAY_PER_REQUEST"
    broken["Resources"]["IngestTelemetry"]["Properties"]["Timeout"] = 100_000
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken))
    # WHEN linted  THEN both mistakes are reported, so the green run above means something
    result = _lint(path)
    assert result.returncode != 0
    assert "BillingMod" in result.stdout
    assert "E3034" in result.stdout


def test_the_zip_holds_the_locked_dependencies_the_branding_and_the_catalogues(
    packaged: PackagedStack,
) -> None:
    import zipfile

    # GIVEN the deployment zip  WHEN listed
    with zipfile.ZipFile(packaged.zip_path) as archive:
        names = set(archive.namelist())
        unzipped_bytes = sum(info.file_size for info in archive.infolist())
    # THEN it has the app, the vendored locked packages (Linux wheels) and the templates
    assert "app.py" in names
    assert "chalicelib/branding/templates/signin.html" in names
    # and every language's message catalogue, which the portal reads at run time
    catalogues = {
        f"chalicelib/web/i18n/locales/{lang}/LC_MESSAGES/messages.po" for lang in LANGUAGES
    }
    assert catalogues <= names
    assert any(n.startswith("pynamodb/") for n in names)
    assert any(n.startswith("pydantic_core/_pydantic_core.cpython-311-x86_64-linux") for n in names)
    # and stays inside Lambda's 250 MB unzipped limit
    assert unzipped_bytes < 250 * 1024 * 1024
