import ast
import subprocess
import sys
from pathlib import Path

import chalicelib.domain

FORBIDDEN = ("boto3", "botocore", "pynamodb", "chalice", "jinja2", "aws_lambda_powertools")
DOMAIN_DIR = Path(chalicelib.domain.__file__).parent


def imported_roots(source: str) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_domain_sources_import_no_aws_or_web_library():
    # GIVEN every module of the domain package WHEN its imports are parsed
    offenders = {
        path.name: sorted(imported_roots(path.read_text()) & set(FORBIDDEN))
        for path in DOMAIN_DIR.glob("*.py")
    }
    # THEN none names boto3, botocore, pynamodb, chalice or jinja2
    assert {name: bad for name, bad in offenders.items() if bad} == {}
    assert len(offenders) >= 10


def test_importing_the_domain_loads_no_forbidden_module():
    code = (
        "import sys, chalicelib.domain as d; "
        f"bad = [m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}]; "
        "print(','.join(bad))"
    )
    functions_dir = str(DOMAIN_DIR.parents[1])
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": functions_dir},
    )
    assert out.stdout.strip() == ""


def test_public_api_is_explicit():
    assert set(chalicelib.domain.__all__) <= set(dir(chalicelib.domain))
    assert "Money" in chalicelib.domain.__all__
