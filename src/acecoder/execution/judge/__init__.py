"""The trusted judge: the process that runs every test, outside the program's process.

Each engine worker pairs a sandbox server (which runs programs) with a judge (:mod:`.server`), started by the
engine with its own interpreter and confined on its own: no network, a read-only file system, its own uid and
limits. The engine sends jobs to the judge; the judge drives the sandbox server, judges split asserts on the
values their probes returned (:mod:`.checks`), runs every other test itself with the program reachable only
through calls (:mod:`.remote`, :mod:`.names`), and answers the engine (:mod:`.job`).
"""
