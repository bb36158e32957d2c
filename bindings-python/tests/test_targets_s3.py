"""gds_metrics.targets.TargetStore on s3://bucket/prefix, against a real S3 server
(s3s-fs on loopback, SigV4 credentials), configured from the AWS variables."""

import pytest

from gds_metrics import ConflictError
from gds_metrics.targets import TargetStore, render_target_file
from servers import S3Server

GUID = "6f1e3c2a-9b4d-4e8f-a1b2-c3d4e5f6a7b8"
OTHER = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
LOCATION = "s3://targets/prod"


def facts(guid=GUID, instances=2):
    return {
        "guid": guid,
        "name": "notify-api",
        "instances": instances,
        "route_host": "notify-api.cloudapps.digital",
        "org": "govuk-notify",
        "space": "production",
    }


@pytest.fixture
def s3(tmp_path, monkeypatch):
    server = S3Server(tmp_path / "s3")
    for name, value in server.env().items():
        monkeypatch.setenv(name, value)
    yield server
    server.stop()


def object_file(s3, folder, guid):
    return s3.object_path("targets", f"prod/{folder}/{guid}.json")


def test_write_reads_back_and_an_unchanged_write_is_not_rewritten(s3):
    store = TargetStore(LOCATION)
    contents = render_target_file(facts())
    assert store.write("active", GUID, contents) == "written"
    assert store.list() == {"active": [GUID], "inactive": []}
    assert object_file(s3, "active", GUID).read_text() == contents

    modified = object_file(s3, "active", GUID).stat().st_mtime_ns
    assert store.write("active", GUID, contents) == "unchanged"
    assert object_file(s3, "active", GUID).stat().st_mtime_ns == modified


def test_a_write_from_a_stale_listing_raises_conflict_and_resurrects_nothing(s3):
    broker, updater = TargetStore(LOCATION), TargetStore(LOCATION)
    broker.write("active", GUID, render_target_file(facts()))
    listed = GUID in updater.list()["active"]
    broker.remove("active", GUID)

    with pytest.raises(ConflictError, match=f"s3://targets/prod/active/{GUID}.json"):
        updater.write("active", GUID, render_target_file(facts(instances=3)), listed=listed)
    assert broker.list() == {"active": [], "inactive": []}


def test_creating_a_file_another_writer_just_created_raises_conflict(s3):
    first, second = TargetStore(LOCATION), TargetStore(LOCATION)
    listed = GUID in first.list()["active"]
    second.write("active", GUID, render_target_file(facts()))

    with pytest.raises(ConflictError, match="another writer got there first"):
        first.write("active", GUID, render_target_file(facts(instances=3)), listed=listed)
    assert object_file(s3, "active", GUID).read_text() == render_target_file(facts())


def test_remove_reports_what_it_did(s3):
    store = TargetStore(LOCATION)
    store.write("inactive", GUID, render_target_file(facts()))
    assert store.remove("inactive", GUID) == "removed"
    assert store.remove("inactive", GUID) == "absent"
    assert not object_file(s3, "inactive", GUID).exists()
    assert store.list() == {"active": [], "inactive": []}


def test_reconcile_and_plan_work_on_s3_as_on_a_directory(s3):
    store = TargetStore(LOCATION)
    store.write("active", OTHER, render_target_file(facts(guid=OTHER)))
    assert store.reconcile([{**facts(), "state": "stopped"}]) == [
        (f"remove active/{OTHER}.json", "removed"),
        (f"write inactive/{GUID}.json", "written"),
    ]
    assert store.plan([{**facts(), "state": "started"}]) == [
        f"write active/{GUID}.json",
        f"remove inactive/{GUID}.json",
    ]
    assert store.root == LOCATION


def test_move_explains_that_s3_has_no_rename(s3):
    with pytest.raises(ValueError, match="reconcile"):
        TargetStore(LOCATION).move(GUID, "active")


def test_missing_credentials_say_which_variables_to_set(monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    with pytest.raises(OSError, match="AWS_ACCESS_KEY_ID"):
        TargetStore(LOCATION)
