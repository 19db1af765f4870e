"""Consumer contracts end to end: recorded by the plugin from a downstream suite, merged under
xdist, verified against the catalogue and against a live stand-in through the gateway."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from refold_contract.mock import RefoldMock
from refold_contract.mock.server import RunningServer, running_server

from .helpers import FAKE_KEY

INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"

DOWNSTREAM = """
import httpx, requests

HEADERS = {"x-api-key": "tk_test", "linked_account_id": "user_1"}
EXECUTE = "/api/v2/integration-schema/hubspot/actions/{}/execute"


def contact_emails(http):  # the code under test: reads one field of each contact
    reply = http.post(EXECUTE.format("get_contact"), json={"limit": "1"})
    return [c["properties"]["email"] for c in reply.json()["data"]["results"]]


def total_found(client, email):  # and one field of a search, through RefoldClient
    result = client.execute("hubspot", "search_contacts",
                            {"propertyName": "email", "operator": "EQ", "value": email})
    return result.data["total"]


def test_emails(refold_mock):
    with httpx.Client(base_url=refold_mock.base_url, headers=HEADERS) as http:
        assert contact_emails(http) == ["contact@example.com"]


def test_search(refold_client):
    assert total_found(refold_client, "ada@example.com") >= 0


def test_a_snapshot_is_not_a_read(refold_client, refold_snapshot):
    assert refold_snapshot == refold_client.execute("slack", "list_channels")


def test_through_the_server(refold_server):
    requests.post(refold_server.url + EXECUTE.format("get_contact_by_id"),
                  json={"contactId": "51"}, headers=HEADERS, timeout=10)
"""


def read_paths(contract: dict, action: str) -> dict[str, dict]:  # type: ignore[type-arg]
    replies = contract["actions"][action]["replies"]
    return {path: read for reply in replies.values() for path, read in reply["reads"].items()}


def test_a_downstream_suite_yields_exactly_the_paths_its_code_reads(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(test_downstream=DOWNSTREAM)
    result = pytester.runpytest_subprocess(
        "--refold-consumer-contract", "contract.json", "--snapshot-update", "-p", "no:randomly"
    )
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["refold-contract: consumer contract written to contract.json*"])
    text = (pytester.path / "contract.json").read_text()
    assert text.endswith("}\n")
    contract = json.loads(text)
    assert json.dumps(contract, sort_keys=True, indent=2) + "\n" == text  # stable, diffable
    assert sorted(contract["actions"]) == [
        "hubspot/get_contact",
        "hubspot/get_contact_by_id",
        "hubspot/search_contacts",
        "slack/list_channels",
    ]
    assert set(read_paths(contract, "hubspot/get_contact")) == {
        "$.data.results[*].properties.email"
    }
    assert set(read_paths(contract, "hubspot/search_contacts")) == {"$.data.total"}
    assert contract["actions"]["hubspot/get_contact"]["parameters"]["always_sent"] == ["limit"]
    assert read_paths(contract, "slack/list_channels") == {}  # a snapshot reads nothing
    opaque = contract["actions"]["hubspot/get_contact_by_id"]["replies"]["Success"]
    assert "not observable" in json.dumps(opaque) or opaque.get("opaque")


def test_contracts_from_xdist_workers_merge_into_the_same_file(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(test_downstream=DOWNSTREAM)
    one = pytester.runpytest_subprocess(
        "--refold-consumer-contract", "one.json", "--snapshot-update"
    )
    one.assert_outcomes(passed=4)
    two = pytester.runpytest_subprocess(
        "--refold-consumer-contract", "two.json", "-n", "2", "--snapshot-update"
    )
    two.assert_outcomes(passed=4)
    assert (pytester.path / "one.json").read_text() == (pytester.path / "two.json").read_text()


def test_tracking_is_off_unless_asked_for(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(
        """
        import httpx
        from refold_contract import client

        def test_plain(refold_client, refold_mock):
            assert httpx.Response.json.__module__ == "httpx._models"
            assert client._consumer is None
            data = refold_client.execute("hubspot", "get_contact").data
            assert type(data) is dict
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


@pytest.fixture
def contract(pytester: pytest.Pytester) -> Path:
    pytester.makeini(INI)
    pytester.makepyfile(test_downstream=DOWNSTREAM)
    pytester.runpytest_subprocess(
        "--refold-consumer-contract", "contract.json", "--snapshot-update"
    ).assert_outcomes(passed=4)
    return pytester.path / "contract.json"


def verify(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "refold_contract.cli", "verify", str(path), *args],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_verify_against_the_catalogue_passes_then_fails_naming_the_path(
    contract: Path, tmp_path: Path
) -> None:
    ok = verify(contract)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "0 breaking" in ok.stdout
    # A catalogue folder whose get_contact reply no longer carries properties.email.
    from refold_contract import Catalogue

    action = Catalogue.builtin().get("hubspot", "get_contact")
    document = {
        "slug": "hubspot", "action_id": "get_contact", "name": action.name,
        "parameters": action.schema(),
        "examples": [{"params": {"limit": "10"}, "source": "test", "response": {
            "node_status": "Success",
            "data": {"results": [{"id": "1", "properties": {"firstname": "Ada"}}], "paging": {}},
        }}],
    }  # fmt: skip
    (tmp_path / "mine" / "hubspot").mkdir(parents=True)
    (tmp_path / "mine" / "hubspot" / "get_contact.json").write_text(json.dumps(document))
    broken = verify(contract, "--fixtures", str(tmp_path / "mine"))
    assert broken.returncode == 1
    assert "$.data.results[*].properties.email" in broken.stdout
    report = json.loads(verify(contract, "--fixtures", str(tmp_path / "mine"), "--json").stdout)
    assert report["breaking"] >= 1


@pytest.fixture
def standin(monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningServer]:
    with running_server(RefoldMock(api_keys={FAKE_KEY}, assert_all_called=False)) as server:
        monkeypatch.setenv("REFOLD_API_KEY", FAKE_KEY)
        monkeypatch.setenv("REFOLD_LINKED_ACCOUNT_ID", "acct_1")
        monkeypatch.setenv("REFOLD_BASE_URL", server.url)
        yield server


def contacts(email: bool) -> dict[str, object]:
    properties = {"firstname": "Ada", **({"email": "ada@example.com"} if email else {})}
    return {"results": [{"id": "1", "properties": properties}], "paging": {}}


def test_verify_live_passes_when_an_unread_field_goes_and_fails_when_a_read_one_does(
    contract: Path, standin: RunningServer
) -> None:
    standin.mock.stub("hubspot", "get_contact", data=contacts(email=True) | {"extra": 1})
    standin.mock.stub("hubspot", "search_contacts", data={"total": 1, "results": []})
    unread_gone = verify(contract, "--live")
    assert unread_gone.returncode == 0, unread_gone.stdout + unread_gone.stderr
    standin.mock.stub("hubspot", "get_contact", data=contacts(email=False))
    read_gone = verify(contract, "--live")
    assert read_gone.returncode == 1
    assert "$.data.results[*].properties.email" in read_gone.stdout
    calls = standin.mock.calls
    assert calls
    assert {c.action_id for c in calls} <= {"get_contact", "search_contacts", "get_contact_by_id",
                                            "list_channels"}  # fmt: skip
    assert FAKE_KEY not in read_gone.stdout + read_gone.stderr


def test_live_drift_can_be_only_what_breaks_the_contract(
    contract: Path, pytester: pytest.Pytester, standin: RunningServer
) -> None:
    pytester.makepyfile(
        test_live="""
import pytest

@pytest.mark.refold_live
def test_read(refold_client):
    refold_client.execute("hubspot", "get_contact", {"limit": "10"})
"""
    )
    standin.mock.stub("hubspot", "get_contact", data=contacts(email=True) | {"brand_new": 1})
    quiet = pytester.runpytest_subprocess(
        "--refold-live", f"--refold-drift=contract:{contract}", "test_live.py"
    )
    quiet.assert_outcomes(passed=1)
    assert quiet.ret == 0
    assert "brand_new" not in quiet.stdout.str()  # drift, but not drift the code cares about
    standin.mock.reset()
    standin.mock.stub("hubspot", "get_contact", data=contacts(email=False))
    loud = pytester.runpytest_subprocess(
        "--refold-live", f"--refold-drift=contract:{contract}", "test_live.py"
    )
    loud.assert_outcomes(passed=1)
    assert loud.ret == pytest.ExitCode.TESTS_FAILED
    loud.stdout.fnmatch_lines(
        ["*drift that breaks the consumer contract*", "*$.data.results[[]*[]].properties.email*"]
    )


def test_contract_merge_command_unions_reads_and_intersects_always_sent(tmp_path: Path) -> None:
    from refold_contract.consumer import ReadRecorder

    paths = []
    for i, params in enumerate(({"limit": "1", "after": "x"}, {"limit": "2"})):
        recorder = ReadRecorder()
        recorder.record_call("hubspot", "get_contact", params)
        body = recorder.track_reply("hubspot", "get_contact", {
            "node_status": "Success", "data": {"results": [], "paging": {"next": {"after": "y"}}}
        })  # fmt: skip
        _ = body["data"]["results"] if i == 0 else body["data"]["paging"]["next"]["after"]
        path = tmp_path / f"c{i}.json"
        recorder.contract().save(path)
        paths.append(str(path))
    done = subprocess.run(
        [sys.executable, "-m", "refold_contract.cli", "contract", "merge", *paths, "-o",
         str(tmp_path / "merged.json")], capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "wrote" in done.stdout
    merged = json.loads((tmp_path / "merged.json").read_text())
    entry = merged["actions"]["hubspot/get_contact"]
    assert entry["parameters"]["always_sent"] == ["limit"]
    assert entry["parameters"]["sent"] == ["after", "limit"]
    assert set(read_paths(merged, "hubspot/get_contact")) >= {
        "$.data.results",
        "$.data.paging.next.after",
    }
