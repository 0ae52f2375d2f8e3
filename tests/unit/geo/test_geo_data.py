import csv
from importlib import resources

DATA = resources.files("geo.data")


def read(name: str) -> list[dict[str, str]]:
    with DATA.joinpath(name).open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_there_are_38_provinces_and_514_kabupaten_kota() -> None:
    provinces = read("provinces.csv")
    kabupaten = read("kabupaten.csv")
    assert len(provinces) == 38
    assert len(kabupaten) == 514
    assert len({k["code"] for k in kabupaten}) == 514
    assert {k["province_code"] for k in kabupaten} == {p["code"] for p in provinces}


def test_2022_papua_kabupaten_carry_their_current_codes() -> None:
    by_old = {k["code_2019"]: k for k in read("kabupaten.csv")}
    assert by_old["91.01"]["code"] == "93.01"  # Merauke -> Papua Selatan
    assert by_old["91.04"]["code"] == "94.01"  # Nabire -> Papua Tengah
    assert by_old["91.02"]["code"] == "95.01"  # Jayawijaya -> Papua Pegunungan
    assert by_old["92.71"]["code"] == "96.71"  # Kota Sorong -> Papua Barat Daya
    assert by_old["65.71"]["code"] == "65.71"  # Kalimantan Utara existed in 2019


def test_every_kabupaten_has_village_points() -> None:
    with_points = {row["kabupaten_code"] for row in read("desa_points.csv")}
    assert with_points == {k["code"] for k in read("kabupaten.csv")}


def test_provenance_sits_beside_the_data() -> None:
    text = DATA.joinpath("PROVENANCE.md").read_text(encoding="utf-8")
    for name in ("provinces.csv", "kabupaten.csv", "desa_points.csv", "idn_provinces_ne10m.geojson",
                 "neighbours_ne10m.geojson"):  # fmt: skip
        assert name in text
