"""Programs in every I/O idiom for bundled LiveCodeBench problems, correct and wrong, with the verdict a terminal
gives and the LiveCodeBench grader fault (if any) that makes LiveCodeBench's harness fail a correct one.

Used by ``benchmarks/lcb_agreement.py`` (side by side with LiveCodeBench's own grader) and by the tests. Each
entry: (name, question_id, program, correct in a terminal, fault LiveCodeBench's harness hits or None).
"""

from __future__ import annotations

# Faults of LiveCodeBench's harness (lcb_runner/evaluation/testing_util.py), as listed in README.md.
FAULTS = {
    "stdin-iteration": "sys.stdin is a mock without __iter__: `for line in sys.stdin` raises TypeError",
    "buffer-readline": "sys.stdin.buffer.readline() returns the first line on every call",
    "readlines-trailing": "sys.stdin.readlines() is input.split('\\n'): a trailing '' line",
    "open-0": "open(0) / os.read(0) read the worker's own stdin (/dev/null), not the test input",
    "stdout-buffer": "sys.stdout is a StringIO: no .buffer",
    "stdout-bound-early": "`from sys import stdout` binds the worker's stdout before the capture: output lost",
    "global-top-level": "top-level code runs inside wrapped_function: `global x` in a function misses it",
    "quit": "quit is None (reliability_guard): quit() raises TypeError",
    "thread-output": "output printed by a thread after wrapped_function returns is not captured",
}

ATTACK = "abc302_a"  # "A B" -> ceil(A / B), 10^18-sized integers
SHORT_SORT = "1873_A"  # t lines of "abc" permutations -> YES/NO each (public and private tests)
SENIORS = "2727"  # LeetCode: countSeniors(details) -> int

_SHORT_SORT_BODY = """
def ok(s):
    return sum(a != b for a, b in zip(s, "abc")) in (0, 2)
"""

PROGRAMS: list[tuple[str, str, str, bool, str | None]] = [
    # ---------------------------------------------------------------------------------------- correct
    ("input", ATTACK, "a, b = map(int, input().split())\nprint((a + b - 1) // b)\n", True, None),
    (
        "main-guard",
        ATTACK,
        "def main():\n    a, b = map(int, input().split())\n    print(-(-a // b))\n\n"
        "if __name__ == '__main__':\n    main()\n",
        True,
        None,
    ),
    (
        "stdin-readline",
        SHORT_SORT,
        "import sys\n" + _SHORT_SORT_BODY + "t = int(sys.stdin.readline())\nfor _ in range(t):\n"
        "    print('YES' if ok(sys.stdin.readline().strip()) else 'NO')\n",
        True,
        None,
    ),
    (
        "stdin-read-split",
        SHORT_SORT,
        "import sys\n" + _SHORT_SORT_BODY + "data = sys.stdin.read().split()\n"
        "print('\\n'.join('YES' if ok(s) else 'NO' for s in data[1:]))\n",
        True,
        None,
    ),
    (
        "input-alias",
        SHORT_SORT,
        "import sys\ninput = sys.stdin.readline\n" + _SHORT_SORT_BODY + "for _ in range(int(input())):\n"
        "    print('YES' if ok(input().strip()) else 'NO')\n",
        True,
        None,
    ),
    (
        "buffer-read",
        ATTACK,
        "import sys\na, b = map(int, sys.stdin.buffer.read().split())\nprint((a + b - 1) // b)\n",
        True,
        None,
    ),
    (
        "stdout-write",
        ATTACK,
        "import sys\na, b = map(int, input().split())\nsys.stdout.write(str((a + b - 1) // b) + '\\n')\n",
        True,
        None,
    ),
    (
        "exit-after-print",
        ATTACK,
        "a, b = map(int, input().split())\nprint((a + b - 1) // b)\nexit()\nprint('unreachable')\n",
        True,
        None,
    ),
    (
        "float-looking-int",
        ATTACK,
        "a, b = map(int, input().split())\nprint(f'{(a + b - 1) // b}.0' if a < 10**9 else (a + b - 1) // b)\n",
        True,
        None,
    ),
    (
        "stdin-iteration",
        SHORT_SORT,
        "import sys\n" + _SHORT_SORT_BODY + "lines = [line.strip() for line in sys.stdin]\n"
        "for s in lines[1:int(lines[0]) + 1]:\n    print('YES' if ok(s) else 'NO')\n",
        True,
        "stdin-iteration",
    ),
    (
        "buffer-readline-twice",
        ATTACK,
        "import sys\nline = sys.stdin.buffer.readline\nfirst = line()\nrest = line()\n"
        "a, b = map(int, first.split())\nprint((a + b - 1) // b)\n",
        True,
        None,  # the second call returns the first line again, which this program ignores
    ),
    (
        "buffer-readline-per-case",
        SHORT_SORT,
        "import sys\ninput = sys.stdin.buffer.readline\n" + _SHORT_SORT_BODY + "t = int(input())\n"
        "for _ in range(t):\n    print('YES' if ok(input().decode().strip()) else 'NO')\n",
        True,
        "buffer-readline",
    ),
    (
        "readlines",
        SHORT_SORT,
        "import sys\n" + _SHORT_SORT_BODY + "lines = sys.stdin.readlines()\n"
        "for s in lines[1:]:\n    print('YES' if ok(s.strip()) else 'NO')\n",
        True,
        "readlines-trailing",
    ),
    (
        "open-0",
        ATTACK,
        "a, b = map(int, open(0).read().split())\nprint((a + b - 1) // b)\n",
        True,
        "open-0",
    ),
    (
        "os-read-0",
        ATTACK,
        "import os\na, b = map(int, os.read(0, 1 << 16).split())\nprint((a + b - 1) // b)\n",
        True,
        "open-0",
    ),
    (
        "stdout-buffer",
        ATTACK,
        "import sys\na, b = map(int, input().split())\nsys.stdout.buffer.write(b'%d\\n' % ((a + b - 1) // b))\n",
        True,
        "stdout-buffer",
    ),
    (
        "from-sys-import-stdout",
        ATTACK,
        "from sys import stdout\na, b = map(int, input().split())\nstdout.write(f'{(a + b - 1) // b}\\n')\n",
        True,
        "stdout-bound-early",
    ),
    (
        "global-top-level",
        ATTACK,
        "answer = 0\n\ndef solve(a, b):\n    global answer\n    answer = (a + b - 1) // b\n\n"
        "a, b = map(int, input().split())\nsolve(a, b)\nprint(answer)\n",
        True,
        "global-top-level",
    ),
    (
        "quit-after-print",
        ATTACK,
        "a, b = map(int, input().split())\nprint((a + b - 1) // b)\nquit()\n",
        True,
        "quit",
    ),
    (
        "functional-solution",
        SENIORS,
        "class Solution:\n    def countSeniors(self, details: List[str]) -> int:\n"
        "        return sum(int(d[11:13]) > 60 for d in details)\n",
        True,
        None,
    ),
    (
        "functional-main-block",
        SENIORS,
        "from typing import List\n\nclass Solution:\n    def countSeniors(self, details: List[str]) -> int:\n"
        "        return len([d for d in details if int(d[11:13]) > 60])\n\n"
        "if __name__ == '__main__':\n    print(Solution().countSeniors(input().split()))\n",
        True,
        None,
    ),
    # ------------------------------------------------------------------------------------------ wrong
    ("wrong-floor", ATTACK, "a, b = map(int, input().split())\nprint(a // b)\n", False, None),
    (
        "wrong-float-division",
        ATTACK,
        "import math\na, b = map(int, input().split())\nprint(math.ceil(a / b))\n",
        False,
        None,
    ),
    (
        "wrong-case",
        SHORT_SORT,
        "import sys\n" + _SHORT_SORT_BODY + "data = sys.stdin.read().split()\n"
        "print('\\n'.join('Yes' if ok(s) else 'No' for s in data[1:]))\n",
        False,
        None,
    ),
    (
        "wrong-extra-line",
        ATTACK,
        "a, b = map(int, input().split())\nprint('answer:')\nprint((a + b - 1) // b)\n",
        False,
        None,
    ),
    (
        "wrong-crash-after-print",
        ATTACK,
        "a, b = map(int, input().split())\nprint((a + b - 1) // b)\nraise ValueError\n",
        False,
        None,
    ),
    ("wrong-nothing", ATTACK, "a, b = map(int, input().split())\n", False, None),
    (
        "wrong-functional",
        SENIORS,
        "class Solution:\n    def countSeniors(self, details):\n        return sum(int(d[11:13]) >= 40 for d in details)\n",
        False,
        None,
    ),
]
