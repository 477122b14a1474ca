"""The reference package: its public names, its place at the bottom of the layers, lazy data."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import reference

PACKAGE = Path(reference.__file__).parent


def test_public_api_is_stable() -> None:
    assert len(set(reference.__all__)) == len(reference.__all__)
    assert set(reference.__all__) == {
        "COMMUNES_PROVENANCE",
        "LEVELS",
        "OPCOS",
        "Commune",
        "Departement",
        "InvalidIdentifier",
        "commune",
        "communes",
        "communes_by_postal_code",
        "communes_in",
        "communes_near",
        "departement",
        "departements",
        "distance_km",
        "naf_codes",
        "naf_label",
        "nearest_commune",
        "rome_codes",
        "rome_domain",
        "rome_label",
    }
    for name in reference.__all__:
        assert hasattr(reference, name), name


def test_reference_imports_no_higher_layer() -> None:
    higher = {"gateway", "resolvers", "adapters", "demo"}
    for module in PACKAGE.glob("*.py"):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                roots = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                roots = {(node.module or "").split(".")[0]}
            else:
                continue
            assert not roots & higher, f"{module.name} imports {roots & higher}"


def test_importing_needs_no_code_list_file(tmp_path: Path) -> None:
    # A copy of the package without rome.csv and naf.csv still imports and serves communes;
    # the missing file is reported when a label is first asked for.
    copy = tmp_path / "reference"
    shutil.copytree(
        PACKAGE, copy, ignore=shutil.ignore_patterns("rome.csv", "naf.csv", "__pycache__")
    )
    script = (
        "import reference\n"
        f"assert reference.__file__.startswith({str(copy)!r})\n"
        "assert reference.commune('73065').name == 'Chambéry'\n"
        "try:\n"
        "    reference.rome_label('F1201')\n"
        "except FileNotFoundError:\n"
        "    print('missing file reported')\n"
    )
    done = subprocess.run(  # our own interpreter and a fixed script
        [sys.executable, "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "missing file reported"
