"""What a Python source tree imports, read from the syntax tree.

Imports inside functions, relative imports and `importlib.import_module("...")` /
`__import__("...")` calls with a literal name are all seen; nothing is executed.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path


def module_name(path: Path, root: Path, package: str) -> str:
    """The dotted name of `path`, a file under `root`, which is the package `package`."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([package, *parts])


def imported_names(tree: ast.AST, module: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, dotted name) for every import in `tree`; `from a import b` yields `a` and `a.b`."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join(anchor + ([base] if base else []))
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0]
            literal = first.value if isinstance(first, ast.Constant) else None
            if name in ("import_module", "__import__") and isinstance(literal, str):
                found.append((node.lineno, literal))
    return found


def imports_under(root: Path, package: str) -> Iterator[tuple[Path, int, str]]:
    """(path relative to `root`, line, dotted name) for every import of every file under it."""
    for path in sorted(root.rglob("*.py")):
        module = module_name(path, root, package)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for line, name in imported_names(tree, module, path.name == "__init__.py"):
            yield path.relative_to(root), line, name


def matches(name: str, prefix: str) -> bool:
    """True if the dotted `name` is the module `prefix` or lies inside it."""
    return name == prefix or name.startswith(prefix + ".")
