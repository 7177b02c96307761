# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check a node_exporter web configuration before it is installed.

    python3 keel_web_config_check.py CANDIDATE

The role renders the file as JSON (which is YAML) after '#' comment lines,
so the standard library can read it. Checked: only keys the exporter toolkit knows, a certificate and
key that load together (the key matches the certificate), a TLS version the
toolkit accepts, and basic-auth entries that are bcrypt hashes. Exit 1 with
the reason on the first problem.
"""

from __future__ import annotations

import json
import re
import ssl
import sys

TOP_KEYS = {"tls_server_config", "http_server_config", "basic_auth_users"}
TLS_KEYS = {"cert_file", "key_file", "client_auth_type", "client_ca_file", "min_version", "max_version"}
TLS_VERSIONS = {"TLS10", "TLS11", "TLS12", "TLS13"}
BCRYPT = re.compile(r"^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$")


def problems(config: object) -> list[str]:
    if not isinstance(config, dict):
        return ["the configuration is not a mapping"]
    found = [f"unknown key {key!r}" for key in sorted(set(config) - TOP_KEYS)]
    tls = config.get("tls_server_config")
    if tls is not None:
        found += [f"unknown tls_server_config key {key!r}" for key in sorted(set(tls) - TLS_KEYS)]
        for key in ("min_version", "max_version"):
            if key in tls and tls[key] not in TLS_VERSIONS:
                found.append(f"tls_server_config.{key} {tls[key]!r} is not one of {sorted(TLS_VERSIONS)}")
        try:
            ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(tls["cert_file"], tls["key_file"])
        except KeyError as exc:
            found.append(f"tls_server_config needs {exc.args[0]}")
        except (OSError, ssl.SSLError) as exc:
            found.append(
                f"certificate {tls.get('cert_file')} and key {tls.get('key_file')} do not load together: {exc}"
            )
    for user, digest in (config.get("basic_auth_users") or {}).items():
        if not BCRYPT.match(str(digest)):
            found.append(f"basic_auth_users.{user} is not a bcrypt hash")
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        with open(argv[0], encoding="utf-8") as stream:
            config = json.loads("".join(line for line in stream if not line.lstrip().startswith("#")))
    except (OSError, ValueError) as exc:
        print(f"{argv[0]}: {exc}", file=sys.stderr)
        return 1
    found = problems(config)
    for problem in found:
        print(f"{argv[0]}: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
