# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compose, groups and keyed_groups expressions, compiled once per inventory run.

Constructable templates each expression again for every host; most inventory expressions are
variable paths (`tags.team`, `placement.region`) or a path compared with a literal
(`state.name == 'running'`). Those are evaluated in plain Python. Anything else is compiled once
by Ansible's template engine and the compiled expression is run per host.
"""

from __future__ import annotations

import re

from ansible.errors import AnsibleError

_NAME = r"[A-Za-z_]\w*"
_STEP = r"(?:\.[A-Za-z_]\w*|\[\s*(?:'[^'\\]*'|\"[^\"\\]*\"|\d+)\s*\])"
_PATH = re.compile(rf"^\s*({_NAME})({_STEP}*)\s*$")
_COMPARE = re.compile(rf"^\s*({_NAME}{_STEP}*)\s*(==|!=)\s*('[^'\\]*'|\"[^\"\\]*\"|-?\d+|true|false|True|False)\s*$")
_STEPS = re.compile(rf"\.({_NAME})|\[\s*(?:'([^'\\]*)'|\"([^\"\\]*)\"|(\d+))\s*\]")
# Jinja resolves `x.items` to the dict method, not the key; such paths go to the template engine.
_DICT_ATTRIBUTES = frozenset(dir(dict))
_JINJA_WORDS = frozenset(("true", "false", "none", "True", "False", "None", "and", "or", "not", "in", "is"))


class Undefined(AnsibleError):
    """A variable or key used by an expression does not exist for this host."""


class InvalidExpression(AnsibleError):
    """An expression Jinja cannot compile; `reason` is Jinja's own message."""

    def __init__(self, source, reason):
        super().__init__(f"{source!r} is not a valid expression: {reason}")
        self.source, self.reason = source, reason


def parse_path(source):
    """The access steps of a plain variable path such as tags['team'] or placement.region, else None."""
    match = _PATH.match(source)
    if not match or match.group(1) in _JINJA_WORDS:
        return None
    steps = [match.group(1)]
    for attribute, single, double, index in _STEPS.findall(match.group(2)):
        if attribute:
            if attribute in _DICT_ATTRIBUTES:
                return None
            steps.append(attribute)
        elif index:
            steps.append(int(index))
        else:
            steps.append(single or double)
    return tuple(steps)


def resolve(steps, variables):
    value = variables
    for step in steps:
        try:
            value = value[step]
        except (KeyError, IndexError, TypeError):
            raise Undefined(f"{'.'.join(map(str, steps))} is undefined") from None
    return value


def _literal(text):
    if text[0] in "'\"":
        return text[1:-1]
    if text in ("true", "True"):
        return True
    if text in ("false", "False"):
        return False
    return int(text)


class Expression:
    """One expression; evaluate(variables) runs the plain-Python form when there is one."""

    def __init__(self, source, templar=None):
        self.source = source if isinstance(source, str) else str(source)
        self._templar = templar
        self._run = None
        steps = parse_path(self.source)
        if steps is not None:
            self.fast = True
            self._run = lambda variables: resolve(steps, variables)
            return
        compare = _COMPARE.match(self.source)
        if compare and parse_path(compare.group(1)) is not None:
            path, negate, literal = parse_path(compare.group(1)), compare.group(2) == "!=", _literal(compare.group(3))
            self.fast = True
            self._run = lambda variables: (resolve(path, variables) == literal) != negate
            return
        self.fast = False
        if templar is not None:
            # Compiled now, so a syntax error is reported once, with the expression, before any host.
            self._run = compile_template_expression(templar, self.source)

    def evaluate(self, variables):
        if self._run is None:
            if self._templar is None:
                raise AnsibleError(f"{self.source!r} needs the template engine")
            self._run = compile_template_expression(self._templar, self.source)
        return self._run(variables)


def compile_template_expression(templar, source):
    """A function variables -> value running `source` compiled once, through Ansible's engine."""
    from ansible.template import trust_as_template

    expression = trust_as_template(source)
    check_syntax(templar, expression)
    try:
        from ansible._internal._templating._engine import TemplateOptions
        from ansible._internal._templating._utils import TemplateContext

        engine = templar._engine
        options = TemplateOptions(escape_backslashes=True, preserve_trailing_newlines=False)
        compiled = engine._compile_expression(expression, options)
    except (ImportError, AttributeError, TypeError):
        # Another ansible-core: template per host, like Constructable does.
        def evaluate_each_time(variables):
            templar.available_variables = variables
            return templar.evaluate_expression(expression)

        return evaluate_each_time

    def evaluate(variables):
        engine.available_variables = variables
        with TemplateContext(template_value=expression, templar=engine, options=options):
            result = compiled(variables)
            result = engine._post_render_mutation(expression, result, options)
            return engine._finalize_top_level_template_result(expression, options, result, is_expression=True)

    return evaluate


def check_syntax(templar, expression):
    """Raise InvalidExpression with Jinja's message if the expression does not compile.

    ansible-core defers compile errors to the first evaluation, where outside a template context they
    surface as "A required TemplateContext context is not active" and name neither the expression nor
    the error.
    """
    import jinja2

    environment = getattr(getattr(templar, "_engine", None), "environment", None)
    if environment is None:
        return
    try:
        environment.compile_expression(expression, False)
    except jinja2.TemplateSyntaxError as error:
        raise InvalidExpression(str(expression), error.message) from None


def keyed_group_names(key, keyed):
    """The raw group names (before sanitizing) one keyed_groups entry gives for an evaluated key.

    Follows Constructable._add_host_to_keyed_groups: strings, lists and dicts, default_value,
    trailing_separator, prefix and separator. leading_separator is applied by the caller.
    """
    default_value = keyed.get("default_value")
    if default_value is not None and keyed.get("trailing_separator") is not None:
        raise AnsibleError("parameters are mutually exclusive for keyed groups: default_value|trailing_separator")
    empty = (None, "")
    sep = keyed.get("separator", "_")
    if key in empty:
        return [default_value] if default_value is not None else []
    if isinstance(key, str):
        return [key]
    if isinstance(key, (list, tuple)):
        return [default_value if item in empty and default_value is not None else item for item in key]
    if isinstance(key, dict):
        names = []
        for name, value in key.items():
            if value in empty:
                if default_value is not None:
                    value = default_value
                elif keyed.get("trailing_separator") is False:
                    names.append(name)
                    continue
            names.append(f"{name}{sep}{value}")
        return names
    if key in ([], {}):
        return []
    if isinstance(key, (bool, int, float)):
        return [str(key)] if key else []
    raise AnsibleError(
        f"Invalid group name format, expected a string or a list of them or dictionary, got: {type(key)}"
    )


def keyed_group_full_name(bare, keyed, leading_separator=True):
    prefix = keyed.get("prefix", "")
    sep = keyed.get("separator", "_")
    if prefix == "" and not leading_separator:
        sep = ""
    return f"{prefix}{sep}{bare}"
