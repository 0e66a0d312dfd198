"""Packaging glue that pyproject.toml cannot express: the compiled tables ship inside the package.

The repository's top-level ``tables/`` folder is the source of truth (built by
``python -m grouper.tables build``); in a wheel or an installed sdist it becomes the
package ``grouper._tables`` (``tables/ipps`` -> ``grouper._tables.ipps`` and so on), which
:func:`grouper.tables.store.default_tables_dir` finds before falling back to a checkout's
``tables/``.  Every sub-folder of ``tables/`` is included, so a new table family needs no
change here.
"""
import os

from setuptools import find_packages, setup

TABLES = "tables"
DATA = ["*.tbl", "*.json"]


def _table_packages() -> dict[str, str]:
    """``{package name: folder}`` for ``tables/`` and each of its sub-folders."""
    out = {}
    for folder, dirs, _ in os.walk(TABLES):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "__")))
        rel = os.path.relpath(folder, TABLES)
        name = "grouper._tables" if rel == "." else "grouper._tables." + rel.replace(os.sep, ".")
        out[name] = folder
    return out


tables = _table_packages()
setup(
    packages=find_packages(include=["grouper", "grouper.*"]) + sorted(tables),
    package_dir={"grouper._tables": TABLES},
    package_data={**{name: DATA for name in tables}, "grouper": ["py.typed", "data/*.jsonl", "data/*.json"]},
)
