# Copyright: iotops.dps_tls contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validate Azure Pipelines YAML files (pipelines and templates) against Azure Pipelines' published JSON schema.

Usage: python check_pipeline_schema.py --schema service-schema.json [--set NAME=VALUE]...
           [--repository ALIAS=DIRECTORY]... FILE...

Azure Pipelines expands template expressions before it reads a file, and the schema knows none of them, so each
file is expanded first, as Azure does at compile time: parameters get their defaults (or the --set values), and
every combination of boolean parameters and of parameters with a list of `values` is expanded and validated on its
own. A parameter without a default gets a stand-in of its type. Templates the file includes are expanded in
place with the parameters it passes (those in another repository when --repository says where it is). Then the file is validated the way Azure reads it:
any scalar is read as a string where the schema says string, and booleans and numbers written as strings are read
as booleans and numbers. Needs PyYAML and jsonschema. Exits 1 when a file is invalid, 0 when every file is valid.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import pathlib
import re
import sys

import jsonschema
import yaml

from pipeline_expressions import ExpressionError, expand, parameter_declarations

NESTING_MAX = 20  # templates within templates, as far as Azure follows them

VARIANTS_MAX = 256  # combinations per file; beyond that, each parameter is varied alone
STAND_INS = {"string": "stand-in", "number": 1, "object": {}, "step": {"bash": "true"}, "stepList": [{"bash": "true"}],
             "job": {"job": "stand_in", "steps": [{"bash": "true"}]}, "stage": {"stage": "stand_in", "jobs": []}}


class _Loader(yaml.SafeLoader):  # pylint: disable=too-many-ancestors
    """YAML as Azure reads it: only true and false are booleans (on, yes, no stay strings); keys are unique."""

    def construct_mapping(self, node, deep=False):
        keys = [self.construct_object(key, deep=True) for key, dummy in node.value]
        repeated = sorted({str(key) for key in keys if keys.count(key) > 1})
        if repeated:
            raise yaml.constructor.ConstructorError(None, None, f"key repeated: {', '.join(repeated)}",
                                                    node.start_mark)
        return super().construct_mapping(node, deep=deep)


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _first in "tTfF":
    _Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                  [_first])


def as_read(node):
    """The document as Azure reads it: every scalar a string, booleans spelt in lower case."""
    if isinstance(node, dict):
        return {str(as_read(key)): as_read(value) for key, value in node.items()}
    if isinstance(node, list):
        return [as_read(item) for item in node]
    if isinstance(node, bool):
        return "true" if node else "false"
    return "" if node is None else str(node)


def _ignores_case(schema):
    return schema.get("ignoreCase") in ("value", "all")


def _enum(validator, enums, instance, schema):
    if isinstance(instance, str) and _ignores_case(schema):
        if instance.lower() not in [str(item).lower() for item in enums]:
            yield jsonschema.ValidationError(f"{instance!r} is not one of {enums}")
        return
    yield from jsonschema.Draft7Validator.VALIDATORS["enum"](validator, enums, instance, schema)


def _pattern(validator, pattern, instance, schema):  # pylint: disable=unused-argument
    flags = re.IGNORECASE if _ignores_case(schema) else 0
    if isinstance(instance, str) and not re.search(pattern, instance, flags):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


def _add_aliases(node):
    """The schema lists other names of task inputs under `aliases`; Azure accepts them as the input itself."""
    if isinstance(node, dict):
        properties = node.get("properties")
        if isinstance(properties, dict):
            for schema in list(properties.values()):
                for alias in schema.get("aliases", []) if isinstance(schema, dict) else []:
                    properties.setdefault(alias, schema)
        for value in node.values():
            _add_aliases(value)
    elif isinstance(node, list):
        for item in node:
            _add_aliases(item)


def make_validator(schema):
    """A draft-07 validator that reads values as Azure does (see as_read) and knows the schema's ignoreCase."""
    _add_aliases(schema)
    checker = jsonschema.Draft7Validator.TYPE_CHECKER.redefine_many({
        "boolean": lambda dummy, value: isinstance(value, str) and value.lower() in ("true", "false"),
        "integer": lambda dummy, value: isinstance(value, str) and re.fullmatch(r"-?\d+", value) is not None,
        "number": lambda dummy, value: isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d+)?", value) is not None,
    })
    cls = jsonschema.validators.extend(jsonschema.Draft7Validator, {"enum": _enum, "pattern": _pattern},
                                       type_checker=checker)
    return cls(schema)


def _mismatches(errors, depth):
    """How many errors say the value is another kind of thing (a missing key, a wrong type, another task name)
    rather than a wrong detail: an anyOf alternative without such errors is the one the value meant."""
    return sum(1 for error in errors if error.validator in ("required", "type", "pattern", "enum", "const")
               and len(error.absolute_path) <= depth + (error.validator != "required"))


def _leaves(error):
    """The errors that say what is wrong: inside an anyOf or oneOf, those of the alternative the value meant."""
    if not error.context:
        return [error]
    alternatives = {}
    for item in error.context:
        alternatives.setdefault(item.relative_schema_path[0], []).append(item)
    depth = len(error.absolute_path)
    meant = min(alternatives.values(), key=lambda errors: (_mismatches(errors, depth), len(errors)))
    return [leaf for item in meant for leaf in _leaves(item)]


def schema_errors(validator, document):
    """One line per problem: where in the document, and what."""
    lines = []
    for error in validator.iter_errors(as_read(document)):
        for leaf in _leaves(error):
            where = "/".join(str(part) for part in leaf.absolute_path) or "(top)"
            lines.append(f"at {where}: {leaf.message}")
    return sorted(set(lines))


def read_yaml(path):
    return yaml.load(pathlib.Path(path).read_text(encoding="utf-8"), Loader=_Loader)  # nosec B506


def template_loader(directory, repositories, depth=0):
    """Reads `- template:` references as Azure finds them: a path relative to the including file, or from the
    repository root with a leading /, in the including file's repository or in `path@alias` (repositories maps
    aliases to directories; "self" is the pipeline's repository). None for a repository it was not given."""
    def load(reference):
        path, dummy, alias = str(reference).partition("@")
        root = repositories.get(alias or "self")
        if root is None:
            return None
        here = directory if not alias else root
        target = pathlib.Path(root, path.lstrip("/")) if path.startswith("/") or alias else pathlib.Path(here, path)
        if depth >= NESTING_MAX:
            raise ExpressionError(f"templates nested deeper than {NESTING_MAX} at {reference}")
        try:
            document = read_yaml(target)
        except (OSError, yaml.YAMLError) as exc:
            raise ExpressionError(f"template {reference}: {exc}") from exc
        inner = dict(repositories, self=root)
        return document, template_loader(target.parent, inner, depth + 1)
    return load


def parameter_variants(declarations, given):
    """The parameter values to expand a file with: defaults, --set values and stand-ins, then every combination of
    the booleans and of the parameters with a list of values (each varied alone when there are too many)."""
    base, choices = {}, {}
    for name, declaration in declarations.items():
        kind = declaration.get("type", "string")
        if name in given:
            base[name] = given[name]
            continue
        base[name] = declaration["default"] if "default" in declaration else STAND_INS.get(kind, "stand-in")
        if kind == "boolean":
            choices[name] = [bool(base[name]), not base[name]]
        elif declaration.get("values"):
            choices[name] = list(declaration["values"])
    names = sorted(choices)
    if math.prod(len(values) for values in choices.values()) <= VARIANTS_MAX:
        return [dict(base, **dict(zip(names, values))) for values in itertools.product(*(choices[n] for n in names))]
    return [base] + [dict(base, **{name: value}) for name in names for value in choices[name][1:]]


def check_file(path, validator, given, repositories):
    """The problems of one file, each with the parameter values it was expanded with."""
    load = template_loader(pathlib.Path(path).parent, dict({"self": pathlib.Path.cwd()}, **repositories))
    try:
        document = read_yaml(path)
        declarations = parameter_declarations(document)
    except (OSError, yaml.YAMLError, ExpressionError) as exc:
        return [f"{path}: {exc}"]
    found = {}  # each problem once, with the first parameter values that show it and how many do
    for values in parameter_variants(declarations, given):
        shown = ", ".join(f"{name}={json.dumps(values[name])}" for name in sorted(values)
                          if declarations[name].get("type") == "boolean" or declarations[name].get("values"))
        try:
            lines = schema_errors(validator, expand(document, values, load))
        except ExpressionError as exc:
            lines = [str(exc)]
        for line in lines:
            found.setdefault(line, [shown, 0])[1] += 1
    return [f"{path} {line}" + (f" (with {shown}" + (f", and {count - 1} more combinations)" if count > 1 else ")")
                                if shown else "") for line, (shown, count) in found.items()]


def parse_set(text):
    name, sep, value = text.partition("=")
    if not sep or not re.fullmatch(r"[A-Za-z_]\w*", name):
        raise argparse.ArgumentTypeError(f"--set takes NAME=VALUE, not {text!r}")
    return name, yaml.load(value, Loader=_Loader)  # nosec B506


def parse_repository(text):
    alias, sep, directory = text.partition("=")
    if not sep or not re.fullmatch(r"\w[\w.-]*", alias) or not pathlib.Path(directory).is_dir():
        raise argparse.ArgumentTypeError(f"--repository takes ALIAS=DIRECTORY (an existing one), not {text!r}")
    return alias, pathlib.Path(directory)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Validate Azure Pipelines files against the published schema.")
    parser.add_argument("--schema", required=True, help="service-schema.json")
    parser.add_argument("--if-schema-exists", action="store_true", help="skip, with a message, without the schema")
    parser.add_argument("--set", action="append", default=[], type=parse_set, metavar="NAME=VALUE",
                        help="a parameter's value (YAML), for every file that declares it")
    parser.add_argument("--repository", action="append", default=[], type=parse_repository,
                        metavar="ALIAS=DIRECTORY", help="where templates `path@ALIAS` are (self: the current directory)")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args(argv)
    if args.if_schema_exists and not pathlib.Path(args.schema).is_file():
        print(f"skipped: no Azure Pipelines schema at {args.schema}")
        return 0
    with open(args.schema, encoding="utf-8-sig") as handle:
        validator = make_validator(json.load(handle))
    problems = []
    for path in args.files:
        problems += check_file(path, validator, dict(args.set), dict(args.repository))
    for line in problems:
        print(f"INVALID: {line}")
    if problems:
        return 1
    print(f"ok: {len(args.files)} file(s) valid against {args.schema}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
