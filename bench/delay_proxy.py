#!/usr/bin/env python3
"""An HTTP/1.1 reverse proxy on loopback that adds a fixed delay to every request before passing it on.

It stands between s3-api and the AWS emulator (moto) so that every AWS call costs about as much as a round trip
to a real AWS region: end-to-end latency / delay is then the number of sequential AWS round trips on a route's
critical path.

Requests are forwarded unchanged: method, raw path and query, headers (the Host header as the client sent it, so
SigV4 signatures stay valid) and body. Only hop-by-hop headers (Connection, Keep-Alive, Transfer-Encoding, ...)
are not passed on; a chunked request body is passed on with a Content-Length instead. Client connections are
kept alive (HTTP/1.1), and each proxy thread keeps one keep-alive connection to the upstream.

Control routes (never forwarded; "__bench" is not a valid bucket name, so no AWS request uses that path):
    GET  /__bench/stats          {"requests": <forwarded so far>, "delay_ms": <current delay>}
    POST /__bench/delay?ms=N     set the delay to N ms (0..10000)
    POST /__bench/throttle?service=iam&rate=R&burst=B
                                 limit the service (as its requests are signed for; `AKID/iam` for one access key
                                 alone) to R requests per second, B at once, as AWS limits an account: requests
                                 beyond it are answered 400
                                 `Throttling` and not passed on (rate=0 lifts the limit); /__bench/stats counts
                                 them as "throttled"

Usage: delay_proxy.py --upstream http://127.0.0.1:5000 [--port 0] [--delay-ms 50]
It prints "listening on 127.0.0.1:<port>" on stdout once it accepts connections.
"""

import argparse
import http.client
import http.server
import ipaddress
import json
import re
import sys
import threading
import time
import urllib.parse

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
}
MAX_BODY = 512 * 1024 * 1024


class State:
    def __init__(self, upstream_host, upstream_port, delay_ms, timeout):
        self.upstream_host = upstream_host
        self.upstream_port = upstream_port
        self.delay_s = delay_ms / 1000.0
        self.timeout = timeout
        self.lock = threading.Lock()
        self.requests = 0
        self.throttled = 0
        self.limits = {}  # service -> [rate, burst, tokens, refilled]
        self.local = threading.local()

    def admit(self, keys):
        """Takes a token of the first limit of `keys` there is; False when it is exhausted (throttled)."""
        with self.lock:
            service = next((k for k in keys if k in self.limits), None)
            if service is None:
                return True
            limit = self.limits[service]
            rate, burst, tokens, refilled = limit
            now = time.monotonic()
            tokens = min(burst, tokens + (now - refilled) * rate)
            if tokens >= 1.0:
                self.limits[service] = [rate, burst, tokens - 1.0, now]
                return True
            self.limits[service] = [rate, burst, tokens, now]
            self.throttled += 1
            return False

    def count(self):
        with self.lock:
            self.requests += 1

    def upstream(self, fresh=False):
        conn = getattr(self.local, "conn", None)
        if conn is None or fresh:
            if conn is not None:
                conn.close()
            conn = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=self.timeout)
            self.local.conn = conn
        return conn

    def drop_upstream(self):
        conn = getattr(self.local, "conn", None)
        if conn is not None:
            conn.close()
        self.local.conn = None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "delay-proxy"
    # TCP_NODELAY, and every response goes out in one write: otherwise Nagle's algorithm and the peer's delayed
    # ACK add ~40 ms stalls to small request/response exchanges, which would be counted as AWS round trips.
    disable_nagle_algorithm = True
    timeout = 300  # seconds a client connection may sit idle or stall mid-request
    state: State = None  # set by main

    def log_message(self, fmt, *args):  # quiet: one line per request would drown the bench's output
        pass

    def _read_body(self):
        te = self.headers.get("Transfer-Encoding", "")
        if "chunked" in te.lower():
            chunks = []
            total = 0
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    for _ in range(100):  # trailers, up to the empty line
                        if self.rfile.readline(65537) in (b"\r\n", b"\n", b""):
                            break
                    break
                total += size
                if total > MAX_BODY:
                    raise ValueError("body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)  # CRLF after the chunk
            return b"".join(chunks), True
        length = self.headers.get("Content-Length")
        if length is None:
            return None, False
        n = int(length)
        if n < 0 or n > MAX_BODY:
            raise ValueError("bad Content-Length")
        return self.rfile.read(n), False

    def _send(self, status, reason, headers, body):
        """Status line, headers and body in a single write."""
        out = [f"{self.protocol_version} {status} {reason or ''}".rstrip().encode("latin-1") + b"\r\n"]
        for k, v in headers:
            out.append(f"{k}: {v}\r\n".encode("latin-1"))
        out.append(b"\r\n")
        if body:
            out.append(body)
        self.wfile.write(b"".join(out))
        self.wfile.flush()

    def _reply(self, status, body, content_type="application/json"):
        headers = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
        self._send(status, self.responses.get(status, ("",))[0], headers, body if self.command != "HEAD" else b"")

    def _control(self):
        st = self.state
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/__bench/stats":
            with st.lock:
                doc = {"requests": st.requests, "delay_ms": round(st.delay_s * 1000, 3), "throttled": st.throttled}
            return self._reply(200, json.dumps(doc).encode())
        if url.path == "/__bench/delay" and self.command in ("POST", "PUT"):
            q = urllib.parse.parse_qs(url.query)
            try:
                ms = float(q["ms"][0])
                if not 0 <= ms <= 10000:
                    raise ValueError
            except (KeyError, ValueError, IndexError):
                return self._reply(400, b'{"error": "ms must be 0..10000"}')
            st.delay_s = ms / 1000.0
            return self._reply(200, json.dumps({"delay_ms": ms}).encode())
        if url.path == "/__bench/throttle" and self.command in ("POST", "PUT"):
            q = urllib.parse.parse_qs(url.query)
            try:
                service = q["service"][0]
                rate = float(q["rate"][0])
                burst = float(q.get("burst", [rate])[0])
                if rate < 0 or burst < 0:
                    raise ValueError
            except (KeyError, ValueError, IndexError):
                return self._reply(400, b'{"error": "service, rate >= 0 and burst >= 0"}')
            with st.lock:
                if rate == 0:
                    st.limits.pop(service, None)
                else:
                    st.limits[service] = [rate, burst, burst, time.monotonic()]
            return self._reply(200, json.dumps({"service": service, "rate": rate, "burst": burst}).encode())
        return self._reply(404, b'{"error": "unknown control route"}')

    def _proxy(self):
        st = self.state
        try:
            body, dechunked = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            return self._reply(400, b'{"error": "unreadable request body"}')
        if self.path.startswith("/__bench/"):
            return self._control()

        headers = [(k, v) for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP]
        if dechunked:
            headers.append(("Content-Length", str(len(body))))

        if st.delay_s > 0:
            time.sleep(st.delay_s)
        if not st.admit(signed_for(self.headers.get("Authorization", ""))):
            throttled = (
                b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message>"
                b"</Error><RequestId>throttled</RequestId></ErrorResponse>"
            )
            return self._reply(400, throttled, "text/xml")
        st.count()

        resp = None
        resp_body = b""
        for attempt in range(2):  # a kept-alive upstream connection may have been closed meanwhile: retry once
            conn = st.upstream(fresh=attempt > 0)
            try:
                conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                for k, v in headers:
                    conn.putheader(k, v)
                conn.endheaders(body)
                resp = conn.getresponse()
                resp_body = resp.read()
                break
            except (http.client.HTTPException, OSError):
                st.drop_upstream()
                resp = None
                if attempt == 1:
                    self.close_connection = True
                    return self._reply(502, b'{"error": "upstream unreachable"}')
        if resp.will_close:
            st.drop_upstream()

        no_body = self.command == "HEAD" or resp.status in (204, 304) or 100 <= resp.status < 200
        out_headers = []
        for k, v in resp.getheaders():
            kl = k.lower()
            if kl in HOP_BY_HOP:
                continue
            if kl == "content-length" and not no_body:
                continue  # set from what was actually read
            out_headers.append((k, v))
        if not no_body:
            out_headers.append(("Content-Length", str(len(resp_body))))
        if self.close_connection:
            out_headers.append(("Connection", "close"))
        self._send(resp.status, resp.reason, out_headers, b"" if no_body else resp_body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _proxy


def signed_for(authorization):
    """The limits a SigV4 request falls under, most specific first: `<AKID>/<service>` and `<service>`, from
    `Credential=<AKID>/<date>/<region>/<service>/aws4_request`."""
    m = re.search(r"Credential=([^/,]+)/[^/,]+/[^/,]+/([^/,]+)/", authorization)
    return [f"{m.group(1)}/{m.group(2)}", m.group(2)] if m else []


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--upstream", default="http://127.0.0.1:5000", help="the emulator's URL (http, loopback)")
    p.add_argument("--host", default="127.0.0.1", help="listen address (loopback only)")
    p.add_argument("--port", type=int, default=0, help="listen port; 0 picks a free one")
    p.add_argument("--delay-ms", type=float, default=50.0, help="delay added to every request (default 50)")
    p.add_argument("--timeout", type=float, default=120.0, help="upstream socket timeout, seconds")
    args = p.parse_args()

    up = urllib.parse.urlsplit(args.upstream)
    if up.scheme != "http" or not up.hostname:
        p.error("--upstream must be an http:// URL")
    for host in (args.host, up.hostname):
        if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
            p.error(f"{host} is not a loopback address")

    Handler.state = State(up.hostname, up.port or 80, args.delay_ms, args.timeout)
    server = Server((args.host, args.port), Handler)
    print(f"listening on {args.host}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    sys.exit(main())
