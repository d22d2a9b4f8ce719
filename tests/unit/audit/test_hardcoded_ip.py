from __future__ import annotations

import pytest

from .helpers import run

POSITIVE = [
    ("app/config.py", 'REDIS_HOST = "10.0.0.5"\n', "10.0.0.5", "REDIS_HOST"),
    ("app/db.py", 'host = os.getenv("DB_HOST", "192.168.1.20")\n', "192.168.1.20", "DB_HOST"),
    ("deploy.sh", "ssh root@172.16.4.9 'systemctl restart api'\n", "172.16.4.9", ""),
    ("deploy.sh", "scp build.tgz ubuntu@45.76.12.103:/srv/\n", "45.76.12.103", ""),
    (".env", "POSTGRES_HOST=10.10.0.21\n", "10.10.0.21", "POSTGRES_HOST"),
    ("values.yaml", "redis:\n  host: 10.0.3.17\n", "10.0.3.17", "host"),
    ("cfg.json", '{"api_url": "http://104.171.202.33:8000/v1"}\n', "104.171.202.33", "api_url"),
    ("docs/servers.md", "The GH200 node is 192.222.58.232.\n", "192.222.58.232", ""),
    ("docs/servers.md", "| ai-core | 192.222.51.151 | GH200 |\n", "192.222.51.151", ""),
    ("settings.toml", 'broker = "amqp://guest@10.2.0.8:5672"\n', "10.2.0.8", "broker"),
    ("run.sh", "curl --host=10.0.0.9 http://x\n", "10.0.0.9", "host"),
    ("app/ipv6.py", 'PEER = "fd12:3456:789a::10"\n', "fd12:3456:789a::10", "PEER"),
    ("app/ipv6.py", 'PEER = "2a01:4f8:c17:1::5"\n', "2a01:4f8:c17:1::5", "PEER"),
]

NEGATIVE = [
    ("app/a.py", 'HOST = "127.0.0.1"\n'),
    ("app/a.py", 'BIND = "0.0.0.0"\n'),
    ("app/a.py", 'B = "255.255.255.255"\n'),
    ("app/a.py", 'MASK = "255.255.255.0"\n'),
    ("docs/a.md", "Use 192.0.2.10 or 198.51.100.7 or 203.0.113.99 in examples.\n"),
    ("net.tf", 'cidr_block = "10.0.0.0/16"\n'),
    ("net.yaml", "allowed: 192.168.1.0/24\n"),
    ("net.yaml", "allowed: 10.1.2.3/32\n"),
    ("requirements.txt", "numpy==1.26.4.1\n"),
    ("package.json", '{"version": "12.5.4.2"}\n'),
    ("CHANGELOG.md", "## v1.2.3.4 released\n"),
    ("CHANGELOG.md", "Version 2.0.1.5 fixes the bug\n"),
    ("snmp.conf", "oid 1.3.6.1.4.1.2021\n"),
    ("app/a.py", 'UA = "sophia-agent/1.2.3.4"\n'),
    ("k8s.yaml", "image: nginx:1.25.3.1\n"),
    ("app/a.py", 'APP_VERSION = "3.4.5.6"\n'),
    ("poetry.lock", 'version = "1.2.3.4"\nurl = "http://10.0.0.5"\n'),
    ("app/a.py", "x = 1.2.3.4.5\n"),
    ("app/a.py", 'll = "169.254.169.254"\n'),
    ("app/a.py", 'mc = "224.0.0.251"\n'),
    ("app/a.py", 'net = "10.0.0.0"\n'),
    ("app/a.py", 'when = "2024.01.05.1"\n'),
    ("app/a.py", "s = a[1::2]\n"),
    ("app/a.rs", "let v = std::vec::Vec::new();\n"),
    ("app/a.py", 'six = "::1"\n'),
    ("app/a.py", 'doc6 = "2001:db8::1"\n'),
    ("app/a.py", 'time = "12:30:45"\n'),
    ("app/a.py", 'mac = "aa:bb:cc:dd:ee:ff"\n'),
    ("app/a.py", 'link = "fe80::1ff:fe23:4567:890a"\n'),
    ("app/a.py", 'net6 = "fd00:1234::/48"\n'),
    ("Dockerfile", "FROM python:3.11.4.1-slim\n"),
    ("app/a.py", 'pkg = "foo-1.2.3.4"\n'),
    ("app/a.py", 'v = "1.2.3.4-beta"\n'),
]


@pytest.mark.parametrize(("path", "text", "address", "key"), POSITIVE)
def test_flags_host_addresses(path: str, text: str, address: str, key: str) -> None:
    findings = run("hardcoded-ip", path, text)
    assert [f.data["address"] for f in findings] == [address]
    finding = findings[0]
    assert finding.data["key"] == key
    line = text.split("\n")[finding.line - 1]
    assert line[finding.column - 1 : finding.end_column - 1] == address


@pytest.mark.parametrize(("path", "text"), NEGATIVE)
def test_ignores_non_hosts(path: str, text: str) -> None:
    assert run("hardcoded-ip", path, text) == []


def test_port_is_recorded() -> None:
    (finding,) = run("hardcoded-ip", "a.py", 'URL = "http://10.0.0.5:6379/0"\n')
    assert finding.data["port"] == "6379"
    assert finding.data["kind"] == "python"


def test_fingerprint_survives_line_moves() -> None:
    (a,) = run("hardcoded-ip", "a.py", 'HOST = "10.0.0.5"\n')
    (b,) = run("hardcoded-ip", "a.py", '"""doc"""\n\n\nHOST  =  "10.0.0.5"\n')
    assert a.line != b.line
    assert a.fingerprint == b.fingerprint


REALISTIC = [
    ("nginx.conf", "upstream api {\n  server 10.0.0.5:8000;\n}\nallow 10.0.0.0/8;\n", ["10.0.0.5"]),
    ("prometheus.yml", "scrape_configs:\n  - targets: ['10.0.4.7:9100']\n", ["10.0.4.7"]),
    ("inventory/hosts", "[gpu]\n192.222.51.151 ansible_user=ubuntu\n", ["192.222.51.151"]),
    ("main.go", 'ip := net.ParseIP("172.31.9.14")\n', ["172.31.9.14"]),
    (".github/workflows/ci.yml", "runs-on: ubuntu-22.04\nwith: {python-version: '3.11'}\n", []),
    ("Dockerfile", "ARG PYTHON_VERSION=3.11.4.1\nFROM python:${PYTHON_VERSION}\n", []),
    (".pre-commit-config.yaml", "- repo: x\n  rev: v4.5.0.1\n", []),
    ("sg.json", '{"cidr": "0.0.0.0/0", "ports": [443]}\n', []),
    ("app.js", 'const VERSION = "1.0.0.1";\n', []),
    ("extra.yml", 'extra_hosts:\n  - "gpu1:192.222.51.152"\n', ["192.222.51.152"]),
]


@pytest.mark.parametrize(("path", "text", "addresses"), REALISTIC)
def test_realistic_files(path: str, text: str, addresses: list[str]) -> None:
    assert [f.data["address"] for f in run("hardcoded-ip", path, text)] == addresses


@pytest.mark.parametrize(
    ("path", "text", "context"),
    [
        ("values.yaml", "cache:\n  redis:\n    host: 10.0.3.17\n", "cache.redis.host"),
        ("c.yml", "services:\n  api:\n    environment:\n      - DB_HOST=10.0.0.8\n",
         "services.api.environment.DB_HOST"),
        ("docs/net.md", "| redis | 10.0.0.9:6379 |\n", "redis"),
        ("a.py", 'REDIS_HOST = "10.0.0.5"\n', "REDIS_HOST"),
        ("run.sh", "ssh root@10.0.0.5\n", ""),
    ],
)  # fmt: skip
def test_usage_context(path: str, text: str, context: str) -> None:
    (finding,) = run("hardcoded-ip", path, text)
    assert finding.data["context"] == context
