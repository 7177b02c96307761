"""Sphinx configuration of Keel's documentation site (`make docs`, scripts/docs_site.sh).

antsibull-docs writes the RST of every plugin, module and role (argument specs) next to this
file's copy in build/docs/; the changelog comes from antsibull-changelog. The build is offline:
no intersphinx. antsibull-docs links to Ansible's own docs (ansible.builtin modules, the common
return values, configuration variables) by label; `link_ansible_docs` turns those labels into
plain links to docs.ansible.com, and any other unresolved reference stays a warning (an error
with -W).
"""

from __future__ import annotations

from docutils import nodes

project = "keel.platform"
copyright = "Keel platform team"
title = html_short_title = "keel.platform"
extensions = ["sphinx_antsibull_ext"]
pygments_style = "ansible"
highlight_language = "YAML+Jinja"
html_theme = "sphinx_ansible_theme"
html_show_sphinx = False
html_use_modindex = False
html_use_index = False
html_copy_source = False
default_role = "any"
nitpicky = True

ANSIBLE_DOCS = "https://docs.ansible.com/projects/ansible/latest/"
ANSIBLE_LABELS = {
    "action_plugins": "plugins/action.html",
    "ansible_configuration_settings": "reference_appendices/config.html",
    "callback_plugins": "plugins/callback.html",
    "common_return_values": "reference_appendices/common_return_values.html",
}


def ansible_docs_url(reftype: str, target: str) -> str | None:
    """The docs.ansible.com page of a label antsibull-docs expects from Ansible's docsite, or None."""
    if reftype == "envvar" and target.startswith("ANSIBLE_"):
        return f"{ANSIBLE_DOCS}reference_appendices/config.html#envvar-{target}"
    if reftype != "ref":
        return None
    if target in ANSIBLE_LABELS:
        return ANSIBLE_DOCS + ANSIBLE_LABELS[target]
    parts = target.split(".")
    if len(parts) == 4 and parts[0] == "ansible_collections" and (parts[1], parts[2]) != ("keel", "platform"):
        return f"{ANSIBLE_DOCS}collections/{parts[1]}/{parts[2]}/{parts[3]}.html"
    return None


def link_ansible_docs(app, env, node, contnode):
    url = ansible_docs_url(node.get("reftype", ""), node.get("reftarget", ""))
    if url is None:
        return None
    reference = nodes.reference("", "", internal=False, refuri=url)
    reference.append(contnode)
    return reference


def setup(app):
    app.connect("missing-reference", link_ansible_docs)
