"""A minimal provisioning service for TUCO_PROVISIONER=http (SPEC §7): it verifies each
signed order, answers 202, and calls back "active", signed, with a number and a serverUrl it
also serves. Run: PROVISIONER_SECRET=whsec_… python docs/provisioning_service_example.py 9100
then start tuco with TUCO_PROVISIONER=http TUCO_PROVISIONER_URL=http://127.0.0.1:9100 and
TUCO_PROVISIONER_SECRET set to the same secret."""

import json
import os
import sys
import threading
import urllib.request
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 9100
HOOK = Webhook(os.environ["PROVISIONER_SECRET"])
ANSWERS: dict[str, dict[str, str]] = {}  # order id -> the answer (GET /orders/{id} shows it)


def call_back(order: dict[str, str]) -> None:
    answer = {"status": "active", "phone": order["phone"] or "+14155550100",
              "serverUrl": f"http://127.0.0.1:{PORT}/lines/{order['id']}",
              "providerRef": "example-" + order["id"][:8]}  # fmt: skip
    ANSWERS[order["id"]] = answer
    body = json.dumps(answer)
    msg_id, now = "msg_" + order["id"].replace("-", ""), datetime.now(UTC)
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(int(now.timestamp())),
               "webhook-signature": HOOK.sign(msg_id, now, body),
               "content-type": "application/json"}  # fmt: skip
    request = urllib.request.Request(order["callbackUrl"], body.encode(), headers)
    urllib.request.urlopen(request, timeout=10).close()


class Handler(BaseHTTPRequestHandler):
    def answer(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:  # POST /orders
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            order = HOOK.verify(body, {k.lower(): v for k, v in self.headers.items()})
        except WebhookVerificationError:
            return self.answer(401, {"error": "bad signature"})
        self.answer(202, {"accepted": order["id"]})
        threading.Thread(target=call_back, args=(order,)).start()  # after the answer

    def do_GET(self) -> None:  # polls, and the line server's health checks
        if self.path.startswith("/orders/"):
            try:  # polls are signed too, over an empty body
                HOOK.verify(b"", {k.lower(): v for k, v in self.headers.items()})
            except WebhookVerificationError:
                return self.answer(401, {"error": "bad signature"})
            found = ANSWERS.get(self.path.rsplit("/", 1)[-1])
            return self.answer(200 if found else 404, found or {"error": "unknown order"})
        self.answer(200, {"available": True} if "imessage" in self.path else {"status": "ok"})


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
