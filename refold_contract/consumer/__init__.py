"""Consumer contracts inferred from the tests: what your code sends, and what it reads back.

Placeholder while the package is built; see tracking.py, model.py and verify.py.
"""
