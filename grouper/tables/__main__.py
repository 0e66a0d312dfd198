"""``python -m grouper.tables build SOURCE... --out DIR`` and ``... info``."""
from .cli import main

raise SystemExit(main())
