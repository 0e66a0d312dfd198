"""``python -m grouper.tables build SOURCE... --out DIR`` and ``... info`` (see :mod:`grouper.cli.tables`)."""
from ..cli.tables import main

raise SystemExit(main())
