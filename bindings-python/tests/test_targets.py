"""The core's target files through gds_metrics.targets."""

import json

import pytest

from gds_metrics.targets import TargetStore, read_target_file, render_target_file, target_groups

GUID = "6f1e3c2a-9b4d-4e8f-a1b2-c3d4e5f6a7b8"
OTHER = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"


def facts(**changes):
    app = {
        "guid": GUID,
        "name": "notify-api-venerable",
        "instances": 2,
        "route_host": "notify-api.cloudapps.digital",
        "org": "govuk-notify",
        "space": "production",
    }
    app.update(changes)
    return app


def test_one_group_per_instance_with_the_contract_labels():
    groups = target_groups(facts())
    assert groups[1] == {
        "targets": ["notify-api.cloudapps.digital"],
        "labels": {
            "__param_cf_app_guid": GUID,
            "__param_cf_app_instance": f"{GUID}:1",
            "__param_cf_app_instance_index": "1",
            "instance": f"{GUID}:1",
            "job": "notify-api",
            "org": "govuk-notify",
            "space": "production",
        },
    }
    assert len(groups) == 2


def test_route_path_becomes_metrics_path():
    groups = target_groups(facts(route_path="/api"))
    assert groups[0]["labels"]["__metrics_path__"] == "/api/metrics"


def test_exporters_carry_no_space_label():
    assert "space" not in target_groups(facts(exporter=True))[0]["labels"]


def test_bad_facts_are_a_value_error_naming_the_field():
    with pytest.raises(ValueError, match="name"):
        render_target_file(facts(name=""))
    with pytest.raises(ValueError, match="invalid app GUID"):
        render_target_file(facts(guid="NOT-A-GUID"))


def test_reader_is_strict_and_names_the_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"targets": ["a"], "labels": {"bad-name": "x"}}]))
    with pytest.raises(ValueError, match=r"bad\.json: group 0"):
        read_target_file(bad)
    good = tmp_path / "good.json"
    good.write_text(render_target_file(facts()))
    assert read_target_file(good) == target_groups(facts())


def test_missing_file_is_an_os_error(tmp_path):
    with pytest.raises(OSError, match="missing.json"):
        read_target_file(tmp_path / "missing.json")


def test_store_writes_atomically_and_skips_unchanged_bytes(tmp_path):
    store = TargetStore(tmp_path)
    contents = render_target_file(facts())
    assert store.write("active", GUID, contents) == "written"
    assert store.write("active", GUID, contents) == "unchanged"
    assert (tmp_path / "active" / f"{GUID}.json").read_text() == contents
    assert store.list() == {"active": [GUID], "inactive": []}


def test_reconcile_moves_stopped_apps_and_removes_stale_ones(tmp_path):
    store = TargetStore(tmp_path)
    store.write("active", OTHER, render_target_file(facts(guid=OTHER)))
    # Apps are handled in GUID order: the unbound OTHER (0a1b...) first.
    assert store.reconcile([{**facts(), "state": "stopped"}]) == [
        (f"remove active/{OTHER}.json", "removed"),
        (f"write inactive/{GUID}.json", "written"),
    ]
    assert store.list() == {"active": [], "inactive": [GUID]}
    assert store.plan([{**facts(), "state": "started"}]) == [
        f"write active/{GUID}.json",
        f"remove inactive/{GUID}.json",
    ]


def test_unknown_folder_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match='"active" or "inactive"'):
        TargetStore(tmp_path).remove("live", GUID)
