"""The dashboard's map library and base map are the project's own files: pinned, with their
licences, loaded from Siaga itself, and the base map rebuilt from geo/data is the one committed."""

from __future__ import annotations

import json
import re

from api import vendor
from api.routes.pages import STATIC


def test_every_vendored_file_and_licence_is_there_at_the_pinned_version() -> None:
    assert (vendor.VENDOR / "VERSIONS").read_text() == vendor.versions_text()
    for package in vendor.PACKAGES:
        for target in package.files.values():
            assert (vendor.VENDOR / package.name / target).stat().st_size > 0, target
    assert "1.9.4" in (vendor.VENDOR / "leaflet" / "leaflet.js").read_text()[:400]
    assert "BSD" in (vendor.VENDOR / "leaflet" / "LICENSE").read_text()
    assert "MIT" in (vendor.VENDOR / "leaflet.markercluster" / "MIT-LICENCE.txt").read_text()


def test_the_dashboard_loads_nothing_from_another_site() -> None:
    html = (STATIC / "dasbor.html").read_text()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert "/static/vendor/leaflet/leaflet.js" in sources
    assert all(s.startswith(("/", "#")) for s in sources), sources
    assert "<script>" not in html and "style=" not in html  # CSP: no inline script or style
    assert "http" not in (STATIC / "dasbor.js").read_text().replace("http://www.w3.org", "")


def test_the_committed_base_map_is_what_geo_data_builds() -> None:
    from geo.basemap import DEFAULT_OUTPUT, basemap

    committed = json.loads(DEFAULT_OUTPUT.read_text())
    assert committed == json.loads(json.dumps(basemap(), separators=(",", ":")))
    layers = [f["properties"]["layer"] for f in committed["features"]]
    assert layers.count("province") == 38
    assert layers.count("kabupaten") == 513  # 514 less Kepulauan Seribu (no polygon)
    assert DEFAULT_OUTPUT.stat().st_size < 600_000
    cianjur = [f for f in committed["features"] if f["properties"].get("code") == "32.03"]
    assert cianjur[0]["properties"]["name"] == "Kabupaten Cianjur"
