# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Judge the variables a play gives a role against the role's argument specs.

ansible-core's own role argument validation misses two mistakes that cost users hours:
a variable with the role's prefix that the role does not know (a typo: the role silently
uses its default), and a string where a dictionary or list is expected (the validator
converts `a=1` and `x,y` for its own check but hands the role the raw string, which then
reaches a `combine` or a loop). Pure functions over plain data, so tests need no Ansible.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping

# Strings ansible-core's argument spec accepts for a boolean.
_BOOLEAN_STRINGS = frozenset({"yes", "no", "true", "false", "on", "off", "y", "n", "1", "0", "t", "f"})


def closest_name(name: str, known: list[str] | set[str]) -> str | None:
    """The known name most like `name`, or None when nothing is close."""
    matches = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
    return matches[0] if matches else None


def unknown_variables(names, prefix: str, known, outputs=()) -> list[tuple[str, str | None]]:
    """The names with `prefix` that are neither documented options nor the role's own outputs.

    Returns (name, closest documented option or None), sorted by name.
    """
    allowed = set(known) | set(outputs)
    return [
        (name, closest_name(name, set(known)))
        for name in sorted(names)
        if name.startswith(prefix) and name not in allowed
    ]


def describe_unknown(role: str, name: str, suggestion: str | None) -> str:
    """One sentence about a variable the role does not know."""
    hint = f"did you mean {suggestion}?" if suggestion else "see the role's meta/argument_specs.yml for its variables."
    return f"{name} is not a variable of {role} (the role would ignore it): {hint}"


def _shown(value) -> str:
    """The value's kind and a short form of it, for a message: `the string 'a=1'`."""
    if isinstance(value, bool):
        kind = "the boolean"
    elif isinstance(value, str):
        kind = "the string"
        value = str(value)
    elif isinstance(value, (int, float)):
        kind = "the number"
    elif isinstance(value, Mapping):
        kind, value = "a dictionary", dict(value)
    elif isinstance(value, (list, tuple)):
        kind, value = "a list", list(value)
    else:
        kind = f"a {type(value).__name__}"
    text = repr(value)
    return f"{kind} {text if len(text) <= 60 else text[:57] + '...'}"


def _scalar_problem(kind: str, value) -> str | None:
    """Why `value` cannot be an option of scalar `kind`, or None."""
    if kind == "bool":
        if isinstance(value, bool) or value in (0, 1):
            return None
        if isinstance(value, str) and value.lower() in _BOOLEAN_STRINGS:
            return None
        return "must be true or false"
    if kind in ("str", "path") and isinstance(value, (Mapping, list)):
        return "must be a string"
    if kind in ("int", "float") and isinstance(value, (Mapping, list, bool)):
        return "must be a number"
    return None


def type_problems(values: Mapping, options: Mapping, path: str = "") -> list[str]:
    """Messages for values whose shape does not match their option's type.

    Checks only what ansible-core's validator lets through or converts silently:
    dictionaries and lists given as strings (or other scalars), list elements of the
    wrong shape, and nested options of dictionaries and lists of dictionaries.
    """
    problems = []
    for name in sorted(values):
        spec = options.get(name)
        value = values[name]
        if not isinstance(spec, Mapping) or value is None:
            continue
        where = f"{path}{name}"
        kind = spec.get("type", "str")
        if kind == "dict":
            if not isinstance(value, Mapping):
                problems.append(
                    f"{where} must be a dictionary (a YAML mapping such as `{{key: value}}`), not {_shown(value)}."
                )
            elif spec.get("options"):
                problems.extend(type_problems(value, spec["options"], f"{where}."))
        elif kind == "list":
            if not isinstance(value, (list, tuple)):
                problems.append(f"{where} must be a list (a YAML sequence such as `[item]`), not {_shown(value)}.")
                continue
            problems.extend(_element_problems(where, value, spec))
        else:
            reason = _scalar_problem(kind, value)
            if reason:
                problems.append(f"{where} {reason}, not {_shown(value)}.")
    return problems


def _element_problems(where: str, items, spec: Mapping) -> list[str]:
    elements = spec.get("elements")
    problems = []
    for index, item in enumerate(items):
        at = f"{where}[{index}]"
        if elements == "dict":
            if not isinstance(item, Mapping):
                problems.append(f"{at} must be a dictionary, not {_shown(item)}.")
            elif spec.get("options"):
                problems.extend(type_problems(item, spec["options"], f"{at}."))
        elif elements == "list" and not isinstance(item, (list, tuple)):
            problems.append(f"{at} must be a list, not {_shown(item)}.")
        elif elements:
            reason = _scalar_problem(elements, item)
            if reason:
                problems.append(f"{at} {reason}, not {_shown(item)}.")
    return problems
