"""Layer 6 -- the command line.

Owns the commands and their output: :mod:`.main` (``python -m grouper group`` and ``demo``),
:mod:`.finance` (``audit`` and ``estimate``), :mod:`.tables` (``python -m grouper.tables``).
May import every layer below; nothing imports it (``grouper/__main__.py`` and
``grouper/tables/__main__.py`` only dispatch to it).
"""
from .main import build_parser, main

__all__ = ["build_parser", "main"]
