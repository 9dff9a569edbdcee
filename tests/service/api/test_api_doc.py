"""docs/api.md and docs/domain.md kept in step with the code: the routes the app serves, the error
codes the code can emit, the functions domain.md links to, and links that stay inside the repo."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import fastapi.routing
import pytest
from fastapi import FastAPI
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from domain.errors import DomainError
from service.api.main import create_app
from service.api.problems import STATUS_OF_KIND
from service.app import TrainRec
from service.storage.config import storage_from_url

ROOT = Path(__file__).resolve().parents[3]
DOCS = ROOT / "docs"
API_DOC = DOCS / "api.md"
DOMAIN_DOC = DOCS / "domain.md"
SOURCES = ("domain", "service", "projections")

# A route entry: a table row whose first cell is `METHOD /path` (the path template as registered).
ROUTE_ROW = re.compile(r"^\|\s*`([A-Z]+) (/[^`\s]*)`\s*\|")
ROUTE_HEADING = re.compile(r"^#{2,4}\s+`([A-Z]+) (/[^`\s]*)`\s*$")
CODE_ROW = re.compile(r"^\|\s*`([a-z][a-z0-9_]*)`\s*\|\s*([0-9]{3}|any)\s*\|")
FUNCTION_LINK = re.compile(r"\[`([A-Za-z_][\w.]*)`\]\(([^)\s]+)\)")
LINK = re.compile(r"\]\(([^)\s]+)\)")


# --- routes ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def app() -> Iterator[FastAPI]:
    service = TrainRec(storage_from_url("memory://"))
    yield create_app(service, "test-secret-0123456789-0123456789-abcdef")
    service.close()


def served_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route the app serves, but FastAPI's own documentation pages."""
    framework = {app.openapi_url, app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url}
    iter_contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    # FastAPI 0.165 keeps an included router as one entry of app.routes; older ones flatten them
    routes = list(iter_contexts(app.routes)) if iter_contexts is not None else list(app.routes)
    served = set()
    for route in routes:
        path = route.path
        if path in framework:
            continue
        mount = getattr(route, "original_route", route)  # FastAPI 0.165: a context around the route
        if isinstance(mount, Mount) and isinstance(mount.app, StaticFiles):
            served.add(("GET", f"{path}/{{path}}"))  # files: GET only
            continue
        methods = set(getattr(route, "methods", None) or {"ANY"})  # any other mount or websocket too
        if "GET" in methods:
            methods.discard("HEAD")  # added by Starlette to every GET route
        served |= {(method, path) for method in methods}
    return served


def doc_routes(pattern: re.Pattern[str]) -> list[tuple[str, str]]:
    return [(m[1], m[2]) for line in API_DOC.read_text(encoding="utf-8").splitlines() if (m := pattern.match(line))]


def _show(routes: set[tuple[str, str]]) -> str:
    return ", ".join(f"{method} {path}" for method, path in sorted(routes, key=lambda r: (r[1], r[0]))) or "none"


def test_api_doc_lists_exactly_the_routes_the_app_serves(app: FastAPI) -> None:
    served = served_routes(app)
    documented = set(doc_routes(ROUTE_ROW))
    assert served, "the app serves no routes: the route walk is broken"
    assert documented == served, (
        f"served but not in docs/api.md's route table: {_show(served - documented)}; "
        f"in docs/api.md's route table but not served: {_show(documented - served)}"
    )


def test_api_doc_describes_each_listed_route_once() -> None:
    rows = doc_routes(ROUTE_ROW)
    headings = doc_routes(ROUTE_HEADING)
    twice = {route for route in rows if rows.count(route) > 1} | {r for r in headings if headings.count(r) > 1}
    assert not twice, f"listed twice in docs/api.md: {_show(twice)}"
    assert set(headings) == set(rows), (
        f"in the route table without a section: {_show(set(rows) - set(headings))}; "
        f"a section without a row in the route table: {_show(set(headings) - set(rows))}"
    )


# --- error codes -----------------------------------------------------------------------------
def _error_classes() -> dict[str, type[DomainError]]:
    found: dict[str, type[DomainError]] = {}
    pending: list[type[DomainError]] = [DomainError]
    while pending:
        cls = pending.pop()
        found[cls.__name__] = cls
        pending.extend(cls.__subclasses__())
    return found


ERROR_CLASSES = _error_classes()
# Functions that raise NotFound with a code their callers pass: `load(cls, id, code, detail)` and
# `get(cls, id, code, detail)` (service/application.py). Their callers' literal codes are collected.
PASS_THROUGH = ("load", "get")
NOT_FOUND = STATUS_OF_KIND[ERROR_CLASSES["NotFound"].kind]


def _name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _text(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


class CodeFinder(ast.NodeVisitor):
    """The codes one module can emit, with their HTTP status (None: any), and the error
    constructions whose code it cannot read."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.codes: dict[str, set[int | None]] = defaultdict(set)
        self.unreadable: list[str] = []
        self.functions: list[ast.FunctionDef | ast.AsyncFunctionDef] = []

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.functions.append(node)
        self.generic_visit(node)
        self.functions.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def _passed_through(self, arg: ast.expr) -> bool:
        """`arg` is a parameter of the enclosing pass-through function."""
        if not self.functions or self.functions[-1].name not in PASS_THROUGH or not isinstance(arg, ast.Name):
            return False
        params = self.functions[-1].args
        return arg.id in {a.arg for a in [*params.posonlyargs, *params.args, *params.kwonlyargs]}

    def _from_named_id(self, arg: ast.expr) -> bool:
        """`arg` is bound in the enclosing function from `named_id(...)`, whose codes are NAMED's."""
        if not self.functions or not isinstance(arg, ast.Name):
            return False
        for node in ast.walk(self.functions[-1]):
            if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                    and _name(node.value.func) == "named_id"
                    and any(isinstance(n, ast.Name) and n.id == arg.id for t in node.targets for n in ast.walk(t))):
                return True
        return False

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        # NAMED: {kind: (to_uuid, not-found code, detail)}, the codes of `named_id`
        if _name(node.target) == "NAMED" and isinstance(node.value, ast.Dict):
            for value in node.value.values:
                if isinstance(value, ast.Tuple) and len(value.elts) == 3 and _text(value.elts[1]):
                    self.codes[str(_text(value.elts[1]))].add(NOT_FOUND)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        name = _name(node.func)
        if name in ERROR_CLASSES:
            cls = ERROR_CLASSES[name]
            arg = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "code"), None)
            code = _text(arg)
            if code is not None:
                self.codes[code].add(STATUS_OF_KIND.get(cls.kind, 409))
            elif arg is None or not self._passed_through(arg):
                self.unreadable.append(f"{self.where}:{node.lineno} {ast.unparse(node)[:80]}")
        elif name in PASS_THROUGH and len(node.args) >= 3 and isinstance(node.args[0], ast.Name):
            code = _text(node.args[2])
            if code:
                self.codes[code].add(NOT_FOUND)
            elif code is None and not self._passed_through(node.args[2]) and not self._from_named_id(node.args[2]):
                self.unreadable.append(f"{self.where}:{node.lineno} {ast.unparse(node)[:80]}")
        elif name == "problem" and len(node.args) >= 2:
            # problem(status, code, detail): literal codes; the handlers relay domain codes (above)
            # and CODES_OF_STATUS's (below)
            status, code = node.args[0], _text(node.args[1])
            if code is not None and isinstance(status, ast.Constant) and isinstance(status.value, int):
                self.codes[code].add(status.value)
        elif (name == "get" and isinstance(node.func, ast.Attribute) and _name(node.func.value) == "CODES_OF_STATUS"
              and len(node.args) == 2 and _text(node.args[1])):
            self.codes[str(_text(node.args[1]))].add(None)  # the fallback for any other status
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        if any(_name(target) == "CODES_OF_STATUS" for target in node.targets) and isinstance(node.value, ast.Dict):
            for key, value in zip(node.value.keys, node.value.values, strict=True):
                if isinstance(key, ast.Constant) and isinstance(key.value, int) and _text(value):
                    self.codes[str(_text(value))].add(key.value)
        self.generic_visit(node)


def emitted_codes() -> tuple[dict[str, set[int | None]], list[str]]:
    codes: dict[str, set[int | None]] = defaultdict(set)
    unreadable: list[str] = []
    for folder in SOURCES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            finder = CodeFinder(str(path.relative_to(ROOT)))
            finder.visit(ast.parse(path.read_text(encoding="utf-8")))
            for code, statuses in finder.codes.items():
                codes[code] |= statuses
            unreadable += finder.unreadable
    return codes, unreadable


def documented_codes() -> dict[str, str]:
    """The error-code table of docs/api.md: code → status ("any" for none in particular)."""
    text = API_DOC.read_text(encoding="utf-8")
    section = text.split("\n## Error codes\n", 1)
    assert len(section) == 2, "docs/api.md has no '## Error codes' section"
    table = section[1].split("\n## ", 1)[0]
    rows = [(m[1], m[2]) for line in table.splitlines() if (m := CODE_ROW.match(line))]
    twice = sorted({code for code, _ in rows if [c for c, _ in rows].count(code) > 1})
    assert not twice, f"listed twice in docs/api.md's error codes: {', '.join(twice)}"
    return dict(rows)


def test_every_error_code_is_found_by_the_scan() -> None:
    codes, unreadable = emitted_codes()
    assert not unreadable, (
        "error constructions whose code the scan cannot read (give them a literal code, or name the "
        f"function in PASS_THROUGH): {'; '.join(unreadable)}"
    )
    for code in ("forbidden_scope", "teacher_not_found", "hours_exceed_programme", "invalid_input",
                 "payload_too_large", "internal_error"):
        assert code in codes, f"the scan missed {code}: it is broken"


def test_api_doc_error_table_lists_exactly_the_codes_the_code_can_emit() -> None:
    codes, _ = emitted_codes()
    documented = documented_codes()
    missing = sorted(set(codes) - set(documented))
    extra = sorted(set(documented) - set(codes))
    assert (missing, extra) == ([], []), (
        f"emitted but not in docs/api.md's error codes: {', '.join(missing) or 'none'}; "
        f"in docs/api.md's error codes but emitted nowhere: {', '.join(extra) or 'none'}"
    )


def test_api_doc_error_table_gives_each_code_its_status() -> None:
    codes, _ = emitted_codes()
    documented = documented_codes()
    wrong = []
    for code, statuses in sorted(codes.items()):
        fixed = {s for s in statuses if s is not None}
        if len(fixed) > 1:
            wrong.append(f"{code} is emitted with several statuses {sorted(fixed)}")
        elif code in documented:
            expected = str(fixed.pop()) if fixed else "any"
            if documented[code] != expected:
                wrong.append(f"{code}: docs say {documented[code]}, the code gives {expected}")
    assert not wrong, "; ".join(wrong)


# --- docs/domain.md's function links ---------------------------------------------------------
def _defines(body: list[ast.stmt], name: str) -> ast.stmt | None:
    """The def, class or assignment of `name` directly in `body`."""
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name:
            return node
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, ast.AnnAssign) else []
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            return node
    return None


def defined(path: Path, dotted: str) -> bool:
    """Whether `path` defines `name` (a module-level function, class or constant) or
    `Class.member` (a method or attribute of a class defined there)."""
    body = ast.parse(path.read_text(encoding="utf-8")).body
    parts = dotted.split(".")
    for part in parts[:-1]:
        found = _defines(body, part)
        if not isinstance(found, ast.ClassDef):
            return False
        body = found.body
    return _defines(body, parts[-1]) is not None


def function_links(doc: Path) -> list[tuple[str, str]]:
    return [(m[1], m[2]) for m in FUNCTION_LINK.finditer(doc.read_text(encoding="utf-8")) if m[2].endswith(".py")]


def test_domain_doc_links_name_functions_that_exist() -> None:
    links = function_links(DOMAIN_DOC)
    assert len(links) > 50, "docs/domain.md links to no functions: the link pattern is broken"
    broken = []
    for name, target in links:
        path = (DOCS / target).resolve()
        if not path.is_file():
            broken.append(f"{name} → {target}: no such file")
        elif not defined(path, name):
            broken.append(f"{name} → {target}: not defined there")
    assert not broken, "docs/domain.md links to what does not exist: " + "; ".join(sorted(set(broken)))


# --- links stay inside the repo --------------------------------------------------------------
def _slug(heading: str) -> str:
    """The anchor a Markdown renderer (GitHub's) gives a heading."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "").strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(doc: Path) -> set[str]:
    return {_slug(line.lstrip("#")) for line in doc.read_text(encoding="utf-8").splitlines() if line.startswith("#")}


@pytest.mark.parametrize("doc", [API_DOC, DOMAIN_DOC], ids=lambda d: d.name)
def test_doc_links_resolve_inside_the_repo(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    for outside in ("DOMAIN.md", "API.md", "shared/", "seeds/"):
        assert outside not in text, f"{doc.name} refers to {outside}, which is not in the repo"
    broken = []
    for target in LINK.findall(text):
        file_part, _, anchor = target.partition("#")
        if re.match(r"^[a-z]+:", file_part) or file_part.startswith("/"):
            broken.append(f"{target}: not a relative link")
            continue
        path = (doc.parent / file_part).resolve() if file_part else doc
        if not path.is_relative_to(ROOT) or not path.exists():
            broken.append(f"{target}: no such file in the repo")
        elif anchor and path.suffix == ".md" and anchor not in _anchors(path):
            broken.append(f"{target}: no such heading")
    assert not broken, f"{doc.name}: " + "; ".join(broken)
