"""The sandbox server's package: stdlib only, loaded by path as ``acecoder_sandbox`` with any interpreter.

``server`` (the fork server and its job loop), ``isolation`` (namespaces, minimal root, seccomp, credentials),
``cgroups`` (the worker's cgroup), ``child`` (the forked child's harness and audit hook), ``encode`` (probe
values as canonical JSON), ``guard`` (in-process tests: equality guard and pristine builtins), ``cleanup``
(removing scratch trees without namespaces).
"""
