"""docs/events.md, docs/schemas/*.json and the code agree; examples satisfy the schemas."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from siaga.catalogue import (
    EXAMPLES,
    TOPICS,
    event_type_name,
    json_schema,
    render_events_md,
    schema_files,
)

ROOT = Path(__file__).resolve().parents[3]


def test_events_doc_matches_the_code() -> None:
    committed = (ROOT / "docs" / "events.md").read_text()
    assert committed == render_events_md(), (
        "docs/events.md is stale: run `siaga docs` and commit the result"
    )


def test_schema_files_match_the_code() -> None:
    generated = schema_files()
    on_disk = {p.name: p.read_text() for p in (ROOT / "docs" / "schemas").glob("*.json")}
    assert on_disk == generated, "docs/schemas is stale: run `siaga docs` and commit the result"


@pytest.mark.parametrize("model", list(EXAMPLES))
def test_example_is_valid_against_its_published_schema(model: type) -> None:
    path = ROOT / "docs" / "schemas" / f"{event_type_name(model)}.v1.json"
    schema = json.loads(path.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(EXAMPLES[model].model_dump(mode="json"), schema)


@pytest.mark.parametrize("model", list(EXAMPLES))
def test_published_schema_rejects_a_record_without_event_id(model: type) -> None:
    payload = EXAMPLES[model].model_dump(mode="json")
    del payload["event_id"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(payload, json_schema(model))


def test_every_topic_and_event_is_documented() -> None:
    doc = (ROOT / "docs" / "events.md").read_text()
    for spec in TOPICS:
        assert f"## Topic `siaga.{spec.name}`" in doc
        for model in spec.event_types:
            assert f"### `{event_type_name(model)}`" in doc
