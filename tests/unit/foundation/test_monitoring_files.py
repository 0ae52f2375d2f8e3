"""docker-compose.yml's monitoring: Prometheus scrapes the API and every worker where they
serve their metrics, and Grafana is provisioned with that Prometheus and a Siaga dashboard
whose queries name metrics Siaga really exports."""

from __future__ import annotations

import ipaddress
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from siaga.settings import Settings

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def _mounts(service: dict[str, Any]) -> dict[str, Path]:
    """container path → host path of a service's bind mounts (relative to the compose file)."""
    out = {}
    for volume in service.get("volumes", []):
        host, container, *_ = volume.split(":")
        if host.startswith("./"):
            out[container] = ROOT / host[2:]
    return out


def _exported_metric_names() -> set[str]:
    """Every metric name Siaga exports (its own metrics and the pipeline collector's)."""
    from prometheus_client import Counter, Gauge, Histogram

    import siaga.metrics as metrics

    names = set()
    for value in vars(metrics).values():
        if isinstance(value, Counter | Gauge | Histogram):
            names.add(value._name)
    source = (ROOT / "siaga" / "pipeline.py").read_text()
    names |= set(re.findall(r'"(siaga_pipeline_[a-z_]+)"', source))
    return names


def test_prometheus_scrapes_the_api_and_every_worker_where_they_serve(
    compose: dict[str, Any]
) -> None:
    prometheus = compose["services"]["prometheus"]
    config_path = _mounts(prometheus)["/etc/prometheus/prometheus.yml"]
    config = yaml.safe_load(config_path.read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    api_env = compose["services"]["api"]["environment"]
    api_target = f"api:{api_env['SIAGA_API_PORT']}"
    assert jobs["siaga-api"]["static_configs"][0]["targets"] == [api_target]
    assert jobs["siaga-api"]["metrics_path"] == "/metrics"
    worker_env = compose["services"]["worker"]["environment"]
    discovery = jobs["siaga-worker"]["dns_sd_configs"][0]
    assert discovery["names"] == ["worker"]  # resolves to every replica
    assert str(discovery["port"]) == worker_env["SIAGA_WORKER_METRICS_PORT"]
    # a worker listening on loopback inside its container could not be scraped
    assert worker_env["SIAGA_WORKER_METRICS_HOST"] == "0.0.0.0"
    assert set(prometheus["depends_on"]) >= {"api", "worker"}


def test_the_api_lets_prometheus_on_the_compose_network_scrape_by_default(
    compose: dict[str, Any]
) -> None:
    from api.metrics import allowed_networks, client_allowed

    api_env = compose["services"]["api"]["environment"]
    networks = api_env.get("SIAGA_METRICS_ALLOWED_NETWORKS",
                           Settings().metrics_allowed_networks)
    allowed = allowed_networks(Settings(metrics_allowed_networks=networks))
    # Docker's default address pools for compose networks
    assert client_allowed("172.18.0.5", allowed)
    assert not client_allowed("203.0.113.9", allowed)
    assert allowed is not None and all(n.is_private for n in allowed)
    assert all(isinstance(n, ipaddress.IPv4Network | ipaddress.IPv6Network) for n in allowed)


def test_grafana_is_provisioned_with_prometheus_and_the_siaga_dashboard(
    compose: dict[str, Any]
) -> None:
    grafana = compose["services"]["grafana"]
    mounts = _mounts(grafana)
    provisioning = mounts["/etc/grafana/provisioning"]
    datasources = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())
    source = datasources["datasources"][0]
    assert source["type"] == "prometheus"
    assert source["url"] == "http://prometheus:9090"
    providers = yaml.safe_load((provisioning / "dashboards" / "siaga.yml").read_text())
    path = providers["providers"][0]["options"]["path"]
    assert path in mounts, f"dashboards are read from {path}, which is not mounted"
    dashboards = list(mounts[path].glob("*.json"))
    assert [p.name for p in dashboards] == ["siaga.json"]
    dashboard = json.loads(dashboards[0].read_text())
    titles = " | ".join(panel["title"] for panel in dashboard["panels"]).lower()
    for subject in ("lag", "throughput", "re-plan", "dead letters", "http"):
        assert subject in titles, subject
    exported = _exported_metric_names()
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == source["uid"], panel["title"]
        for target in panel["targets"]:
            for name in re.findall(r"\bsiaga_[a-z_]+", target["expr"]):
                base = re.sub(r"_(bucket|count|sum|total)$", "", name)
                assert base in exported, f"{panel['title']}: {name} is not exported"
    assert "GF_SECURITY_ADMIN_PASSWORD" in grafana["environment"]
    assert grafana["environment"]["GF_AUTH_ANONYMOUS_ENABLED"] == "false"


def test_the_api_may_read_what_its_pipeline_view_needs_and_nothing_more(
    compose: dict[str, Any]
) -> None:
    """Describe on every Siaga topic (end offsets), Read on the dead-letter topic only, and
    Describe on the workers' group (committed offsets): no write beyond its own topics."""
    from siaga.catalogue import INTERNAL_TOPICS, TOPICS

    script = "\n".join(compose["services"]["kafka-users"]["command"])
    loops = re.findall(r"for topic in ([^;]+); do\n\s*(.+)", script)
    described = next(set(names.split()) for names, body in loops
                     if "User:siaga-api --operation Describe --topic" in body)
    assert described == {f"siaga.{t}" for t in [s.name for s in TOPICS] + list(INTERNAL_TOPICS)}
    reads = [line for line in script.splitlines()
             if "User:siaga-api" in line and "--operation Read" in line]
    assert reads == [line for line in reads if line.rstrip().endswith("--topic siaga.deadletter")]
    assert reads
    assert any("User:siaga-api --operation Describe --group siaga-worker" in line
               for line in script.splitlines())
