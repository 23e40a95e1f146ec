#!/usr/bin/env python3
"""The s3-api benchmark (QUALITY.md §3). Started by bench/run, which builds the service and prepares the tools.

Phases, all on loopback, every child process stopped at the end (or on Ctrl-C / SIGTERM):
  1. start-up: process spawn to the first successful /v1/s3/ping, median of several starts;
  2. round trips: moto behind bench/delay_proxy.py; per route the end-to-end latency at delay D (median of N
     runs, fresh names each run), latency / D, and the AWS calls per request (from the service's own
     aws_requests_total); also at delay 0, to show what the emulator and the service add;
  3. the same for a large account: thousands of extra IAM groups and hundreds of extra CloudFront distributions,
     created directly in moto; the AWS calls per request must not change;
  4. server overhead with wrk (no AWS call): /ping, an authenticated route that fails fast with the plain token
     and with a bcrypt hash of it; RSS idle and peak under that load.
Writes bench/RESULTS.md and prints the same tables.
"""

import argparse
import collections
import ctypes
import datetime
import hashlib
import http.client
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import boto3
import botocore.config

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
ACCOUNT = "bench"
AKID = SECRET = "bench"
# The account of the burst: the same emulator account under other credentials, so that the proxy can limit its
# IAM calls alone, as AWS limits one account.
BURST_ACCOUNT = "burst"
BURST_AKID = "burstkey"
BURST_RATE = 10.0  # IAM calls per second, allowed by the proxy and configured in the service
REGION = "us-east-1"
ORG = "benchorg"

# The seed's request bodies (README / the earlier service's documentation), with fresh names.
def bucket_body(name):
    return {
        "Tags": [
            {"Key": "Application", "Value": "HowToGet"},
            {"Key": "COA", "Value": "Take.My.Money.USD"},
            {"Key": "CreatedBy", "Value": "Big Bird"},
        ],
        "Lifecycle": "deep-archive",
        "BucketInput": {"Bucket": name},
    }


def user_body(name):
    return {"User": {"UserName": name}}


def website_body(name):
    return {
        "Tags": [
            {"Key": "Application", "Value": "HowToGet"},
            {"Key": "COA", "Value": "Take.My.Money.USD"},
            {"Key": "CreatedBy", "Value": "Big Bird"},
        ],
        "BucketInput": {"Bucket": name},
        "WebsiteConfiguration": {"IndexDocument": {"Suffix": "index.html"}},
    }


# (key, label, bar or None). The order is the order of the table.
ROUTES = [
    ("create_bucket", "create bucket", 3),
    ("show_bucket", "show bucket", 2),
    ("list_users", "list bucket users", 2),
    ("show_user", "show bucket user", 2),
    ("create_user", "create bucket user", 5),
    ("delete_bucket", "delete bucket (2 users)", 6),
    ("create_website", "create website", 6),
    ("show_website", "show website", 2),
    ("delete_website", "delete website", None),
]
SIZE_ROUTES = ["list_users", "show_website", "delete_website"]  # compared between account sizes


class Abort(Exception):
    pass


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent():
    # The child gets SIGTERM if the bench dies without cleaning up (e.g. SIGKILL).
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class Procs:
    """Every child process the bench starts; stop_all() ends them (SIGTERM, then SIGKILL)."""

    def __init__(self):
        self.procs = []

    def start(self, name, argv, **kw):
        p = subprocess.Popen(argv, preexec_fn=_die_with_parent, **kw)
        self.procs.append((name, p))
        return p

    def stop(self, p, grace=10.0):
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=5)
        self.procs = [(n, q) for n, q in self.procs if q is not p]
        return p.returncode

    def stop_all(self):
        for _, p in reversed(list(self.procs)):
            try:
                self.stop(p)
            except Exception:  # noqa: BLE001 - best effort at exit
                pass


def http_get(port, path, headers=None, timeout=5.0):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("GET", path, headers=headers or {})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def wait_until(what, check, timeout, interval=0.05, proc=None):
    deadline = time.monotonic() + timeout
    for _ in range(int(timeout / interval) + 10):
        if proc is not None and proc.poll() is not None:
            raise Abort(f"{what}: the process exited with {proc.returncode}")
        try:
            if check():
                return
        except (OSError, http.client.HTTPException):
            pass
        if time.monotonic() > deadline:
            break
        time.sleep(interval)
    raise Abort(f"{what}: not ready after {timeout}s")


def proc_status(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])  # kB
    return None


def proc_cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------------------------------------------
# The service under test


class Service:
    def __init__(self, port, token):
        self.port = port
        self.token = token
        self.api = None
        self.mconn = None

    def _conn(self, attr):
        c = getattr(self, attr)
        if c is None:
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            setattr(self, attr, c)
        return c

    def call(self, method, path, body=None, token=None):
        """One request on a kept-alive connection: (status, parsed body or text, seconds)."""
        headers = {"X-Auth-Token": token or self.token}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in range(2):
            c = self._conn("api")
            try:
                t0 = time.perf_counter()
                c.request(method, path, body=data, headers=headers)
                r = c.getresponse()
                raw = r.read()
                dt = time.perf_counter() - t0
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # a kept-alive connection the server had closed: the request never reached it
                c.close()
                self.api = None
                if attempt == 1:
                    raise
        try:
            doc = json.loads(raw) if raw else None
        except ValueError:
            doc = raw.decode(errors="replace")
        return r.status, doc, dt

    def metrics(self):
        """aws_requests_total and http_requests_total series: {(name, labels): value}."""
        for attempt in range(2):
            c = self._conn("mconn")
            try:
                c.request("GET", "/v1/s3/metrics", headers={"X-Auth-Token": self.token})
                r = c.getresponse()
                text = r.read().decode()
                break
            except (http.client.HTTPException, OSError):
                c.close()
                self.mconn = None
                if attempt == 1:
                    raise
        if r.status != 200:
            raise Abort(f"/v1/s3/metrics answered {r.status}")
        out = {}
        for line in text.splitlines():
            m = re.match(r"^(aws_requests_total|http_requests_total|aws_throttled_total)\{(.*)\}\s+(\S+)$", line)
            if m:
                labels = tuple(sorted(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2))))
                out[(m.group(1), labels)] = float(m.group(3))
        return out

    def close(self):
        for c in (self.api, self.mconn):
            if c is not None:
                c.close()
        self.api = self.mconn = None


def aws_calls(before, after):
    """Total AWS calls between two metric snapshots, and the calls by 'service:Operation[:error]'."""
    ops = collections.Counter()
    for key, v in after.items():
        if key[0] != "aws_requests_total":
            continue
        d = v - before.get(key, 0.0)
        if d:
            lab = dict(key[1])
            op = f"{lab.get('service')}:{lab.get('operation')}"
            if lab.get("outcome") != "ok":
                op += ":" + lab.get("outcome", "?")
            ops[op] += int(d)
    return sum(ops.values()), ops


def http_by_status(before, after):
    out = collections.Counter()
    for key, v in after.items():
        if key[0] == "http_requests_total" and dict(key[1]).get("route") != "/v1/s3/metrics":
            d = v - before.get(key, 0.0)
            if d:
                out[dict(key[1]).get("status")] += int(d)
    return out


# --------------------------------------------------------------------------------------------------------------
# The round-trip measurement


class Proxy:
    def __init__(self, port):
        self.port = port

    def _control(self, path):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            c.request("POST", path)
            r = c.getresponse()
            r.read()
            if r.status != 200:
                raise Abort(f"the proxy refused {path}")
        finally:
            c.close()

    def set_delay(self, ms):
        self._control(f"/__bench/delay?ms={ms}")

    def throttle(self, service, rate, burst=None):
        """Limits `service` (`AKID/iam` for one access key alone) to `rate` requests per second; 0 lifts it."""
        self._control(f"/__bench/throttle?service={service}&rate={rate}&burst={rate if burst is None else burst}")

    def requests(self):
        st, body = http_get(self.port, "/__bench/stats")
        return json.loads(body)["requests"]


class Recorder:
    def __init__(self, svc, proxy):
        self.svc, self.proxy = svc, proxy
        self.samples = collections.defaultdict(list)  # (size, delay, route) -> [sample]
        self.errors = []

    def measure(self, key, route, expect, method, path, body=None):
        """Sends one request; records latency, AWS calls and proxy requests when key is not None.
        Returns the response body, or None when the status was unexpected."""
        m0 = self.svc.metrics()
        p0 = self.proxy.requests()
        status, doc, dt = self.svc.call(method, path, body)
        m1 = self.svc.metrics()
        p1 = self.proxy.requests()
        calls, ops = aws_calls(m0, m1)
        if status != expect:
            detail = json.dumps(doc)[:400] if not isinstance(doc, str) else doc[:400]
            self.errors.append(f"{key} {route}: {method} {path} -> {status} (expected {expect}): {detail}")
            log(self.errors[-1])
            return None
        if key is not None:
            self.samples[key + (route,)].append(
                {"latency": dt, "calls": calls, "ops": ops, "proxy": p1 - p0}
            )
        return doc if doc is not None else {}

    def round(self, key, names):
        """One run of every route, with fresh names. key is None for a warm-up round (nothing recorded)."""
        b, u1, u2, w = names
        A = f"/v1/s3/{ACCOUNT}"
        m = self.measure
        if m(key, "create_bucket", 202, "POST", f"{A}/buckets", bucket_body(b)) is not None:
            m(key, "show_bucket", 200, "GET", f"{A}/buckets/{b}")
            if m(key, "create_user", 200, "POST", f"{A}/buckets/{b}/users", user_body(u1)) is not None:
                m(key, "list_users", 200, "GET", f"{A}/buckets/{b}/users")
                m(key, "show_user", 200, "GET", f"{A}/buckets/{b}/users/{u1}")
            m(None, "create_user_2", 200, "POST", f"{A}/buckets/{b}/users", user_body(u2))
            m(key, "delete_bucket", 200, "DELETE", f"{A}/buckets/{b}")
        if m(key, "create_website", 202, "POST", f"{A}/websites", website_body(w)) is not None:
            m(key, "show_website", 200, "GET", f"{A}/websites/{w}")
            m(key, "delete_website", 200, "DELETE", f"{A}/websites/{w}")


def names(tag, i, domain):
    r = secrets.token_hex(3)
    return (f"bench-{tag}-{r}-{i}", f"bu-{tag}-{r}-{i}-a", f"bu-{tag}-{r}-{i}-b", f"w{tag}{r}{i}.{domain}")


# --------------------------------------------------------------------------------------------------------------
# Emulator set-up, directly at moto (not through the proxy), with the service's credentials


def boto(service, moto_port):
    return boto3.client(
        service,
        endpoint_url=f"http://127.0.0.1:{moto_port}",
        region_name=REGION,
        aws_access_key_id=AKID,
        aws_secret_access_key=SECRET,
        config=botocore.config.Config(retries={"max_attempts": 3, "mode": "standard"}, max_pool_connections=16),
    )


def make_domain(moto_port, domain):
    r53 = boto("route53", moto_port)
    zone = r53.create_hosted_zone(Name=domain, CallerReference=uuid.uuid4().hex)
    zone_id = zone["HostedZone"]["Id"].split("/")[-1]
    acm = boto("acm", moto_port)
    arn = acm.request_certificate(DomainName=f"*.{domain}", SubjectAlternativeNames=[domain])["CertificateArn"]
    wait_until(
        "ACM certificate issued",
        lambda: acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"] == "ISSUED",
        timeout=20,
        interval=0.2,
    )
    return zone_id, arn


def fill(what, target, make, deadline_s, threads):
    """Runs make(i) for i in range(target) on a thread pool until done or deadline_s passed; returns how many
    succeeded and the first errors."""
    deadline = time.monotonic() + deadline_s
    done, errors = [0], []
    lock = threading.Lock()

    def one(i):
        if time.monotonic() > deadline:
            return
        try:
            make(i)
            with lock:
                done[0] += 1
        except Exception as e:  # noqa: BLE001 - reported
            with lock:
                if len(errors) < 5:
                    errors.append(repr(e)[:200])

    t0 = time.monotonic()
    with ThreadPoolExecutor(threads) as ex:
        list(ex.map(one, range(target)))
    log(f"{what}: {done[0]}/{target} in {time.monotonic() - t0:.1f}s" + (f", errors: {errors}" if errors else ""))
    return done[0], errors, time.monotonic() - t0


def make_large(moto_port, groups, dists, deadline_s):
    local = threading.local()

    def client(name):
        c = getattr(local, name, None)
        if c is None:
            c = boto(name, moto_port)
            setattr(local, name, c)
        return c

    tag = secrets.token_hex(3)

    def group(i):
        client("iam").create_group(GroupName=f"bench-filler-{tag}-{i:05d}")

    def dist(i):
        client("cloudfront").create_distribution(
            DistributionConfig={
                "CallerReference": uuid.uuid4().hex,
                "Comment": "bench filler",
                "Enabled": True,
                "Origins": {
                    "Quantity": 1,
                    "Items": [
                        {
                            "Id": "filler",
                            "DomainName": f"filler-{tag}-{i}.s3.amazonaws.com",
                            "S3OriginConfig": {"OriginAccessIdentity": ""},
                        }
                    ],
                },
                "DefaultCacheBehavior": {
                    "TargetOriginId": "filler",
                    "ViewerProtocolPolicy": "allow-all",
                    "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
                },
            }
        )

    g = fill("extra IAM groups", groups, group, deadline_s, 6)
    d = fill("extra CloudFront distributions", dists, dist, deadline_s, 6)
    return g, d


def calibrate(proxy, D, n=25):
    """What one AWS call through the proxy costs, at delay D and at 0, from a plain Python client (STS
    GetCallerIdentity, the cheapest call): (median at D, median at 0) in ms. The difference is the time one
    sequential round trip really adds; it is a little more than D because every process wakes up cold after the
    pause."""
    sts = boto3.client(
        "sts",
        endpoint_url=f"http://127.0.0.1:{proxy.port}",
        region_name=REGION,
        aws_access_key_id=AKID,
        aws_secret_access_key=SECRET,
    )
    out = []
    for delay in (D, 0.0):
        proxy.set_delay(delay)
        sts.get_caller_identity()
        ts = []
        for _ in range(n):
            t0 = time.perf_counter()
            sts.get_caller_identity()
            ts.append((time.perf_counter() - t0) * 1000)
        out.append(statistics.median(ts))
    return tuple(out)


def count_account(moto_port):
    iam, cf = boto("iam", moto_port), boto("cloudfront", moto_port)
    groups = sum(len(p["Groups"]) for p in iam.get_paginator("list_groups").paginate(PaginationConfig={"PageSize": 1000, "MaxItems": 1_000_000}))
    dists = 0
    marker = None
    for _ in range(1000):  # bounded pagination
        kw = {"MaxItems": "1000"}
        if marker:
            kw["Marker"] = marker
        dl = cf.list_distributions(**kw)["DistributionList"]
        dists += len(dl.get("Items", []))
        marker = dl.get("NextMarker")
        if not dl.get("IsTruncated") or not marker:
            break
    return groups, dists


# --------------------------------------------------------------------------------------------------------------
# wrk


def account_toml(name, akid, proxy_port, domain, zone_id, rate_limits):
    """An account of the bench's configuration: the emulator behind the proxy, the domain, the given rate limits."""
    limits = "".join(f"{service} = {rate:g}\n" for service, rate in rate_limits.items())
    return f"""
[accounts.{name}]
region = "{REGION}"
endpoint = "http://127.0.0.1:{proxy_port}"
akid = "{akid}"
secret = "{SECRET}"

[accounts.{name}.domains."{domain}"]
hostedZoneID = "{zone_id}"

[accounts.{name}.rateLimits]
{limits}"""


def run_wrk(svc_pid, port, path, header, duration, conns, threads):
    argv = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{duration}s", "--latency", "--timeout", "10s"]
    if header:
        argv += ["-H", header]
    argv.append(f"http://127.0.0.1:{port}{path}")
    peak = [0]
    stop = threading.Event()

    def sample():
        for _ in range(int((duration + 60) / 0.05)):
            if stop.is_set():
                return
            try:
                peak[0] = max(peak[0], proc_status(svc_pid, "VmRSS") or 0)
            except OSError:
                return
            time.sleep(0.05)

    t = threading.Thread(target=sample, daemon=True)
    cpu0 = proc_cpu_seconds(svc_pid)
    t.start()
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60, check=False)
    finally:
        stop.set()
        t.join(timeout=5)
    cpu = proc_cpu_seconds(svc_pid) - cpu0
    if out.returncode != 0:
        raise Abort(f"wrk failed ({out.returncode}): {out.stderr.strip()[:300]}")
    text = out.stdout

    def lat(label):
        m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
        if not m:
            return float("nan")
        return float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    total = int(re.search(r"(\d+) requests in", text).group(1))
    sock = re.search(r"Socket errors: (.*)", text)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return {
        "rps": rps,
        "p50": lat("50"),
        "p99": lat("99"),
        "requests": total,
        "socket_errors": sock.group(1).strip() if sock else "",
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "peak_rss_kb": peak[0],
        "cpu_us_per_req": cpu / total * 1e6 if total else float("nan"),
        "raw": text,
    }


# --------------------------------------------------------------------------------------------------------------


def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    commit = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", REPO, "status", "--porcelain", "--", "src", "Cargo.toml", "Cargo.lock", "build.rs"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "mem_gib": mem_kb / 1024 / 1024,
        "kernel": platform.release(),
        "commit": commit or "?",
        "dirty": bool(dirty),
    }


def fmt(x, nd=1):
    return "—" if x is None or (isinstance(x, float) and x != x) else f"{x:.{nd}f}"


def calls_str(vals):
    lo, hi = min(vals), max(vals)
    return f"{int(statistics.median(vals))}" if lo == hi else f"{int(statistics.median(vals))} ({int(lo)}–{int(hi)})"


def summarize(samples, size, delay, route):
    s = samples.get((size, delay, route), [])
    if not s:
        return None
    lat = [x["latency"] for x in s]
    return {
        "n": len(s),
        "median_ms": statistics.median(lat) * 1000,
        "min_ms": min(lat) * 1000,
        "max_ms": max(lat) * 1000,
        "calls": [x["calls"] for x in s],
        "proxy": [x["proxy"] for x in s],
        "ops": s[len(s) // 2]["ops"],
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--moto-venv", required=True)
    ap.add_argument("--bcrypt-python", required=True, help="a python with the bcrypt module")
    ap.add_argument("--delay-ms", type=float, default=50.0)
    ap.add_argument("--runs", type=int, default=7, help="measured runs per route (≥5)")
    ap.add_argument("--groups", type=int, default=5000)
    ap.add_argument("--distributions", type=int, default=500)
    ap.add_argument("--fill-seconds", type=float, default=120.0, help="time bound for each kind of filler")
    ap.add_argument("--starts", type=int, default=5)
    ap.add_argument("--wrk-seconds", type=int, default=8, help="length of each route's turn")
    ap.add_argument("--wrk-rounds", type=int, default=3, help="rounds in which the routes take turns")
    ap.add_argument("--wrk-connections", type=int, default=64)
    ap.add_argument("--wrk-threads", type=int, default=2)
    ap.add_argument("--max-minutes", type=float, default=20.0, help="abort the whole bench after this long")
    ap.add_argument("--results", default=os.path.join(HERE, "RESULTS.md"))
    ap.add_argument("--keep-logs", action="store_true")
    args = ap.parse_args()
    if args.runs < 5:
        ap.error("--runs must be at least 5")

    started_wall = datetime.datetime.now(datetime.timezone.utc)
    t_start = time.monotonic()
    procs = Procs()
    tmp = tempfile.mkdtemp(prefix="s3-api-bench-")
    ok = False

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    def on_alarm(_s, _f):
        raise Abort(f"the bench ran longer than --max-minutes={args.max_minutes}")

    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(int(args.max_minutes * 60))

    try:
        res = run(args, procs, tmp)
        res["elapsed_s"] = time.monotonic() - t_start
        res["date"] = started_wall.strftime("%Y-%m-%d %H:%M UTC")
        report(args, res)
        ok = not res["errors"]
    except Abort as e:
        log(f"ABORTED: {e}")
        return 1
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        signal.alarm(0)
        procs.stop_all()
        if ok and not args.keep_logs:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            log(f"logs kept in {tmp}")
    return 0 if ok else 1


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def run(args, procs, tmp):
    res = {"machine": machine(), "errors": []}
    load_before = loadavg()
    D = args.delay_ms
    env = dict(os.environ, MOTO_ACM_VALIDATION_WAIT="0")
    env.pop("AWS_PROFILE", None)

    # --- the emulator and the proxy
    moto_port = free_port()
    moto_log = open(os.path.join(tmp, "moto.log"), "w")
    moto = procs.start(
        "moto",
        [os.path.join(args.moto_venv, "bin", "python"), os.path.join(REPO, "scripts", "moto-server"),
         "-H", "127.0.0.1", "-p", str(moto_port)],
        stdout=moto_log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    wait_until("moto", lambda: http_get(moto_port, "/moto-api/")[0] == 200, 60, 0.1, moto)
    log(f"moto on 127.0.0.1:{moto_port}")

    proxy_log = open(os.path.join(tmp, "proxy.log"), "w")
    proxy_p = procs.start(
        "proxy",
        [
            os.path.join(args.moto_venv, "bin", "python"),
            os.path.join(HERE, "delay_proxy.py"),
            "--upstream",
            f"http://127.0.0.1:{moto_port}",
            "--port",
            "0",
            "--delay-ms",
            str(D),
        ],
        stdout=subprocess.PIPE,
        stderr=proxy_log,
        text=True,
    )
    line = proxy_p.stdout.readline()  # the proxy prints its port first
    m = re.match(r"listening on 127\.0\.0\.1:(\d+)", line or "")
    if not m:
        raise Abort(f"the proxy did not start: {line!r}")
    proxy = Proxy(int(m.group(1)))
    log(f"delay proxy on 127.0.0.1:{proxy.port}, {D} ms")

    # --- the account's domain: hosted zone and issued wildcard certificate, before the service starts
    domain = f"bench{secrets.token_hex(3)}.org"
    zone_id, cert_arn = make_domain(moto_port, domain)
    log(f"domain {domain}: zone {zone_id}, certificate issued")

    # --- config
    token = "bench-" + secrets.token_hex(16)
    # A named token (every account, read scope): its check is one SHA-256 and one map lookup.
    named = "s3t_" + secrets.token_urlsafe(32)
    svc_port = free_port()
    cfg = os.path.join(tmp, "bench.toml")
    with open(cfg, "w") as f:
        f.write(
            f"""# written by bench/bench.py
listenAddress = "127.0.0.1:{svc_port}"
token = "{token}"
logLevel = "warn"
logFormat = "text"
org = "{ORG}"

[[tokens]]
name = "bench-reader"
sha256 = "{hashlib.sha256(named.encode()).hexdigest()}"
accounts = ["*"]
scope = "read"

"""
            # The emulator does not throttle: round trips are measured unpaced. (With the default limits, a bucket
            # delete's 40 IAM calls would wait for turns: IAM allows 20 at once, then 20 per second.)
            + account_toml(ACCOUNT, AKID, proxy.port, domain, zone_id, {s: 1000 for s in ("iam", "route53", "cloudfront", "acm")})
            + account_toml(BURST_ACCOUNT, BURST_AKID, proxy.port, domain, zone_id, {"iam": BURST_RATE})
        )
    svc_env = {k: v for k, v in os.environ.items() if not k.startswith("S3API") and k != "RUST_LOG"}
    svc_log = open(os.path.join(tmp, "service.log"), "w")

    def start_service():
        t0 = time.perf_counter()
        p = procs.start("s3-api", [args.binary, "--config", cfg, "serve"], stdout=svc_log, stderr=subprocess.STDOUT, env=svc_env)
        deadline = time.monotonic() + 30
        for _ in range(30000):
            if p.poll() is not None:
                raise Abort(f"s3-api exited with {p.returncode} at start; see {tmp}/service.log")
            try:
                if http_get(svc_port, "/v1/s3/ping", timeout=1)[0] == 200:
                    return p, time.perf_counter() - t0
            except (OSError, http.client.HTTPException):
                pass
            if time.monotonic() > deadline:
                raise Abort("s3-api did not answer /v1/s3/ping within 30s")
            time.sleep(0.002)
        raise Abort("s3-api did not answer /v1/s3/ping")

    # --- start-up time
    starts, exits = [], []
    for i in range(args.starts):
        p, dt = start_service()
        starts.append(dt)
        exits.append(procs.stop(p))
        time.sleep(0.2)
    res["startup"] = {"times": starts, "exit_codes": exits}
    log(f"start-up: median {statistics.median(starts) * 1000:.1f} ms over {len(starts)} starts, exit codes {exits}")
    for i, c in enumerate(exits):
        if c is not None and c < 0:
            res["errors"].append(
                f"start {i + 1}: s3-api was killed by signal {-c} instead of exiting 0 — SIGTERM sent right after the "
                "first successful /v1/s3/ping arrived before the service had installed its SIGTERM handler"
            )
        elif c != 0:
            res["errors"].append(f"start {i + 1}: s3-api exited with {c} on SIGTERM (expected 0)")

    # --- the instance that is measured
    svc_p, _ = start_service()
    time.sleep(1.0)
    res["rss_idle_kb"] = proc_status(svc_p.pid, "VmRSS")
    svc = Service(svc_port, token)
    st, ver = http_get(svc_port, "/v1/s3/version")
    res["version"] = json.loads(ver) if st == 200 else {}
    log(f"s3-api on 127.0.0.1:{svc_port}, idle RSS {res['rss_idle_kb'] / 1024:.1f} MiB, version {res['version']}")

    cal_d, cal_0 = calibrate(proxy, D)
    res["calibration"] = {"at_d_ms": cal_d, "at_0_ms": cal_0}
    log(f"one AWS call through the proxy: {cal_d:.1f} ms at {D:g} ms, {cal_0:.1f} ms at 0")

    rec = Recorder(svc, proxy)
    res["sizes"] = {}
    for size in ("small", "large"):
        if size == "large":
            proxy.set_delay(0)
            (g, ge, gt), (d, de, dt) = make_large(moto_port, args.groups, args.distributions, args.fill_seconds)
            res["fill"] = {"groups": g, "groups_s": gt, "dists": d, "dists_s": dt, "errors": ge + de}
        groups, dists = count_account(moto_port)
        res["sizes"][size] = {"groups": groups, "distributions": dists}
        log(f"{size} account: {groups} IAM groups, {dists} CloudFront distributions")
        for delay in (D, 0.0):
            proxy.set_delay(delay)
            rec.round(None, names(f"{size[0]}w", 0, domain))  # warm-up: connections, STS account id
            for i in range(1, args.runs + 1):
                rec.round((size, delay), names(size[0], i, domain))
            log(f"{size} account, delay {delay:g} ms: {args.runs} runs done")
        res["sizes"][size]["after"] = count_account(moto_port)
    proxy.set_delay(D)
    res["rss_after_roundtrips_kb"] = proc_status(svc_p.pid, "VmRSS")
    res["loadavg_start"] = load_before
    res["samples"] = rec.samples
    res["errors"] += rec.errors

    # --- server overhead
    wrk = {}
    routes = [
        ("ping", "GET /v1/s3/ping", "/v1/s3/ping", None, "200"),
        ("plain", "GET /v1/s3/nosuchaccount/buckets, plain token", "/v1/s3/nosuchaccount/buckets", token, "404"),
        ("named", "GET /v1/s3/nosuchaccount/buckets, named token", "/v1/s3/nosuchaccount/buckets", named, "404"),
        ("bcrypt", "GET /v1/s3/nosuchaccount/buckets, bcrypt token", "/v1/s3/nosuchaccount/buckets", None, "404"),
    ]
    hashed = subprocess.run(
        [args.bcrypt_python, "-c", "import bcrypt,sys; print(bcrypt.hashpw(sys.stdin.read().encode(), bcrypt.gensalt(10)).decode())"],
        input=token,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.strip()
    # the first request with the hash pays for bcrypt (cost 10) once; later ones must not
    st, _, first = svc.call("GET", "/v1/s3/nosuchaccount/buckets", token=hashed)
    st2, _, second = svc.call("GET", "/v1/s3/nosuchaccount/buckets", token=hashed)
    res["bcrypt_first_ms"], res["bcrypt_second_ms"] = first * 1000, second * 1000
    if st != 404 or st2 != 404:
        res["errors"].append(f"bcrypt-hash token: {st}/{st2}, expected 404 (token accepted, account unknown)")
    svc.close()
    # The routes take turns, in rounds whose order rotates: on a shared machine the speed drifts over a minute,
    # and routes measured one after another would compare the drift, not the routes.
    rounds = {key: [] for key, *_ in routes}
    for r in range(args.wrk_rounds):
        for key, label, path, tok, want in routes[r % len(routes):] + routes[:r % len(routes)]:
            if key == "bcrypt":
                tok = hashed
            m0 = svc.metrics()
            load = loadavg()
            log(f"wrk round {r + 1}: {label} ({args.wrk_seconds}s), load average before: {load}")
            w = run_wrk(svc_p.pid, svc_port, path, f"X-Auth-Token: {tok}" if tok else None, args.wrk_seconds, args.wrk_connections, args.wrk_threads)
            by_status = http_by_status(m0, svc.metrics())
            w["label"], w["statuses"], w["load"] = label, dict(by_status), load
            wrong = {s: n for s, n in by_status.items() if s != want and n > 0}
            if wrong:
                res["errors"].append(f"wrk {label}: unexpected statuses {wrong} (wanted only {want})")
            if w["socket_errors"]:
                res["errors"].append(f"wrk {label}: socket errors {w['socket_errors']}")
            rounds[key].append(w)
            log(f"  {w['rps']:.0f} req/s, p50 {w['p50']:.2f} ms, p99 {w['p99']:.2f} ms, peak RSS {w['peak_rss_kb'] / 1024:.1f} MiB")
            time.sleep(1)
    for key, ws in rounds.items():
        # The round of median throughput stands for the route; statuses and requests add up over the rounds.
        median = sorted(ws, key=lambda x: x["rps"])[len(ws) // 2]
        merged = dict(median)
        merged["rounds"] = [x["rps"] for x in ws]
        merged["requests"] = sum(x["requests"] for x in ws)
        merged["peak_rss_kb"] = max(x["peak_rss_kb"] for x in ws)
        statuses = {}
        for x in ws:
            for st, n in x["statuses"].items():
                statuses[st] = statuses.get(st, 0) + n
        merged["statuses"] = statuses
        wrk[key] = merged
    res["wrk"] = wrk
    res["burst"] = burst(svc_port, token, proxy, domain, D)
    res["errors"] += res["burst"]["errors"]
    res["rss_hwm_kb"] = proc_status(svc_p.pid, "VmHWM")
    res["rss_end_kb"] = proc_status(svc_p.pid, "VmRSS")
    svc.close()
    rc = procs.stop(svc_p, grace=30)
    res["startup"]["exit_codes"].append(rc)
    if rc != 0:
        res["errors"].append(f"s3-api exited with {rc} on SIGTERM after the bench")

    with open(os.path.join(tmp, "service.log")) as f:
        svc_lines = f.read().splitlines()
    res["service_log_errors"] = [l for l in svc_lines if " ERROR " in l or "panicked" in l][:10]
    res["service_log_warns"] = sum(1 for l in svc_lines if " WARN " in l)
    res["config"] = {"delay_ms": D, "runs": args.runs, "domain": domain}
    return res


def burst(svc_port, token, proxy, domain, D):
    """A burst of concurrent creates in an account whose IAM the proxy limits to BURST_RATE calls per second (the
    service paced to the same rate), while the other account creates buckets one after another."""
    log(f"burst: IAM of account {BURST_ACCOUNT} limited to {BURST_RATE:g} calls/s")
    setup = Service(svc_port, token)
    users_bucket = f"burst-users-{secrets.token_hex(4)}"
    st, doc, _ = setup.call("POST", f"/v1/s3/{BURST_ACCOUNT}/buckets", bucket_body(users_bucket))
    if st != 202:
        raise Abort(f"burst set-up: bucket create answered {st}: {doc}")
    time.sleep(2.0)  # the set-up's calls out of the limiter
    # Latency of the other account, unloaded.
    other = Service(svc_port, token)

    def other_create():
        st, doc, dt = other.call("POST", f"/v1/s3/{ACCOUNT}/buckets", bucket_body(f"other-{secrets.token_hex(5)}"))
        return st, dt

    before = [other_create() for _ in range(3)]
    proxy.throttle(f"{BURST_AKID}/iam", BURST_RATE)

    requests = [("POST", f"/v1/s3/{BURST_ACCOUNT}/buckets", bucket_body(f"burst-{secrets.token_hex(5)}"))
                for _ in range(10)]
    for i in range(6):
        body = user_body(f"burst-u-{secrets.token_hex(4)}")
        if i % 2 == 0:
            body["Groups"] = ["BktRWGrp"]
        requests.append(("POST", f"/v1/s3/{BURST_ACCOUNT}/buckets/{users_bucket}/users", body))
    requests += [("POST", f"/v1/s3/{BURST_ACCOUNT}/websites", website_body(f"burst-{secrets.token_hex(4)}.{domain}"))
                 for _ in range(2)]

    def one(req):
        svc = Service(svc_port, token)
        try:
            return svc.call(*req)
        finally:
            svc.close()

    m0 = setup.metrics()
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(requests) + 1) as pool:
        answers = pool.map(one, requests)
        during_f = pool.submit(lambda: [other_create() for _ in range(3)])
        answers = list(answers)
        took = time.perf_counter() - t0
        during = during_f.result()
    m1 = setup.metrics()
    proxy.throttle(f"{BURST_AKID}/iam", 0)
    setup.close()
    other.close()

    def delta(name, **want):
        total = 0.0
        for (n, labels), v in m1.items():
            d = dict(labels)
            if n == name and all(d.get(k) == x for k, x in want.items()):
                total += v - m0.get((n, labels), 0.0)
        return int(round(total))

    iam = delta("aws_requests_total", account=BURST_ACCOUNT, service="iam")
    throttled = delta("aws_throttled_total", account=BURST_ACCOUNT, service="iam")
    failures = [f"{st} {doc}" for st, doc, _ in answers if not 200 <= st < 300]
    paced = iam / BURST_RATE
    out = {
        "requests": len(requests),
        "rate": BURST_RATE,
        "seconds": took,
        "iam_calls": iam,
        "throttled": throttled,
        "paced_seconds": paced,
        "failures": len(failures),
        "other_before_ms": [dt * 1000 for _, dt in before],
        "other_during_ms": [dt * 1000 for _, dt in during],
        "errors": [],
    }
    if failures:
        out["errors"].append(f"burst: {len(failures)} of {len(requests)} failed: {failures[:3]}")
    if took > 1.5 * paced:
        out["errors"].append(f"burst: {took:.1f} s for {iam} IAM calls at {BURST_RATE:g}/s (> 1.5× {paced:.1f} s)")
    bad_other = [st for st, _ in before + during if st != 202]
    if bad_other:
        out["errors"].append(f"burst: the other account's creates answered {bad_other}")
    log(f"burst: {len(requests)} requests in {took:.1f} s, {len(failures)} failed; {iam} IAM calls "
        f"({paced:.1f} s at {BURST_RATE:g}/s), {throttled} throttled answers; other account "
        f"{statistics.median(out['other_before_ms']):.0f} ms before, {statistics.median(out['other_during_ms']):.0f} ms during")
    return out


def report(args, res):
    D = args.delay_ms
    mc = res["machine"]
    S = res["samples"]
    L = []
    w = L.append
    w("# s3-api benchmark results")
    w("")
    w(f"Generated by `bench/run` on {res['date']} in {res['elapsed_s'] / 60:.1f} min (after the release build). "
      "Do not edit by hand: run `bench/run` again.")
    w("")
    w(f"- Machine: {mc['nproc']} CPUs (`nproc`), {mc['cpu']}, {mc['mem_gib']:.1f} GiB RAM, Linux {mc['kernel']}")
    ver = res.get("version", {})
    w(f"- Commit: `{mc['commit']}`" + (" **plus uncommitted changes in src/** (the binary was built from the working tree)" if mc["dirty"] else "")
      + f"; binary reports version {ver.get('version', '?')}, githash {ver.get('githash', '?')}, release build")
    w(f"- AWS: moto 5.2.5 on loopback behind `bench/delay_proxy.py`, which adds D = {D:g} ms to every AWS request; "
      f"{args.runs} measured runs per route (fresh names each run) after one warm-up run; medians.")
    w("")

    # round trips
    w(f"## Round trips (small account, D = {D:g} ms)")
    w("")
    cal = res["calibration"]
    d_eff = cal["at_d_ms"] - cal["at_0_ms"]
    w("- `latency ÷ D`: end-to-end latency divided by the delay the proxy adds to every AWS request. QUALITY.md §3 "
      "puts the bar on it. It counts the sequential AWS round trips on the critical path **plus** the time the "
      "emulator and the service themselves take: moto needs a few ms per call (more in a large account) and "
      "serves concurrent calls largely one at a time.")
    w("- `at D = 0`: the same routes with the delay set to 0, i.e. that emulator-and-service share alone. "
      "`net ÷ D` = (latency at D − latency at 0) ÷ D.")
    w(f"- `round trips`: (latency at D − latency at 0) ÷ {d_eff:.1f} ms, rounded. {d_eff:.1f} ms is what one AWS call "
      f"through the proxy really adds at D = {D:g} ms (STS GetCallerIdentity from a Python client: "
      f"{cal['at_d_ms']:.1f} ms at D, {cal['at_0_ms']:.1f} ms at 0; after each pause every process wakes up cold). "
      "The unrounded value is in brackets.")
    w("- `AWS calls`: the increase of `aws_requests_total` (all series) over the request, from the service's "
      "`/v1/s3/metrics`; `proxy`: HTTP requests the proxy forwarded (SDK retries included).")
    w("- Latencies: median (min–max).")
    w("")
    w("| route | bar | latency (ms) | latency ÷ D | bar met (latency ÷ D) | at D = 0 (ms) | net ÷ D | round trips "
      "| bar met (round trips) | AWS calls | proxy |")
    w("|---|---|---|---|---|---|---|---|---|---|---|")
    verdicts = []
    for key, label, bar in ROUTES:
        s = summarize(S, "small", D, key)
        z = summarize(S, "small", 0.0, key)
        if not s or not z:
            w(f"| {label} | {bar or '—'} | no successful run | | **no** | | | | **no** | | |")
            verdicts.append((label, bar, None, None))
            continue
        rt = s["median_ms"] / D
        net = (s["median_ms"] - z["median_ms"]) / D
        trips = (s["median_ms"] - z["median_ms"]) / d_eff
        n_trips = round(trips)

        def met(x):
            return "—" if bar is None else ("yes" if x <= bar else "**NO**")

        verdicts.append((label, bar, rt, n_trips))
        w(f"| {label} | {'≤ ' + str(bar) if bar else '—'} | {fmt(s['median_ms'])} ({fmt(s['min_ms'], 0)}–{fmt(s['max_ms'], 0)}) "
          f"| {fmt(rt, 2)} | {met(rt)} | {fmt(z['median_ms'])} ({fmt(z['min_ms'], 0)}–{fmt(z['max_ms'], 0)}) "
          f"| {fmt(net, 2)} | {n_trips} ({fmt(trips, 2)}) | {met(n_trips)} | {calls_str(s['calls'])} | {calls_str(s['proxy'])} |")
    w("")
    over = [(l, b, r) for l, b, r, _ in verdicts if b is not None and (r is None or r > b)]
    over_trips = [(l, b, n) for l, b, _, n in verdicts if b is not None and (n is None or n > b)]
    at_bar = [l for l, b, _, n in verdicts if b is not None and n is not None and n == b]
    if over:
        w("**Bars not met on latency ÷ D:** " + "; ".join(f"{l} {fmt(r, 2) if r else 'failed'} > {b}" for l, b, r in over) + ".")
    else:
        w("Every route with a bar meets it on latency ÷ D.")
    w("")
    if over_trips:
        w("**Bars not met on round trips:** " + "; ".join(f"{l} {n if n is not None else 'failed'} > {b}" for l, b, n in over_trips) + ".")
    else:
        w("On round trips every route meets its bar" + (" — exactly at the bar, with no headroom: " + ", ".join(at_bar) if at_bar else "") + ".")
    w("")
    res["verdicts"] = verdicts

    # sizes
    sz = res["sizes"]
    fill = res.get("fill", {})
    w("## Cost independent of account size")
    w("")
    w(f"Small: the account as the bench created it ({sz['small']['groups']} IAM groups and "
      f"{sz['small']['distributions']} CloudFront distributions before its runs, {sz['small']['after'][0]} and "
      f"{sz['small']['after'][1]} after them: website deletes leave disabled distributions for the cleaner). "
      f"Large: {fill.get('groups', 0)} extra IAM groups (made in {fill.get('groups_s', 0):.0f} s) and "
      f"{fill.get('dists', 0)} extra distributions (made in {fill.get('dists_s', 0):.0f} s), created directly in moto "
      f"before the runs: {sz['large']['groups']} groups and {sz['large']['distributions']} distributions. "
      f"D = {D:g} ms, medians of {args.runs} runs. `equal` compares the AWS calls of every run and the operations.")
    if fill.get("dists", 0) < args.distributions or fill.get("groups", 0) < args.groups:
        w(f"Not all fillers fit in the time bound ({args.fill_seconds:.0f} s each): the numbers above are what was made.")
    w("")
    w("| route | AWS calls, small | AWS calls, large | equal | latency ÷ D, small | latency ÷ D, large "
      "| net ÷ D, small | net ÷ D, large |")
    w("|---|---|---|---|---|---|---|---|")
    unequal = []
    for key, label, _ in ROUTES:
        a, b = summarize(S, "small", D, key), summarize(S, "large", D, key)
        a0, b0 = summarize(S, "small", 0.0, key), summarize(S, "large", 0.0, key)
        if not a or not b:
            w(f"| {label} | {'—' if not a else calls_str(a['calls'])} | {'—' if not b else calls_str(b['calls'])} | ? | | | | |")
            if key in SIZE_ROUTES:
                unequal.append(label)
            continue
        same_median = statistics.median(a["calls"]) == statistics.median(b["calls"]) and a["ops"] == b["ops"]
        eq = same_median and set(a["calls"]) == set(b["calls"])
        if key in SIZE_ROUTES and not same_median:
            unequal.append(label)
        mark = "yes" if eq else ("median yes, runs vary" if same_median else "**NO**")
        bold = "**" if key in SIZE_ROUTES else ""
        na = (a["median_ms"] - a0["median_ms"]) / D if a0 else None
        nb = (b["median_ms"] - b0["median_ms"]) / D if b0 else None
        w(f"| {bold}{label}{bold} | {calls_str(a['calls'])} | {calls_str(b['calls'])} | {mark} "
          f"| {fmt(a['median_ms'] / D, 2)} | {fmt(b['median_ms'] / D, 2)} | {fmt(na, 2)} | {fmt(nb, 2)} |")
    w("")
    w("The bar covers the routes in bold: " + ("**their AWS calls differ between the sizes: " + ", ".join(unequal) + "**."
                                               if unequal else "the same AWS calls (the same operations) at both sizes."))
    w("")

    # overhead
    W = res["wrk"]
    w(f"## Server overhead (no AWS call)")
    w("")
    w(f"`wrk -t{args.wrk_threads} -c{args.wrk_connections} -d{args.wrk_seconds}s --latency`, on the same "
      f"{mc['nproc']}-CPU machine as the service. The routes take turns in {args.wrk_rounds} rounds, the order "
      "rotating each round, so that the machine's drift over the minute does not pass for a difference between them; "
      "a row is the route's round of median throughput (requests/s of every round in brackets), its statuses those of "
      "all rounds. The authenticated route is an unknown account (404 after the token check). CPU is the service's "
      "user+system CPU time per request.")
    w("")
    w("| route | requests/s | p50 (ms) | p99 (ms) | CPU per request (µs) | statuses | peak RSS (MiB) | load average before |")
    w("|---|---|---|---|---|---|---|---|")
    for key in ("ping", "plain", "named", "bcrypt"):
        x = W[key]
        sts = ", ".join(f"{k}: {v}" for k, v in sorted(x["statuses"].items()) if v)
        each = ", ".join(f"{r:,.0f}" for r in x["rounds"])
        w(f"| {x['label']} | {x['rps']:,.0f} ({each}) | {fmt(x['p50'], 2)} | {fmt(x['p99'], 2)} | {fmt(x['cpu_us_per_req'], 0)} "
          f"| {sts} | {fmt(x['peak_rss_kb'] / 1024)} | {x['load']} |")
    w("")

    def ratio_to_plain(key):
        # Each round's ratio compares turns a few seconds apart; the median of the rounds' ratios is the figure.
        pairs = [a / b for a, b in zip(W[key]["rounds"], W["plain"]["rounds"]) if b]
        return sorted(pairs)[len(pairs) // 2] if pairs else float("nan")

    named_ratio = ratio_to_plain("named")
    w(f"Named token: {named_ratio * 100:.0f} % of the plain legacy token's throughput (median of the rounds' ratios)"
      + (" — within 10 %, as required." if named_ratio >= 0.9 else " — **not** within 10 %: the bar is not met."))
    w("")
    ratio = ratio_to_plain("bcrypt")
    w(f"bcrypt-hash token: the first request took {fmt(res['bcrypt_first_ms'])} ms (one bcrypt verification, cost 10), "
      f"the second {fmt(res['bcrypt_second_ms'], 2)} ms; under load it runs at {ratio * 100:.0f} % of the plain "
      f"token's throughput" + (" — about the same, as required." if ratio >= 0.9 else " — **not** the same: the bar is not met."))
    w("")

    # burst
    B = res["burst"]
    w("## Burst within a rate limit")
    w("")
    w(f"Account `{BURST_ACCOUNT}` (the same emulator account under its own access key) has its IAM limited by the "
      f"proxy to {B['rate']:g} calls per second, one second's worth at once (a token bucket answering `Throttling` "
      f"beyond it, as AWS limits an account), and the service configured with `rateLimits.iam = {B['rate']:g}`. "
      f"{B['requests']} creates start at once (10 buckets, 6 bucket users, 2 websites), D = {D:g} ms. "
      f"Meanwhile account `{ACCOUNT}` (not limited) creates 3 buckets one after another. `paced time` is the "
      "IAM calls the burst made (the increase of `aws_requests_total`, each counted once however often it was "
      "retried) ÷ the rate.")
    w("")
    w("| requests | allowed IAM rate | IAM calls | paced time | burst took | ÷ paced time | failures "
      "| throttled answers | other account, create bucket before | during |")
    w("|---|---|---|---|---|---|---|---|---|---|")
    w(f"| {B['requests']} | {B['rate']:g}/s | {B['iam_calls']} | {B['paced_seconds']:.1f} s | {B['seconds']:.1f} s "
      f"| {B['seconds'] / B['paced_seconds']:.2f} | {B['failures']} | {B['throttled']} "
      f"| {statistics.median(B['other_before_ms']):.0f} ms | {statistics.median(B['other_during_ms']):.0f} ms |")
    w("")

    # memory, start-up
    st = res["startup"]
    peak = max(W[k]["peak_rss_kb"] for k in W)
    w("## Memory and start-up")
    w("")
    w("| measure | value |")
    w("|---|---|")
    w(f"| RSS idle, 1 s after start | {res['rss_idle_kb'] / 1024:.1f} MiB |")
    w(f"| RSS after the round-trip runs | {res['rss_after_roundtrips_kb'] / 1024:.1f} MiB |")
    w(f"| RSS peak under the wrk load (sampled every 50 ms) | {peak / 1024:.1f} MiB |")
    w(f"| RSS high-water mark of the process (VmHWM) | {res['rss_hwm_kb'] / 1024:.1f} MiB |")
    w(f"| start-up: spawn to first successful `/v1/s3/ping`, median of {len(st['times'])} | "
      f"{statistics.median(st['times']) * 1000:.1f} ms (min {min(st['times']) * 1000:.1f}, max {max(st['times']) * 1000:.1f}) |")
    w(f"| exit code on SIGTERM ({len(st['exit_codes']) - 1} starts + the measured instance) | "
      f"{', '.join(str(c) for c in st['exit_codes'])} |")
    w("")

    # AWS operations
    w("## AWS operations per request (small account, the median run)")
    w("")
    for key, label, _ in ROUTES:
        s = summarize(S, "small", D, key)
        if s:
            ops = ", ".join(f"{op}" + (f" ×{n}" if n > 1 else "") for op, n in sorted(s["ops"].items()))
            w(f"- **{label}** ({sum(s['ops'].values())}): {ops}")
    w("")

    w("## Errors")
    w("")
    if res["errors"]:
        for e in res["errors"]:
            w(f"- {e}")
    else:
        w("None: every request answered with the expected status.")
    if res["service_log_errors"]:
        w("")
        w("Service log errors:")
        for e in res["service_log_errors"]:
            w(f"    {e}")
    w("")

    text = "\n".join(L)
    with open(args.results, "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    sys.exit(main())
