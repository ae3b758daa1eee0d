#!/usr/bin/env python3
"""A small HTTP front for a test registry (Debian's docker-registry on loopback):
it forwards every /v2/ request to the registry and can, for one test,

  --token-user U --token-password P   ask for a bearer token: answer 401 with
        `WWW-Authenticate: Bearer realm=".../token",service=...,scope=...` unless the
        request carries a token this front issued; /token issues one for basic auth
        with U:P (401 for anything else), or to anyone with --anonymous-tokens
  --throttle BYTES   send blob bodies at about BYTES a second (a pull to kill mid-layer)
  --schema1    answer every manifest GET with a Docker schema 1 manifest (long deprecated)
  --redirect-blobs   answer blob GETs with a 307 to http://localhost:PORT/redirected/...
        (another host name for the same front), served without auth, as a storage host would
  --hostile-storage  with --redirect-blobs: the storage host answers 401 with a bearer
        challenge whose realm is http://localhost:PORT/steal (which logs what it is sent)

Every request is logged to --log as one JSON line (path, Range, Authorization or
none), so a test can see what the client sent. The port it listens on (chosen by
the kernel) is written to --port-file once it is listening.

  registry-front.py --upstream http://127.0.0.1:PORT --port-file F --log F [options]"""
import argparse, base64, http.client, json, os, secrets, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--token-user")
    ap.add_argument("--token-password")
    ap.add_argument("--anonymous-tokens", action="store_true")
    ap.add_argument("--throttle", type=int, default=0)
    ap.add_argument("--redirect-blobs", action="store_true")
    ap.add_argument("--schema1", action="store_true")
    ap.add_argument("--hostile-storage", action="store_true")
    args = ap.parse_args()
    upstream = urlsplit(args.upstream)
    tokens = set()
    lock = threading.Lock()

    class Front(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def record(self):
            with lock, open(args.log, "a") as f:
                f.write(json.dumps({"host": self.headers.get("Host"), "path": self.path,
                                    "range": self.headers.get("Range"),
                                    "authorization": self.headers.get("Authorization")}) + "\n")

        def reply(self, status, headers=(), body=b""):
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            self.record()
            port = self.server.server_address[1]
            path = urlsplit(self.path).path
            if path == "/token":
                return self.token()
            if path == "/steal":
                return self.reply(200, [("Content-Type", "application/json")], b'{"token": "stolen"}')
            if path.startswith("/redirected/"):
                if args.hostile_storage:
                    return self.reply(401, [("WWW-Authenticate", f'Bearer realm="http://localhost:{port}/steal",service="x"')], b"")
                return self.forward(path[len("/redirected"):])
            if args.token_user or args.anonymous_tokens:
                auth = self.headers.get("Authorization", "")
                if not (auth.startswith("Bearer ") and auth[7:] in tokens):
                    repo = path[len("/v2/"):].rsplit("/", 2)[0] if "/manifests/" in path or "/blobs/" in path else ""
                    challenge = f'Bearer realm="http://127.0.0.1:{port}/token",service="nook-test"'
                    if repo:
                        challenge += f',scope="repository:{repo}:pull"'
                    return self.reply(401, [("WWW-Authenticate", challenge), ("Content-Type", "application/json")],
                                      b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}')
            if args.schema1 and "/manifests/" in path:
                body = json.dumps({"schemaVersion": 1, "name": "x", "tag": "v1", "architecture": "amd64",
                                   "fsLayers": [], "history": []}).encode()
                return self.reply(200, [("Content-Type", "application/vnd.docker.distribution.manifest.v1+prettyjws")], body)
            if args.redirect_blobs and "/blobs/" in path:
                return self.reply(307, [("Location", f"http://localhost:{port}/redirected{path}")])
            self.forward(self.path)

        def token(self):
            query = parse_qs(urlsplit(self.path).query)
            auth = self.headers.get("Authorization", "")
            ok = args.anonymous_tokens and not auth
            if auth.startswith("Basic "):
                user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
                ok = user == args.token_user and password == args.token_password
            if not ok or query.get("service") != ["nook-test"] or not query.get("scope"):
                return self.reply(401, [("Content-Type", "application/json")], b'{"details":"wrong user name or password"}')
            token = secrets.token_hex(16)
            tokens.add(token)
            self.reply(200, [("Content-Type", "application/json")], json.dumps({"token": token}).encode())

        def forward(self, path):
            conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() in ("accept", "range")}
            conn.request("GET", path, headers=headers)
            resp = conn.getresponse()
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in ("connection", "transfer-encoding", "date"):
                    self.send_header(k, v)
            self.end_headers()
            slow = args.throttle and "/blobs/" in path
            while True:
                chunk = resp.read(max(1024, args.throttle // 10) if slow else 65536)
                if not chunk:
                    break
                try:
                    self.wfile.write(chunk)
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    break
                if slow:
                    time.sleep(0.1)
            conn.close()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Front)
    server.daemon_threads = True
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(tmp, args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
