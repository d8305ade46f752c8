"""The one thing pyproject.toml cannot say: the folder ``runner/`` is the import package ``sipscen``.

A top-level import name of ``runner`` would be generic (taken on PyPI, shadowed by
any ``runner.py`` in a user's working directory), so every sub-package found under
``runner/`` is installed as ``sipscen.<sub-package>``.
"""
from setuptools import find_packages, setup

setup(
    package_dir={"sipscen": "runner"},
    packages=["sipscen"] + [f"sipscen.{name}" for name in find_packages("runner")],
)
