#!/usr/bin/env python3
"""Fails (exit 1) on the code that traps on a value from outside, anywhere in Sources/ but the one
conversion module (Sources/Daemon/BindingRuntime/CheckedNumbers.swift):

- `try!` and `as!`: a client's data that is not what was expected ends the process;
- in the daemon and its runtime hosts (Sources/Daemon), a member of a JSON object forced out
  (`params["x"]!`): a client that leaves it out ends the process;
- an integer made from a floating value without a label (`Int(d * 1e9)`, `UInt64(seconds)`):
  Swift traps when the value is past the integer's range, NaN or infinite. Use `CheckedNumbers`
  (`integer`, `seconds`, `nanoseconds`, `wholePart`) or a labelled form (`exactly:`, `clamping:`).

A floating value is recognised by what its expression shows: a floating type, a literal with a
fraction or an exponent, a rounding, a time interval or a name of seconds or a duration.
Usage: scripts/check-traps.py [ROOT]; --self-test checks the checker on lines of its own.
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(next((a for a in sys.argv[1:] if not a.startswith("--")), "."))
ALLOWED = {"Sources/Daemon/BindingRuntime/CheckedNumbers.swift"}
INTEGER = re.compile(r"\b(?:U?Int(?:8|16|32|64)?|time_t|off_t|size_t|pid_t|useconds_t)\(")
FLOATING = re.compile(
    r"Double|Float|CGFloat|TimeInterval|timeInterval|\.rounded|\bseconds\b|\bduration\b"
    r"|\b\d+\.\d+|\b\d+e-?\d+|\.magnitude"
)
FORCED = re.compile(r"\btry!|\bas!")
FORCED_MEMBER = re.compile(r'"\]!')
LABELLED = re.compile(r"\s*[A-Za-z_]\w*\s*:")


def argument(line: str, open_paren: int) -> str:
    """The text between the parenthesis at `open_paren` and its match (to the line's end if none)."""
    depth = 0
    for i in range(open_paren, len(line)):
        if line[i] == "(":
            depth += 1
        elif line[i] == ")":
            depth -= 1
            if depth == 0:
                return line[open_paren + 1 : i]
    return line[open_paren + 1 :]


def code_of(line: str) -> str:
    """The line without its comment (a string's interpolations are code, so strings stay)."""
    return "" if line.lstrip().startswith("//") else line.split(" // ", 1)[0]


def problems(path: pathlib.Path, relative: str):
    return lines_problems(path.read_text(encoding="utf-8").splitlines(), relative)


def lines_problems(lines, relative: str):
    daemon = relative.startswith("Sources/Daemon/")
    for number, raw in enumerate(lines, 1):
        line = code_of(raw)
        if FORCED.search(line):
            yield f"{relative}:{number}: a forced try or cast: {raw.strip()}"
        if daemon and FORCED_MEMBER.search(line):
            yield f"{relative}:{number}: a JSON member forced out: {raw.strip()}"
        for match in INTEGER.finditer(line):
            inner = argument(line, match.end() - 1)
            if LABELLED.match(inner) or inner.lstrip().startswith("CheckedNumbers."):
                continue
            if FLOATING.search(inner):
                yield f"{relative}:{number}: an integer from a floating value: {raw.strip()}"


SELF_TEST = {
    "let a = Int(d * 1e9)": True,
    "let b = UInt64(max(0, seconds) * 1000)": True,
    "let c = try! JSONParser.parse(text)": True,
    "let e = value as! String": True,
    "let f = Int64(Date().timeIntervalSince1970)": True,
    "let g = Int(exactly: d)": False,
    "let h = Int32(clamping: CheckedNumbers.wholePart(x))": False,
    "let i = Int(text) // seconds": False,
    "let j = UInt8(ascii: \"0\")": False,
    "let k = params[\"handle\"]!": True,
}


def self_test() -> int:
    """Each line above is found, or not, as it says."""
    judged = lambda line: any(True for _ in lines_problems([line], "Sources/Daemon/t.swift"))
    wrong = [line for line, bad in SELF_TEST.items() if judged(line) != bad]
    for line in wrong:
        print(f"check-traps self-test: misjudged: {line}")
    return 1 if wrong else 0


def main() -> int:
    if "--self-test" in sys.argv:
        return self_test()
    found = []
    for path in sorted((ROOT / "Sources").rglob("*.swift")):
        relative = path.relative_to(ROOT).as_posix()
        if relative not in ALLOWED:
            found.extend(problems(path, relative))
    for problem in found:
        print(problem)
    if found:
        print(f"check-traps: {len(found)} places that can trap on a value from outside; see scripts/check-traps.py")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
