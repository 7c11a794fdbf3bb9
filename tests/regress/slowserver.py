# slowserver.py: the HTTP/1.1 server tests/regress/058-explain.sh measures
# htracr's explain against: what it imposes is known. Keep-alive; one
# request at a time per connection, in order.
#	GET /think?ms=N		waits N ms, then answers 2 bytes (any other
#				query parameter is ignored)
#	GET /bytes?n=N		answers N bytes at once
#	POST /upload		reads the body, answers its length
#
#	python3 slowserver.py ADDR PORT [EXTRA_MS [CERT KEY]]
# EXTRA_MS is added to every think time: the same server, made slower.
# With CERT and KEY (PEM files) it also answers over TLS on PORT + 1.
import http.server
import ssl
import sys
import threading
import time
import urllib.parse


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def answer(self, body):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query)
        if u.path == "/think":
            time.sleep((int(q.get("ms", ["0"])[0]) + EXTRA_MS) / 1000.0)
            self.answer(b"ok")
        elif u.path == "/bytes":
            n = min(int(q.get("n", ["0"])[0]), 16 * 1024 * 1024)
            self.answer(b"x" * n)
        else:
            self.send_error(404)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        got = 0
        while got < n:
            b = self.rfile.read(min(65536, n - got))
            if not b:
                break
            got += len(b)
        self.answer(str(got).encode())


EXTRA_MS = int(sys.argv[3]) if len(sys.argv) > 3 else 0
def serve(port, cert=None, key=None):
    srv = http.server.ThreadingHTTPServer((sys.argv[1], port), Handler)
    srv.daemon_threads = True
    if cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    return srv


plain = serve(int(sys.argv[2]))
if len(sys.argv) > 5:
    tls = serve(int(sys.argv[2]) + 1, sys.argv[4], sys.argv[5])
    threading.Thread(target=tls.serve_forever, daemon=True).start()
plain.serve_forever()
