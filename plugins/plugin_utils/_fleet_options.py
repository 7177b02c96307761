# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks of an aws_fleet file made before the cache or AWS is touched: option names and region names."""

from __future__ import annotations

import difflib

from ansible.errors import AnsibleError


def _suggestion(name, candidates, quote=True):
    close = difflib.get_close_matches(name, sorted(candidates), n=2, cutoff=0.6)
    if not close:
        return ""
    shown = [repr(match) if quote else match for match in close]
    return f"; did you mean {' or '.join(shown)}?"


def check_option_names(config, definitions, path):
    """Refuse keys of the inventory file that are no option (or alias) of the plugin.

    `definitions` are the plugin's option definitions ({name: {'aliases': [...], ...}}). Ansible
    ignores unknown keys, so a misspelt `regions` would silently read every region.
    """
    known = set(definitions)
    for definition in definitions.values():
        known.update(definition.get("aliases") or ())
    for key in config:
        if key not in known:
            raise AnsibleError(
                f"aws_fleet: unknown option {key!r} in {path}{_suggestion(str(key), known)} "
                "(ansible-doc -t inventory keel.platform.aws_fleet lists the options)"
            )


def known_regions(service="ec2"):
    """Every region of every partition that botocore's bundled endpoint data lists for `service` (no API call)."""
    import botocore.session

    session = botocore.session.get_session()
    regions = set()
    for partition in session.get_available_partitions():
        regions.update(session.get_available_regions(service, partition_name=partition))
    return regions


def check_regions(names, endpoint_url=None, known=None):
    """Refuse region names botocore does not know, unless an endpoint URL is set (a test server may take any).

    botocore's data is the list AWS ships with the SDK: a region newer than the installed botocore is
    refused too, and the message says to upgrade it.
    """
    if endpoint_url:
        return
    known = known_regions() if known is None else known
    for option, name in names:
        if name not in known:
            raise AnsibleError(
                f"aws_fleet: {option}: {name!r} is not a region botocore knows{_suggestion(name, known, quote=False)} "
                "(for a region newer than the installed botocore, upgrade botocore; for a test server set endpoint_url)"
            )
