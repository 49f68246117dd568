# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Azure Pipelines template expressions, expanded as Azure does at compile time, for check_pipeline_schema.py.

Covers what pipelines and templates commonly use: `${{ parameters.x }}` (typed where it is a whole value, text
inside a string), `${{ if }}`, `${{ elseif }}`, `${{ else }}`, `${{ each x in ... }}` and `${{ insert }}` in
mappings and sequences, literals, property access and the usual functions (eq, ne, and, or, not, in, contains,
coalesce, format, replace, ...). Anything else is an ExpressionError: a file is never passed on a guess.
Runtime expressions (`$[ ... ]`) and macros (`$(x)`) are left as they are, as Azure leaves them to the agent.
"""

from __future__ import annotations

import copy
import json
import re

WHOLE = re.compile(r"^\$\{\{\s*(.*?)\s*\}\}$", re.S)
INSIDE = re.compile(r"\$\{\{\s*(.*?)\s*\}\}", re.S)
TOKEN = re.compile(r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>-?\d+(?:\.\d+)?)|(?P<name>[A-Za-z_][\w-]*)"
                   r"|(?P<punct>[(),.\[\]]))")
LOADER = " load"  # the scope's template loader: a name no expression can spell
DIRECTIVE = re.compile(r"^(if|elseif|each|insert|else)\b\s*(.*)$", re.S)


class ExpressionError(ValueError):
    """An expression or directive the expansion cannot evaluate."""


def _text(value):
    """A value put into a string, as Azure writes it (booleans as True and False)."""
    if isinstance(value, (dict, list)):
        raise ExpressionError(f"a {type(value).__name__} cannot be put inside a string: {value!r}")
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _truthy(value):
    if isinstance(value, str):
        return value != ""
    return bool(value) if not isinstance(value, (dict, list)) else True


def _like(value, model):
    """value converted to model's type, as Azure converts the right side of a comparison."""
    if isinstance(model, bool):
        return _truthy(value)
    if isinstance(model, (int, float)) and not isinstance(value, (int, float)):
        try:
            return float(value)
        except (TypeError, ValueError):
            return float("nan")
    if isinstance(model, str):
        return _text(value).lower() if not isinstance(value, bool) else str(value).lower()
    return value


def _eq(left, right):
    if isinstance(left, str):
        return left.lower() == _like(right, left)
    return left == _like(right, left)


def _format(pattern, *args):
    return re.sub(r"\{(\d+)\}", lambda match: _text(args[int(match.group(1))]), pattern)


FUNCTIONS = {
    "and": lambda *args: all(_truthy(arg) for arg in args),
    "or": lambda *args: any(_truthy(arg) for arg in args),
    "not": lambda arg: not _truthy(arg),
    "eq": _eq,
    "ne": lambda left, right: not _eq(left, right),
    "in": lambda needle, *hay: any(_eq(needle, item) for item in hay),
    "notin": lambda needle, *hay: not any(_eq(needle, item) for item in hay),
    "contains": lambda hay, needle: _text(needle).lower() in _text(hay).lower(),
    "containsvalue": lambda hay, needle: any(_eq(item, needle) for item in
                                             (hay.values() if isinstance(hay, dict) else hay)),
    "startswith": lambda text, start: _text(text).lower().startswith(_text(start).lower()),
    "endswith": lambda text, end: _text(text).lower().endswith(_text(end).lower()),
    "coalesce": lambda *args: next((arg for arg in args if arg not in (None, "")), ""),
    "iif": lambda condition, yes, no: yes if _truthy(condition) else no,
    "format": _format,
    "replace": lambda text, old, new: _text(text).replace(_text(old), _text(new)),
    "lower": lambda text: _text(text).lower(),
    "upper": lambda text: _text(text).upper(),
    "length": lambda value: len(value if isinstance(value, (dict, list)) else _text(value)),
    "join": lambda separator, items: _text(separator).join(_text(item) for item in items),
    "split": lambda text, separator: _text(text).split(_text(separator)),
    "converttojson": lambda value: json.dumps(value, indent=2),
}


class _Parser:
    """One expression: literals, names with .property or ['property'], and function calls."""

    def __init__(self, text, scope):
        self.tokens, self.scope, self.text = self._tokens(text), scope, text

    @staticmethod
    def _tokens(text):
        tokens, position = [], 0
        while position < len(text.rstrip()):
            match = TOKEN.match(text, position)
            if not match:
                raise ExpressionError(f"cannot read the expression {text!r} at {text[position:]!r}")
            tokens.append((match.lastgroup, match.group(match.lastgroup)))
            position = match.end()
        return tokens

    def _take(self, expected=None):
        if not self.tokens:
            raise ExpressionError(f"the expression {self.text!r} ends too early")
        kind, value = self.tokens.pop(0)
        if expected is not None and value != expected:
            raise ExpressionError(f"expected {expected!r}, found {value!r} in {self.text!r}")
        return kind, value

    def parse(self):
        value = self._value()
        if self.tokens:
            raise ExpressionError(f"unexpected {self.tokens[0][1]!r} in {self.text!r}")
        return value

    def _value(self):
        kind, token = self._take()
        if kind == "string":
            return token[1:-1].replace("''", "'")
        if kind == "number":
            return float(token) if "." in token else int(token)
        if kind != "name":
            raise ExpressionError(f"unexpected {token!r} in {self.text!r}")
        if self.tokens and self.tokens[0][1] == "(":
            return self._call(token)
        literals = {"true": True, "false": False, "null": None}
        if token.lower() in literals:
            return literals[token.lower()]
        if token not in self.scope:
            raise ExpressionError(f"{token!r} is not known at compile time in {self.text!r}")
        return self._properties(self.scope[token])

    def _properties(self, value):
        while self.tokens and self.tokens[0][1] in (".", "["):
            if self._take()[1] == ".":
                name = self._take()[1]
            else:
                name = self._value()
                self._take("]")
            if not isinstance(value, dict) or name not in value:
                raise ExpressionError(f"no property {name!r} in {self.text!r}")
            value = value[name]
        return value

    def _call(self, name):
        function = FUNCTIONS.get(name.lower())
        if function is None:
            raise ExpressionError(f"the function {name} is not known to this check, in {self.text!r}")
        self._take("(")
        args = []
        while self.tokens and self.tokens[0][1] != ")":
            args.append(self._value())
            if self.tokens and self.tokens[0][1] == ",":
                self._take()
        self._take(")")
        try:
            return function(*args)
        except (TypeError, IndexError) as exc:
            raise ExpressionError(f"{name}: {exc} in {self.text!r}") from exc


def evaluate(text, scope):
    return _Parser(text, scope).parse()


def _scalar(text, scope):
    whole = WHOLE.match(text)
    if whole:
        return copy.deepcopy(evaluate(whole.group(1), scope))
    return INSIDE.sub(lambda match: _text(evaluate(match.group(1), scope)), text)


def _directive(key):
    whole = WHOLE.match(key) if isinstance(key, str) else None
    return DIRECTIVE.match(whole.group(1)) if whole else None


def _bodies(directive, body, scope, chain):
    """The bodies a directive inserts, each with its scope, and the state of the if/elseif/else chain after it
    (None: no open chain; True: a branch was taken; False: none yet)."""
    kind, rest = directive.group(1), directive.group(2).strip()
    if kind in ("elseif", "else") and chain is None:
        raise ExpressionError(f"{kind} without an if before it")
    if kind == "if" or (kind == "elseif" and not chain):
        taken = _truthy(evaluate(rest, scope))
        return ([(body, scope)] if taken else []), taken
    if kind == "elseif":
        return [], True
    if kind == "else":
        return ([] if chain else [(body, scope)]), None
    if kind == "insert":
        return [(body, scope)], None
    loop = re.fullmatch(r"(\w+)\s+in\s+(.+)", rest, re.S)
    if not loop:
        raise ExpressionError(f"each needs NAME in EXPRESSION, not {rest!r}")
    items = evaluate(loop.group(2), scope)
    if isinstance(items, dict):
        items = [{"key": key, "value": value} for key, value in items.items()]
    return [(body, dict(scope, **{loop.group(1): item})) for item in items or []], None


def _mapping(node, scope):
    result, chain = {}, None
    for key, value in node.items():
        directive = _directive(key)
        if directive is None:
            chain = None
            result[_expand(key, scope)] = _expand(value, scope)
            continue
        bodies, chain = _bodies(directive, value, scope, chain)
        for body, inner in bodies:
            merged = _expand(body, inner)
            if not isinstance(merged, dict):
                raise ExpressionError(f"{key} in a mapping must hold a mapping, not {merged!r}")
            result.update(merged)
    return result


def _included(item, scope):
    """A `- template:` item's content, expanded with the parameters it passes, when the template can be read;
    None when it cannot (a template in a repository the check was not told about)."""
    load = scope.get(LOADER)
    found = load(item["template"]) if load else None
    if found is None:
        return None
    document, inner_load = found
    where = f"template {item['template']}"
    values = bind(parameter_declarations(document), item.get("parameters") or {}, where)
    content = [value for key, value in expand(document, values, inner_load).items() if key != "parameters"]
    if len(content) != 1 or not isinstance(content[0], list):
        raise ExpressionError(f"{where} must hold one list (steps, jobs, stages or variables) besides its parameters")
    return content[0]


def _sequence(node, scope):
    result, chain = [], None
    for item in node:
        directive = _directive(next(iter(item))) if isinstance(item, dict) and len(item) == 1 else None
        if directive is None:
            chain = None
            expanded = _expand(item, scope)
            included = _included(expanded, scope) if isinstance(expanded, dict) and "template" in expanded else None
            result.extend([expanded] if included is None else included)
            continue
        bodies, chain = _bodies(directive, next(iter(item.values())), scope, chain)
        for body, inner in bodies:
            expanded = _expand(body, inner)
            result.extend(expanded if isinstance(expanded, list) else [expanded])
    return result


def _expand(node, scope):
    if isinstance(node, dict):
        return _mapping(node, scope)
    if isinstance(node, list):
        return _sequence(node, scope)
    if isinstance(node, str):
        return _scalar(node, scope)
    return node


def parameter_declarations(document):
    """A file's parameters by name: the list form (name, type, default, values) or the older mapping form."""
    declared = document.get("parameters") if isinstance(document, dict) else None
    if declared is None:
        return {}
    if isinstance(declared, dict):
        return {str(name): {"type": "object", "default": value} for name, value in declared.items()}
    if not isinstance(declared, list) or not all(isinstance(item, dict) and "name" in item for item in declared):
        raise ExpressionError("parameters must be a list of mappings with a name each")
    return {str(item["name"]): item for item in declared}


def _typed(value, kind, where):
    """A value passed to a template, converted to the parameter's type as Azure converts it."""
    if kind == "boolean" and isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if kind == "number" and isinstance(value, str):
        try:
            return float(value) if "." in value else int(value)
        except ValueError as exc:
            raise ExpressionError(f"{where}: {value!r} is not a number") from exc
    if kind == "boolean" and not isinstance(value, bool):
        raise ExpressionError(f"{where}: {value!r} is not a boolean")
    return value


def bind(declarations, given, where):
    """The parameter values a template gets: what is passed, else the defaults; an unknown parameter, a missing
    required one or a value outside `values` is an error, as in Azure."""
    unknown = sorted(set(given) - set(declarations))
    if unknown:
        raise ExpressionError(f"{where}: parameters it does not declare: {', '.join(unknown)}")
    values = {}
    for name, declaration in declarations.items():
        if name not in given and "default" not in declaration:
            raise ExpressionError(f"{where}: the required parameter {name} is missing")
        value = _typed(given[name], declaration.get("type", "string"), f"{where}: {name}") \
            if name in given else declaration["default"]
        allowed = declaration.get("values")
        if allowed and not any(_eq(value, item) for item in allowed):
            raise ExpressionError(f"{where}: {name} is {value!r}, not one of {allowed}")
        values[name] = value
    return values


def expand(document, values, load=None):
    """The document with every template expression expanded for these parameter values, and the templates that
    load(reference) can read ((document, load for that template's references) or None) put in place; the
    parameters' declarations stay as they are (the schema checks them)."""
    if not isinstance(document, dict):
        return document
    scope = {"parameters": values, LOADER: load}
    body = {key: value for key, value in document.items() if key != "parameters"}
    expanded = _mapping(body, scope)
    if "parameters" in document:
        expanded = dict({"parameters": document["parameters"]}, **expanded)
    return expanded
