"""Layer 1 -- reading: any input -> the claim as the CMS grouper reads it.

Owns the input value classes (:class:`Claim`, :class:`Diagnosis`), :class:`ClaimError`,
the one reading stage that every entry point goes through (a mapping, a ``Claim``, a file
row, columns), and the warnings about what looked wrong in the input.
May import: :mod:`grouper.tables` (version resolution, code look-ups for warnings).
"""
