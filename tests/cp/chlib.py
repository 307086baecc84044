# SPDX-License-Identifier: BSD-3-Clause
"""A clickhouse-server of a test's or a benchmark's own, on loopback: its config, data and
logs under one directory, free ports, never the system service (docs/export.md)."""
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request

from cplib import fail

SERVER = shutil.which("clickhouse-server") or "/usr/sbin/clickhouse-server"

if not os.access(SERVER, os.X_OK):
    fail("clickhouse-server is not installed (deploy/setup installs it: apt-get install "
         "clickhouse-server clickhouse-client)")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class ClickHouse:
    """clickhouse-server with config, data and logs under dir."""

    def __init__(self, dir, extra=""):
        """extra: more server config (XML inside <yandex>), e.g. a remote_servers
        section for shards behind a Distributed table (shards())."""
        self.http = free_port()
        self.tcp = free_port()
        self._write(dir, extra)

    def _write(self, dir, extra):
        self.dir = dir
        for sub in ("data", "tmp", "log"):
            os.makedirs(os.path.join(dir, sub), exist_ok=True)
        with open(os.path.join(dir, "config.xml"), "w") as f:
            f.write("""<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>%(d)s/log/server.log</log>
    <errorlog>%(d)s/log/error.log</errorlog></logger>
  <http_port>%(http)d</http_port>
  <tcp_port>%(tcp)d</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>%(d)s/data/</path>
  <tmp_path>%(d)s/tmp/</tmp_path>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>5368709</mark_cache_size>
  %(extra)s
</yandex>
""" % {"d": dir, "http": self.http, "tcp": self.tcp, "extra": extra})
        with open(os.path.join(dir, "users.xml"), "w") as f:
            f.write("""<?xml version="1.0"?>
<yandex>
  <profiles><default></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks>
    <profile>default</profile><quota>default</quota></default></users>
  <quotas><default></default></quotas>
</yandex>
""")
        self.p = None
        self.url = "http://127.0.0.1:%d/" % self.http

    def start(self):
        out = open(os.path.join(self.dir, "log", "stdout.log"), "ab")
        self.p = subprocess.Popen([SERVER, "--config-file=" + os.path.join(self.dir, "config.xml")],
                                  cwd=self.dir, stdout=out, stderr=out)
        out.close()
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.p.poll() is not None:
                fail("clickhouse-server exited (rc %s); see %s/log" % (self.p.returncode, self.dir))
            try:
                if self.query("SELECT 1").strip() == "1":
                    return
            except OSError:
                time.sleep(0.2)
        fail("clickhouse-server did not come up on port %d" % self.http)

    def stop(self):
        if self.p is not None and self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(60)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.p = None

    def query(self, q):
        req = urllib.request.Request(self.url, data=q.encode())
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.read().decode()

    def rows(self, q):
        return [l.split("\t") for l in self.query(q).splitlines() if l]


def shards(dirs, cluster="obscura_fleet"):
    """ClickHouse servers under dirs (not started), each a shard of one cluster named
    cluster: every one knows all of them (remote_servers), so a Distributed table created
    on any of them reads every shard.  The ports are taken before the configs are
    written."""
    ports = [(free_port(), free_port()) for _ in dirs]
    remote = "<remote_servers><%s>%s</%s></remote_servers>" % (cluster, "".join(
        "<shard><replica><host>127.0.0.1</host><port>%d</port></replica></shard>" % tcp
        for _, tcp in ports), cluster)
    out = []
    for d, (http, tcp) in zip(dirs, ports):
        c = ClickHouse.__new__(ClickHouse)
        c.http, c.tcp = http, tcp
        ClickHouse._write(c, d, remote)
        out.append(c)
    return out


if __name__ == "__main__":
    # chlib.py serve DIR URL_FILE: for a shell test, one server under DIR; its URL written
    # to URL_FILE once it answers, stopped (and this exits) on SIGTERM or SIGINT
    import sys
    if len(sys.argv) != 4 or sys.argv[1] != "serve":
        fail("usage: chlib.py serve DIR URL_FILE")
    ch = ClickHouse(sys.argv[2])
    done = []
    signal.signal(signal.SIGTERM, lambda *_: done.append(1))
    signal.signal(signal.SIGINT, lambda *_: done.append(1))
    ch.start()
    with open(sys.argv[3] + ".tmp", "w") as f:
        f.write(ch.url + "\n")
    os.rename(sys.argv[3] + ".tmp", sys.argv[3])
    while not done and ch.p.poll() is None:
        time.sleep(0.2)
    rc = ch.p.poll()
    ch.stop()
    sys.exit(0 if rc is None else 1)
