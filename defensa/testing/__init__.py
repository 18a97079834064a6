"""What tests and benchmarks share, importable without pytest (benchmarks run without it).

`peers/` holds the loopback servers that stand in for providers. The pytest fixtures that
start them for a test live in conftest.py files; the named personas stay in
`defensa/core/testing.py`.
"""
