import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

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


def test_every_public_name_loads_from_the_module_the_loader_names():
    # GIVEN the package's lazy loader (_NAMES_BY_MODULE) and its public API (__all__)
    names_by_module = chalicelib.domain._NAMES_BY_MODULE
    loadable = [name for names in names_by_module.values() for name in names]
    # THEN they list the same names, each once
    assert sorted(loadable) == sorted(chalicelib.domain.__all__)
    assert len(set(loadable)) == len(loadable)
    # and each name is its module's own object
    for module, names in names_by_module.items():
        source = importlib.import_module(f"chalicelib.domain.{module}")
        for name in names:
            assert getattr(chalicelib.domain, name) is getattr(source, name), name
    # and a name the package does not have is an AttributeError, as for any module
    with pytest.raises(AttributeError, match="no attribute 'Nonesuch'"):
        _ = chalicelib.domain.Nonesuch


# What ingest's steady path must not pay for when it imports a light domain module
# (issue 19, the cold start): the tariff models, pydantic, the bill calculators.
HEAVY_FOR_INGEST = ("pydantic", "chalicelib.domain.tariffs", "chalicelib.domain.billing")


def test_importing_a_light_domain_module_loads_no_tariff_model_or_pydantic():
    # GIVEN a fresh interpreter WHEN it imports the domain's errors and money modules (the
    # package's __init__ runs first) and asks the package for a light public name
    code = (
        "import sys, chalicelib.domain.errors, chalicelib.domain.money_text; "
        "from chalicelib.domain import Reading, Money; "
        f"print(','.join(m for m in sys.modules if m.startswith({HEAVY_FOR_INGEST!r})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(DOMAIN_DIR.parents[1])},
    )
    # THEN neither pydantic nor the tariff models nor the bills were imported
    assert out.stdout.strip() == ""
