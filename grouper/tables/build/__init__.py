"""Layer 0, build-only -- CMS release files -> the compiled tables.

Owns the table builders: :mod:`.msdrg` (``python -m grouper.tables build``: the CMS grouper
data blob, :mod:`.blob`, decoded with the protobuf schema of :mod:`.schema`; msdrg's
``msdrg.mdb``, :mod:`.mdb`, for the versions the blob lacks and the ICD-10 conversion
tables; Table 5 relative weights, :mod:`.table5`), :mod:`.ipps` (``build-ipps``: the IPPS
national rates) and :mod:`.mce` (``build-mce``: the Medicare Code Editor's data, CMS's
``mce.bin`` or msdrg's ``msdrg.mdb``).
May import: :mod:`grouper.tables` (its container format, file checks and version calendar)
and the ``build`` extra (protobuf, lmdb).  Imported only by the command line and the tests, never
by the runtime: the library groups with the compiled files alone.
"""
from .common import BuildError
from .ipps import IppsBuildError, build_ipps
from .mce import MceBuildError, build_mce
from .msdrg import build

__all__ = ["BuildError", "IppsBuildError", "MceBuildError", "build", "build_ipps", "build_mce"]
