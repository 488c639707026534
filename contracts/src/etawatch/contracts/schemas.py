"""JSON Schemas of the messages, and the backward-compatibility check between versions.

``python -m etawatch.contracts.schemas --write`` writes the schema of every current model to
``contracts/schemas/<type>/v<version>.json``. A committed version is never overwritten: with
``extra="forbid"`` even an added optional field breaks older readers, so any change is a new
version, which must read everything earlier versions allowed.

Backward compatible means: every message valid under the old schema is valid under the new
one, so a consumer on the new model reads everything that was ever published.
"""

import argparse
import json
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from etawatch.contracts.base import Message
from etawatch.contracts.messages import ALL_MESSAGES

Schema = dict[str, Any]

SCHEMA_DIR = Path(__file__).resolve().parents[3] / "schemas"


def generate(model: type[Message]) -> Schema:
    schema = model.model_json_schema(mode="validation")
    schema["$id"] = f"{model.TYPE}/v{model.VERSION}"
    schema["x-message-type"] = model.TYPE
    schema["x-message-version"] = model.VERSION
    return schema


def render(schema: Schema) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def schema_path(model: type[Message], version: int | None = None, root: Path = SCHEMA_DIR) -> Path:
    return root / model.TYPE / f"v{model.VERSION if version is None else version}.json"


def committed_versions(model: type[Message], root: Path = SCHEMA_DIR) -> dict[int, Schema]:
    folder = root / model.TYPE
    versions: dict[int, Schema] = {}
    for path in sorted(folder.glob("v*.json")):
        versions[int(path.stem[1:])] = json.loads(path.read_text(encoding="utf-8"))
    return versions


# --- compatibility -----------------------------------------------------------------------------


class _Resolver:
    def __init__(self, root: Schema) -> None:
        self.defs: dict[str, Schema] = root.get("$defs", {})

    def __call__(self, node: Schema) -> Schema:
        seen = 0
        while "$ref" in node:
            ref = node["$ref"]
            if not ref.startswith("#/$defs/"):
                raise ValueError(f"unsupported $ref {ref}")
            merged = {k: v for k, v in node.items() if k != "$ref"}
            node = {**self.defs[ref.removeprefix("#/$defs/")], **merged}
            seen += 1
            if seen > 50:
                raise ValueError("$ref cycle")
        return node


_TYPE_WIDENS = {"integer": {"integer", "number"}}
_LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
_UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")


def _types(node: Schema) -> set[str] | None:
    t = node.get("type")
    if t is None:
        return None
    return {t} if isinstance(t, str) else set(t)


def _branches(node: Schema) -> list[Schema]:
    for key in ("anyOf", "oneOf"):
        if key in node:
            return list(node[key])
    return [node]


def backward_problems(old: Schema, new: Schema) -> list[str]:
    """Why a message valid under ``old`` might be rejected by ``new``; empty when compatible."""
    return list(_check(old, new, _Resolver(old), _Resolver(new), "$"))


def _check(old: Schema, new: Schema, ro: _Resolver, rn: _Resolver, at: str) -> Iterator[str]:
    old, new = ro(old), rn(new)
    old_branches, new_branches = _branches(old), _branches(new)
    if len(old_branches) > 1 or len(new_branches) > 1:
        for branch in old_branches:
            if not any(not list(_check(branch, nb, ro, rn, at)) for nb in new_branches):
                yield f"{at}: a value accepted before ({_describe(ro(branch))}) is now rejected"
        return
    yield from _check_types(old, new, at)
    yield from _check_values(old, new, at)
    yield from _check_bounds(old, new, at)
    if "properties" in old or "properties" in new:
        yield from _check_object(old, new, ro, rn, at)
    if "items" in old and "items" in new:
        yield from _check(old["items"], new["items"], ro, rn, f"{at}[]")
    yield from _check_mapping_values(old, new, ro, rn, at)
    if "prefixItems" in new and new.get("prefixItems") != old.get("prefixItems"):
        yield f"{at}: tuple items changed"


def _check_types(old: Schema, new: Schema, at: str) -> Iterator[str]:
    old_types, new_types = _types(old), _types(new)
    if new_types is None:
        return
    if old_types is None:
        yield f"{at}: type narrowed from any to {sorted(new_types)}"
        return
    for t in old_types:
        if not (_TYPE_WIDENS.get(t, {t}) & new_types):
            yield f"{at}: type {t!r} no longer accepted (now {sorted(new_types)})"


def _check_values(old: Schema, new: Schema, at: str) -> Iterator[str]:
    if "enum" in new:
        allowed = new["enum"]
        before = old.get("enum", [old["const"]] if "const" in old else None)
        if before is None:
            yield f"{at}: narrowed to the values {allowed}"
        else:
            gone = [v for v in before if v not in allowed]
            if gone:
                yield f"{at}: values {gone} removed"
    if "const" in new and old.get("const") != new["const"] and old.get("enum") != [new["const"]]:
        yield f"{at}: narrowed to the constant {new['const']!r}"
    if "format" in new and old.get("format") != new["format"]:
        yield f"{at}: format changed from {old.get('format')!r} to {new['format']!r}"
    if "pattern" in new and old.get("pattern") != new["pattern"]:
        yield f"{at}: pattern changed from {old.get('pattern')!r} to {new['pattern']!r}"
    if new.get("uniqueItems") and not old.get("uniqueItems"):
        yield f"{at}: repeated items no longer accepted"
    step = old.get("multipleOf")
    if "multipleOf" in new and (step is None or _remainder(step, new["multipleOf"]) != 0):
        yield f"{at}: only multiples of {new['multipleOf']} accepted now"


def _remainder(step: float, divisor: float) -> Decimal:
    """``step % divisor`` in decimals: as floats, ``0.3 % 0.1`` is 0.0999..., not 0."""
    return Decimal(str(step)) % Decimal(str(divisor))


def _check_bounds(old: Schema, new: Schema, at: str) -> Iterator[str]:
    for key in _LOWER_BOUNDS:
        if key in new and (key not in old or new[key] > old[key]):
            yield f"{at}: {key} raised to {new[key]}"
    for key in _UPPER_BOUNDS:
        if key in new and (key not in old or new[key] < old[key]):
            yield f"{at}: {key} lowered to {new[key]}"


def _check_mapping_values(
    old: Schema, new: Schema, ro: _Resolver, rn: _Resolver, at: str
) -> Iterator[str]:
    """The values of a mapping (``dict[str, X]``): ``additionalProperties`` as a schema."""
    old_values, new_values = old.get("additionalProperties"), new.get("additionalProperties")
    if new_values is False and old_values is not False:
        yield f"{at}: keys other than its fields no longer accepted"
        return
    if not isinstance(new_values, dict) or new_values == {} or old_values is False:
        return  # any value now; or no other keys before
    if isinstance(old_values, dict) and old_values != {}:
        yield from _check(old_values, new_values, ro, rn, f"{at}{{}}")
    else:  # absent, true or {}: any value before
        yield f"{at}{{}}: values narrowed from any to {_describe(rn(new_values))}"


def _check_object(old: Schema, new: Schema, ro: _Resolver, rn: _Resolver, at: str) -> Iterator[str]:
    old_props: Schema = old.get("properties", {})
    new_props: Schema = new.get("properties", {})
    closed = new.get("additionalProperties") is False
    for name, old_prop in old_props.items():
        if name not in new_props:
            if closed:
                yield f"{at}.{name}: field removed (or renamed)"
            continue
        yield from _check(old_prop, new_props[name], ro, rn, f"{at}.{name}")
    old_required = set(old.get("required", []))
    for name in new.get("required", []):
        if name not in old_required:
            if name in old_props:
                yield f"{at}.{name}: optional field made required"
            else:
                yield f"{at}.{name}: new required field"


def _describe(node: Schema) -> str:
    return json.dumps({k: node[k] for k in ("type", "enum", "const", "format") if k in node})


def compatibility_problems(model: type[Message], root: Path = SCHEMA_DIR) -> dict[int, list[str]]:
    """Problems of the current model against every committed version (transitively all)."""
    current = generate(model)
    return {
        version: problems
        for version, schema in committed_versions(model, root).items()
        if (problems := backward_problems(schema, current))
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--write", action="store_true", help="write the current schemas")
    parser.add_argument("--dir", type=Path, default=SCHEMA_DIR)
    args = parser.parse_args(argv)
    failed = False
    for model in ALL_MESSAGES:
        problems = compatibility_problems(model, args.dir)
        path = schema_path(model, root=args.dir)
        text = render(generate(model))
        if problems:
            failed = True
            for version, issues in problems.items():
                for issue in issues:
                    sys.stderr.write(f"{model.TYPE} v{version}: {issue}\n")
            continue
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        if path.exists():
            failed = True
            sys.stderr.write(
                f"{path} differs from {model.__name__}: a published version never changes. "
                "Bump VERSION and register an upcaster (before the first release, delete the "
                "file and write it again).\n"
            )
            continue
        if args.write:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            sys.stdout.write(f"wrote {path}\n")
        else:
            failed = True
            sys.stderr.write(f"{path} is not current; run with --write\n")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
