# Copyright: Keel platform team
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small EC2 instance metadata service (IMDSv2 only) for tests, on loopback.

    python3 imds_fixture.py PORT

PUT /latest/api/token with X-aws-ec2-metadata-token-ttl-seconds returns a
token; GET needs X-aws-ec2-metadata-token with that token, else 401, as
IMDSv2 does when IMDSv1 is disabled.
"""

from __future__ import annotations

import json
import secrets
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import quote

TOKEN = secrets.token_hex(16)
TAGS = {"CostCenter": "cc-1234", "Project": "keel", "Environment": "test"}


def metadata(instance_id: str, tags: dict[str, str], region: str = "eu-west-1", account: str = "123456789012") -> dict:
    """The paths the fixture answers for one instance (tests serve other instances with Handler.serving)."""
    identity = {"instanceId": instance_id, "region": region, "accountId": account, "instanceType": "t3.micro"}
    return {
        "/latest/meta-data/instance-id": instance_id,
        "/latest/meta-data/instance-type": "t3.micro",
        "/latest/meta-data/placement/availability-zone": f"{region}a",
        "/latest/dynamic/instance-identity/document": json.dumps(identity),
        "/latest/meta-data/tags/instance": "\n".join(tags),
        **{f"/latest/meta-data/tags/instance/{quote(key, safe='')}": value for key, value in tags.items()},
    }


METADATA = metadata("i-0123456789abcdef0", TAGS)


class Handler(BaseHTTPRequestHandler):
    @classmethod
    def serving(cls, answers: dict) -> type:
        """A handler class that answers these paths instead of METADATA."""
        return type("Handler", (cls,), {"answers": answers})

    answers = METADATA

    def _reply(self, status: int, body: str = "") -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_PUT(self) -> None:
        if self.path != "/latest/api/token":
            self._reply(404)
        elif not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", "").isdigit():
            self._reply(400)
        else:
            self._reply(200, TOKEN)

    def do_GET(self) -> None:
        if self.headers.get("X-aws-ec2-metadata-token") != TOKEN:
            self._reply(401)
        elif self.path in self.answers:
            self._reply(200, self.answers[self.path])
        else:
            self._reply(404)


if __name__ == "__main__":
    HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
