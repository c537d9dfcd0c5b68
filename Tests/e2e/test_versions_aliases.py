"""Published versions and aliases (TestLambdaVersions, TestLambdaAlias, TestLambdaRevisions and the versions/aliases
invoke tests in the recorded AWS data), through boto3 and the AWS CLI."""

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from helpers import (
    LAST_MODIFIED_RE,
    PY,
    REVISION_MISMATCH,
    UUID_RE,
    expect_client_error,
    function_arn,
    header,
    log_tail,
    not_found_message,
    payload_json,
    py_zip,
    sha256_b64,
    unique,
)

HANDLER = """
import os

def handler(event, context):
    return {"code": CODE, "stage": os.environ.get("STAGE"), "version": context.function_version,
            "arn": context.invoked_function_arn, "envVersion": os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")}
"""


def code(tag):
    return py_zip(HANDLER.replace("CODE", repr(tag)))


def versions_of(lam, name, **kwargs):
    return [v["Version"] for v in lam.list_versions_by_function(FunctionName=name, **kwargs)["Versions"]]


def published(lam, functions, stages=("one", "two"), **kwargs):
    """A function with one published version per stage (STAGE=<stage>); $LATEST keeps the last stage."""
    name = unique("ver")
    functions.create(code("a"), name=name, Environment={"Variables": {"STAGE": stages[0]}}, **kwargs)
    for i, stage in enumerate(stages):
        if i > 0:
            lam.update_function_configuration(FunctionName=name, Environment={"Variables": {"STAGE": stage}})
        assert lam.publish_version(FunctionName=name)["Version"] == str(i + 1)
    return name


# ------------------------------------------------------------------------------------------
# Versions
# ------------------------------------------------------------------------------------------


def test_version_lifecycle(lam, functions):
    name = unique("ver")
    functions.create(code("a"), name=name, Description="No version :(")
    only_latest = lam.list_versions_by_function(FunctionName=name)["Versions"]
    assert [v["Version"] for v in only_latest] == ["$LATEST"]
    assert only_latest[0]["FunctionArn"] == function_arn(name, "$LATEST")
    assert "State" not in only_latest[0] and "RuntimeVersionConfig" not in only_latest[0]

    lam.update_function_configuration(FunctionName=name, Description="First version :)")
    before = lam.get_function(FunctionName=name)["Configuration"]["RevisionId"]
    first = lam.publish_version(FunctionName=name, Description="First version description :)")
    assert first["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert first["Version"] == "1"
    assert first["FunctionArn"] == function_arn(name, "1")
    assert first["Description"] == "First version description :)"
    assert (first["State"], first["LastUpdateStatus"]) == ("Active", "Successful")
    assert UUID_RE.match(first["RevisionId"]) and LAST_MODIFIED_RE.match(first["LastModified"])
    # Publishing gives $LATEST a new RevisionId (recorded: test_function_revisions_version_and_alias).
    after = lam.get_function(FunctionName=name)["Configuration"]["RevisionId"]
    assert after != before and after != first["RevisionId"]

    got = lam.get_function(FunctionName=name, Qualifier="1")["Configuration"]
    assert got["FunctionArn"] == function_arn(name, "1")
    assert (got["Version"], got["RevisionId"], got["Description"]) == ("1", first["RevisionId"], first["Description"])
    config = lam.get_function_configuration(FunctionName=name, Qualifier="1")
    assert config["RevisionId"] == first["RevisionId"]

    lam.update_function_configuration(FunctionName=name, Description="Second version :))")
    # The published version does not change with $LATEST.
    assert lam.get_function(FunctionName=name, Qualifier="1")["Configuration"]["Description"] == first["Description"]

    second = lam.publish_version(FunctionName=name)
    assert (second["Version"], second["Description"]) == ("2", "Second version :))")
    # Nothing changed since version 2: publishing returns it (even with another description).
    third = lam.publish_version(FunctionName=name, Description="Third version description :)))")
    assert third["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert (third["Version"], third["RevisionId"], third["Description"]) == ("2", second["RevisionId"], "Second version :))")
    listed = lam.list_versions_by_function(FunctionName=name)["Versions"]
    assert [v["Version"] for v in listed] == ["$LATEST", "1", "2"]
    assert [v["FunctionArn"] for v in listed] == [function_arn(name, q) for q in ("$LATEST", "1", "2")]

    deleted = lam.delete_function(FunctionName=f"{name}:1")
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert versions_of(lam, name) == ["$LATEST", "2"]
    # Numbers are never reused.
    lam.update_function_configuration(FunctionName=name, Description="Fourth")
    assert lam.publish_version(FunctionName=name)["Version"] == "3"


def test_publish_on_create(lam, functions):
    name = unique("ver")
    created = functions.create(code("a"), name=name, Publish=True)
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    # AWS reports Version 1 with the unqualified ARN (recorded: test_publish_version_on_create).
    assert (created["Version"], created["FunctionArn"], created["State"]) == ("1", function_arn(name), "Pending")
    latest = lam.get_function(FunctionName=name)["Configuration"]
    assert (latest["Version"], latest["FunctionArn"]) == ("$LATEST", function_arn(name))
    explicit = lam.get_function(FunctionName=name, Qualifier="$LATEST")["Configuration"]
    assert explicit["FunctionArn"] == function_arn(name, "$LATEST")
    v1 = lam.get_function(FunctionName=name, Qualifier="1")["Configuration"]
    assert (v1["Version"], v1["FunctionArn"]) == ("1", function_arn(name, "1"))
    assert versions_of(lam, name) == ["$LATEST", "1"]
    again = lam.publish_version(FunctionName=name, Description="Repeated version description :)")
    assert (again["Version"], again["RevisionId"], again["Description"]) == ("1", v1["RevisionId"], "")
    assert versions_of(lam, name) == ["$LATEST", "1"]


def test_update_code_with_publish(lam, functions):
    name = unique("ver")
    functions.create(code("a"), name=name)
    updated = lam.update_function_code(FunctionName=name, ZipFile=code("b"), Publish=True)
    assert (updated["Version"], updated["FunctionArn"]) == ("1", function_arn(name, "1"))
    assert updated["State"] == "Pending" and "LastUpdateStatus" not in updated
    assert updated["CodeSha256"] == sha256_b64(code("b"))
    assert payload_json(lam.invoke(FunctionName=name, Qualifier="1"))["code"] == "b"
    assert payload_json(lam.invoke(FunctionName=name))["code"] == "b"
    # DryRun never publishes.
    lam.update_function_code(FunctionName=name, ZipFile=code("c"), Publish=True, DryRun=True)
    assert versions_of(lam, name) == ["$LATEST", "1"]


def test_publish_preconditions(lam, functions):
    name = unique("ver")
    functions.create(code("a"), name=name)
    config = lam.get_function(FunctionName=name)["Configuration"]
    expect_client_error(
        lambda: lam.publish_version(FunctionName=name, RevisionId="wrong"),
        "PreconditionFailedException", 412, REVISION_MISMATCH,
        exc_class=lam.exceptions.PreconditionFailedException,
    )  # fmt: skip
    expect_client_error(
        lambda: lam.publish_version(FunctionName=name, CodeSha256="somenonexistentsha256"),
        "InvalidParameterValueException", 400,
        f"CodeSHA256 (somenonexistentsha256) is different from current CodeSHA256 in $LATEST "
        f"({config['CodeSha256']}). Please try again with the CodeSHA256 in $LATEST.",
    )  # fmt: skip
    published = lam.publish_version(FunctionName=name, CodeSha256=config["CodeSha256"], RevisionId=config["RevisionId"])
    assert published["Version"] == "1"
    expect_client_error(
        lambda: lam.publish_version(FunctionName=unique("missing")), "ResourceNotFoundException", 404
    )


def test_published_versions_are_unaffected_by_later_updates(lam, functions):
    name = unique("ver")
    functions.create(code("v1"), name=name, Environment={"Variables": {"STAGE": "one"}})
    lam.publish_version(FunctionName=name)
    lam.update_function_code(FunctionName=name, ZipFile=code("v2"))
    lam.update_function_configuration(FunctionName=name, Environment={"Variables": {"STAGE": "two"}}, MemorySize=256)

    r = lam.invoke(FunctionName=name, Qualifier="1", LogType="Tail")
    assert r["ExecutedVersion"] == "1"
    assert payload_json(r) == {
        "code": "v1", "stage": "one", "version": "1", "arn": function_arn(name, "1"), "envVersion": "1",
    }  # fmt: skip
    assert "START RequestId: " in log_tail(r) and " Version: 1" in log_tail(r)
    assert "Memory Size: 128 MB" in log_tail(r)
    by_arn = lam.invoke(FunctionName=function_arn(name, "1"))
    assert payload_json(by_arn)["code"] == "v1" and by_arn["ExecutedVersion"] == "1"

    latest = lam.invoke(FunctionName=name)
    assert latest["ExecutedVersion"] == "$LATEST"
    assert payload_json(latest) == {
        "code": "v2", "stage": "two", "version": "$LATEST", "arn": function_arn(name), "envVersion": "$LATEST",
    }  # fmt: skip
    v1 = lam.get_function_configuration(FunctionName=name, Qualifier="1")
    assert (v1["MemorySize"], v1["Environment"]["Variables"]) == (128, {"STAGE": "one"})
    assert v1["CodeSha256"] == sha256_b64(code("v1"))


def test_qualifier_errors(lam, functions):
    name = unique("ver")
    functions.create(code("a"), name=name)
    for call in (
        lambda: lam.get_function(FunctionName=name, Qualifier="1221"),
        lambda: lam.get_function_configuration(FunctionName=name, Qualifier="1221"),
        lambda: lam.invoke(FunctionName=name, Qualifier="1221"),
        lambda: lam.invoke(FunctionName=f"{name}:1221"),
    ):
        expect_client_error(call, "ResourceNotFoundException", 404, not_found_message(name, "1221"))
    expect_client_error(
        lambda: lam.get_function(FunctionName=function_arn(name, "1"), Qualifier="$LATEST"),
        "InvalidParameterValueException", 400,
        "The derived qualifier from the function name does not match the specified qualifier.",
    )  # fmt: skip
    expect_client_error(
        lambda: lam.delete_function(FunctionName=name, Qualifier="$LATEST"),
        "InvalidParameterValueException", 400, "$LATEST version cannot be deleted without deleting the function.",
    )  # fmt: skip
    expect_client_error(
        lambda: lam.delete_function(FunctionName=name, Qualifier="live"),
        "InvalidParameterValueException", 400, "Deletion of aliases is not currently supported.",
    )  # fmt: skip
    # Deleting a version that does not exist is not an error (recorded: test_delete_on_nonexisting_version).
    for _ in range(2):
        assert lam.delete_function(FunctionName=name, Qualifier="1233")["ResponseMetadata"]["HTTPStatusCode"] == 204
    lam.delete_function(FunctionName=name)
    for call in (
        lambda: lam.delete_function(FunctionName=name),
        lambda: lam.delete_function(FunctionName=name, Qualifier="1233"),
    ):
        expect_client_error(call, "ResourceNotFoundException", 404, not_found_message(name))


def test_list_functions_with_all_versions(lam, functions):
    name = published(lam, functions)
    entries = []
    for page in lam.get_paginator("list_functions").paginate(FunctionVersion="ALL", PaginationConfig={"PageSize": 2}):
        entries += [f for f in page["Functions"] if f["FunctionName"] == name]
    assert [(f["Version"], f["FunctionArn"]) for f in entries] == [
        ("$LATEST", function_arn(name, "$LATEST")), ("1", function_arn(name, "1")), ("2", function_arn(name, "2")),
    ]  # fmt: skip
    assert all("State" not in f for f in entries)
    plain = [f for p in lam.get_paginator("list_functions").paginate() for f in p["Functions"] if f["FunctionName"] == name]
    assert [(f["Version"], f["FunctionArn"]) for f in plain] == [("$LATEST", function_arn(name))]


def test_list_versions_paginator(lam, functions):
    name = published(lam, functions, stages=("one", "two", "three"))
    pages = list(lam.get_paginator("list_versions_by_function").paginate(FunctionName=name, PaginationConfig={"PageSize": 1}))
    assert [v["Version"] for p in pages for v in p["Versions"]] == ["$LATEST", "1", "2", "3"]
    assert len(pages) == 4
    first = lam.list_versions_by_function(FunctionName=name, MaxItems=3)
    assert [v["Version"] for v in first["Versions"]] == ["$LATEST", "1", "2"]
    rest = lam.list_versions_by_function(FunctionName=name, Marker=first["NextMarker"])
    assert [v["Version"] for v in rest["Versions"]] == ["3"] and "NextMarker" not in rest
    stages = [v["Environment"]["Variables"]["STAGE"] for p in pages for v in p["Versions"]]
    assert stages == ["three", "one", "two", "three"]


def test_deleting_a_function_deletes_its_versions_and_aliases(lam, functions):
    name = published(lam, functions)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    lam.delete_function(FunctionName=name)
    expect_client_error(
        lambda: lam.get_function(FunctionName=name, Qualifier="1"), "ResourceNotFoundException", 404,
        not_found_message(name, "1"),
    )  # fmt: skip
    functions.create(code("b"), name=name)
    assert versions_of(lam, name) == ["$LATEST"]
    assert lam.list_aliases(FunctionName=name)["Aliases"] == []
    assert lam.publish_version(FunctionName=name)["Version"] == "1"
    assert payload_json(lam.invoke(FunctionName=name, Qualifier="1"))["code"] == "b"


# ------------------------------------------------------------------------------------------
# Aliases
# ------------------------------------------------------------------------------------------


def test_alias_lifecycle(lam, functions):
    name = published(lam, functions, stages=("staging", "prod"))
    created = lam.create_alias(
        FunctionName=name, Name="aliasname1_1", FunctionVersion="1", Description="custom-alias",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.2}},
    )  # fmt: skip
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    shape = {k: v for k, v in created.items() if k != "ResponseMetadata"}
    assert shape == {
        "AliasArn": function_arn(name, "aliasname1_1"), "Name": "aliasname1_1", "FunctionVersion": "1",
        "Description": "custom-alias", "RevisionId": created["RevisionId"],
        "RoutingConfig": {"AdditionalVersionWeights": {"2": 0.2}},
    }  # fmt: skip
    got = lam.get_alias(FunctionName=name, Name="aliasname1_1")
    assert {k: v for k, v in got.items() if k != "ResponseMetadata"} == shape

    via_alias = lam.get_function(FunctionName=name, Qualifier="aliasname1_1")["Configuration"]
    assert (via_alias["FunctionArn"], via_alias["Version"]) == (function_arn(name, "aliasname1_1"), "1")
    assert via_alias["Environment"]["Variables"] == {"STAGE": "staging"}
    by_arn = lam.get_function(FunctionName=function_arn(name, "aliasname1_1"))["Configuration"]
    assert by_arn["RevisionId"] == via_alias["RevisionId"]
    expect_client_error(
        lambda: lam.get_function(FunctionName=name, Qualifier="aliasdoesnotexist"),
        "ResourceNotFoundException", 404, not_found_message(name, "aliasdoesnotexist"),
    )  # fmt: skip

    plain = lam.create_alias(FunctionName=name, Name="aliasname1_2", FunctionVersion="1", Description="custom-alias")
    assert "RoutingConfig" not in plain
    no_description = lam.create_alias(FunctionName=name, Name="aliasname1_3", FunctionVersion="1")
    assert no_description["Description"] == ""
    lam.create_alias(FunctionName=name, Name="aliasname2", FunctionVersion="2", Description="custom-alias")

    paged = list(lam.get_paginator("list_aliases").paginate(FunctionName=name, PaginationConfig={"PageSize": 1}))
    assert len(paged) == 4
    assert [a["Name"] for p in paged for a in p["Aliases"]] == ["aliasname1_1", "aliasname1_2", "aliasname1_3", "aliasname2"]
    assert [a["Name"] for a in lam.list_aliases(FunctionName=name, FunctionVersion="1")["Aliases"]] == [
        "aliasname1_1", "aliasname1_2", "aliasname1_3",
    ]  # fmt: skip

    # An empty AdditionalVersionWeights removes the routing; every update makes a new RevisionId.
    updated = lam.update_alias(FunctionName=name, Name="aliasname1_1", RoutingConfig={"AdditionalVersionWeights": {}})
    assert "RoutingConfig" not in updated and updated["RevisionId"] != created["RevisionId"]
    assert updated["Description"] == "custom-alias"
    unchanged = lam.update_alias(FunctionName=name, Name="aliasname1_2")
    assert unchanged["RevisionId"] != plain["RevisionId"]
    assert (unchanged["FunctionVersion"], unchanged["Description"]) == ("1", "custom-alias")
    expect_client_error(
        lambda: lam.update_alias(FunctionName=name, Name="aliasname1_2", RevisionId="wrong"),
        "PreconditionFailedException", 412, REVISION_MISMATCH,
    )  # fmt: skip
    moved = lam.update_alias(
        FunctionName=name, Name="aliasname1_2", FunctionVersion="2", Description="moved", RevisionId=unchanged["RevisionId"]
    )  # fmt: skip
    assert (moved["FunctionVersion"], moved["Description"]) == ("2", "moved")

    assert lam.delete_alias(FunctionName=name, Name="aliasname1_1")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert [a["Name"] for a in lam.list_aliases(FunctionName=name)["Aliases"]] == ["aliasname1_2", "aliasname1_3", "aliasname2"]
    # Deleting an alias that does not exist succeeds (recorded: test_non_existent_alias_deletion).
    assert lam.delete_alias(FunctionName=name, Name="non-existent")["ResponseMetadata"]["HTTPStatusCode"] == 204
    expect_client_error(
        lambda: lam.get_alias(FunctionName=name, Name="non-existent"), "ResourceNotFoundException", 404,
        f"Cannot find alias arn: {function_arn(name, 'non-existent')}",
    )  # fmt: skip
    expect_client_error(
        lambda: lam.update_alias(FunctionName=name, Name="non-existent"), "ResourceNotFoundException", 404,
        f"Alias not found: {function_arn(name, 'non-existent')}",
    )  # fmt: skip
    expect_client_error(
        lambda: lam.create_alias(FunctionName=name, Name="aliasname2", FunctionVersion="1"),
        "ResourceConflictException", 409, f"Alias already exists: {function_arn(name, 'aliasname2')}",
    )  # fmt: skip


def test_alias_revisions_leave_the_function_alone(lam, functions):
    name = published(lam, functions, stages=("one",))
    latest = lam.get_function(FunctionName=name)["Configuration"]["RevisionId"]
    version = lam.get_function(FunctionName=name, Qualifier="1")["Configuration"]["RevisionId"]
    alias = lam.create_alias(FunctionName=name, Name="revision_alias", FunctionVersion="1")
    assert alias["RevisionId"] not in (latest, version)
    assert lam.get_function(FunctionName=name)["Configuration"]["RevisionId"] == latest
    assert lam.get_function(FunctionName=name, Qualifier="1")["Configuration"]["RevisionId"] == version


def test_alias_routing_validation(lam_unvalidated, functions, lam):
    client = lam_unvalidated
    name = published(lam, functions)

    def create(**kwargs):
        params = dict(FunctionName=name, Name="custom", FunctionVersion="1")
        params.update(kwargs)
        return lambda: client.create_alias(**params)

    def weights(w):
        return {"RoutingConfig": {"AdditionalVersionWeights": w}}

    expect_client_error(
        create(**weights({"1": 0.8, "2": 0.2})), "InvalidParameterValueException", 400,
        "Number of items in AdditionalVersionWeights cannot be greater than 1",
    )  # fmt: skip
    bound = (
        "failed to satisfy constraint: Map value must satisfy constraint: [Member must have value less than or "
        "equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]"
    )
    expect_client_error(
        create(**weights({"2": 2})), "ValidationException", 400,
        f"1 validation error detected: Value '{{2=2.0}}' at 'routingConfig.additionalVersionWeights' {bound}",
    )  # fmt: skip
    expect_client_error(
        create(**weights({"2": -1})), "ValidationException", 400,
        f"1 validation error detected: Value '{{2=-1.0}}' at 'routingConfig.additionalVersionWeights' {bound}",
    )  # fmt: skip
    expect_client_error(
        create(**weights({"1": 0.5})), "InvalidParameterValueException", 400,
        "Invalid function version 1. Function version 1 is already included in routing configuration.",
    )  # fmt: skip
    expect_client_error(
        create(FunctionVersion="10", **weights({"2": 0.5})), "ResourceNotFoundException", 404,
        not_found_message(name, "10"),
    )  # fmt: skip
    expect_client_error(
        create(**weights({"10": 0.5})), "ResourceNotFoundException", 404, not_found_message(name, "10")
    )
    expect_client_error(
        create(FunctionVersion="$LATEST", **weights({"1": 0.5})), "InvalidParameterValueException", 400,
        "$LATEST is not supported for an alias pointing to more than 1 version",
    )  # fmt: skip
    expect_client_error(
        create(**weights({"$LATEST": 0.5})), "ValidationException", 400,
        "1 validation error detected: Value '{$LATEST=0.5}' at 'routingConfig.additionalVersionWeights' failed to "
        "satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 1024, "
        "Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [0-9]+]",
    )  # fmt: skip
    latest_alias = client.create_alias(FunctionName=name, Name="custom-latest", FunctionVersion="$LATEST")
    assert latest_alias["FunctionVersion"] == "$LATEST"
    expect_client_error(
        lambda: client.create_alias(
            FunctionName=f"{name}-unknown", Name="custom", FunctionVersion="1", **weights({"2": 0.5})
        ),
        "ResourceNotFoundException", 404, not_found_message(f"{name}-unknown", "1"),
    )  # fmt: skip
    empty = client.create_alias(FunctionName=name, Name="custom-empty-routingconfig", FunctionVersion="1", **weights({}))
    assert "RoutingConfig" not in empty
    ok = client.create_alias(FunctionName=name, Name="custom", FunctionVersion="1", **weights({"2": 0.5}))
    assert ok["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.5}}
    # Moving the primary version onto the routed one is refused the same way.
    expect_client_error(
        lambda: client.update_alias(FunctionName=name, Name="custom", FunctionVersion="2"),
        "InvalidParameterValueException", 400,
        "Invalid function version 2. Function version 2 is already included in routing configuration.",
    )  # fmt: skip


def test_alias_names(lam, functions):
    name = published(lam, functions, stages=("one",))
    dated = lam.create_alias(FunctionName=name, Name="2024-01-02", FunctionVersion="1", Description="custom-alias")
    assert dated["AliasArn"] == function_arn(name, "2024-01-02")
    assert lam.get_alias(FunctionName=name, Name="2024-01-02")["Name"] == "2024-01-02"
    expect_client_error(
        lambda: lam.create_alias(FunctionName=name, Name="2024", FunctionVersion="1"),
        "ValidationException", 400,
        "1 validation error detected: Value '2024' at 'name' failed to satisfy constraint: Member must satisfy "
        "regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)",
    )  # fmt: skip
    long = "a" * 129
    expect_client_error(
        lambda: lam.create_alias(FunctionName=name, Name=long, FunctionVersion="1"),
        "ValidationException", 400,
        f"1 validation error detected: Value '{long}' at 'name' failed to satisfy constraint: Member must have "
        "length less than or equal to 128",
    )  # fmt: skip
    expect_client_error(
        lambda: lam.create_alias(FunctionName=name, Name="live", FunctionVersion="live"),
        "ValidationException", 400,
        "1 validation error detected: Value 'live' at 'functionVersion' failed to satisfy constraint: Member must "
        "satisfy regular expression pattern: (\\$LATEST|[0-9]+)",
    )  # fmt: skip


def test_version_used_by_an_alias_cannot_be_deleted(lam, functions):
    name = published(lam, functions, stages=("one", "two", "three"))
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    lam.create_alias(FunctionName=name, Name="canary", FunctionVersion="3", RoutingConfig={"AdditionalVersionWeights": {"2": 0.1}})
    for version, aliases in (("1", "live"), ("2", "canary")):
        expect_client_error(
            lambda: lam.delete_function(FunctionName=name, Qualifier=version), "ResourceConflictException", 409,
            f"Unable to delete version because the following aliases reference it: [{aliases}]",
        )  # fmt: skip
    lam.delete_alias(FunctionName=name, Name="live")
    lam.delete_function(FunctionName=name, Qualifier="1")
    assert versions_of(lam, name) == ["$LATEST", "2", "3"]


def test_invoking_an_alias(lam, functions):
    name = published(lam, functions)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    r = lam.invoke(FunctionName=name, Qualifier="live", LogType="Tail")
    assert r["ExecutedVersion"] == "1" and header(r, "X-Amz-Executed-Version") == "1"
    body = payload_json(r)
    # The runtime sees the alias ARN; the version that runs is the version, never the alias.
    assert body == {"code": "a", "stage": "one", "version": "1", "arn": function_arn(name, "live"), "envVersion": "1"}
    assert " Version: 1" in log_tail(r)
    by_arn = lam.invoke(FunctionName=function_arn(name, "live"))
    assert payload_json(by_arn)["arn"] == function_arn(name, "live")

    lam.update_alias(FunctionName=name, Name="live", FunctionVersion="2")
    moved = lam.invoke(FunctionName=f"{name}:live")
    assert moved["ExecutedVersion"] == "2" and payload_json(moved)["stage"] == "two"

    lam.create_alias(FunctionName=name, Name="tip", FunctionVersion="$LATEST")
    tip = lam.invoke(FunctionName=name, Qualifier="tip")
    assert tip["ExecutedVersion"] == "$LATEST" and payload_json(tip)["arn"] == function_arn(name, "tip")
    expect_client_error(
        lambda: lam.invoke(FunctionName=name, Qualifier="non-existent-alias"), "ResourceNotFoundException", 404,
        not_found_message(name, "non-existent-alias"),
    )  # fmt: skip


def test_weighted_routing_is_statistically_right(lam, functions):
    """200 invokes of an alias sending 30 % to version 2: its share lands in [0.2, 0.4] (the chance of a fair
    generator falling outside is below 1e-5), and the header always names the version that ran."""
    name = published(lam, functions)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1", RoutingConfig={"AdditionalVersionWeights": {"2": 0.3}})

    def once(_):
        r = lam.invoke(FunctionName=name, Qualifier="live")
        return r["ExecutedVersion"], payload_json(r)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(once, range(200)))
    for executed, body in results:
        assert body["version"] == executed and body["envVersion"] == executed
        assert body["stage"] == {"1": "one", "2": "two"}[executed]
        assert body["arn"] == function_arn(name, "live")
    share = sum(1 for executed, _ in results if executed == "2") / len(results)
    assert 0.2 <= share <= 0.4, f"version 2 ran {share:.0%} of the time, expected about 30 %"


def test_versions_and_aliases_with_the_aws_cli(aws, functions, tmp_path):
    name = unique("cli-ver")
    functions.track(name)
    zip_path = tmp_path / "a.zip"
    zip_path.write_bytes(code("cli"))
    aws("lambda", "create-function", "--function-name", name, "--runtime", PY, "--role",
        "arn:aws:iam::000000000000:role/lambda-role", "--handler", "app.handler", "--zip-file", f"fileb://{zip_path}",
        "--environment", json.dumps({"Variables": {"STAGE": "one"}}))  # fmt: skip
    v1 = json.loads(aws("lambda", "publish-version", "--function-name", name, "--description", "first").stdout)
    assert (v1["Version"], v1["Description"], v1["FunctionArn"]) == ("1", "first", function_arn(name, "1"))
    aws("lambda", "update-function-configuration", "--function-name", name,
        "--environment", json.dumps({"Variables": {"STAGE": "two"}}))  # fmt: skip
    aws("lambda", "publish-version", "--function-name", name)
    listed = json.loads(aws("lambda", "list-versions-by-function", "--function-name", name).stdout)
    assert [v["Version"] for v in listed["Versions"]] == ["$LATEST", "1", "2"]

    alias = json.loads(
        aws("lambda", "create-alias", "--function-name", name, "--name", "live", "--function-version", "1",
            "--routing-config", json.dumps({"AdditionalVersionWeights": {"2": 0.5}})).stdout
    )  # fmt: skip
    assert alias["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.5}}
    got = json.loads(aws("lambda", "get-alias", "--function-name", name, "--name", "live").stdout)
    assert got["RevisionId"] == alias["RevisionId"]
    updated = json.loads(
        aws("lambda", "update-alias", "--function-name", name, "--name", "live", "--function-version", "2",
            "--routing-config", json.dumps({"AdditionalVersionWeights": {}})).stdout
    )  # fmt: skip
    assert updated["FunctionVersion"] == "2" and "RoutingConfig" not in updated
    aliases = json.loads(aws("lambda", "list-aliases", "--function-name", name).stdout)["Aliases"]
    assert [a["Name"] for a in aliases] == ["live"]

    out = tmp_path / "out.json"
    result = json.loads(aws("lambda", "invoke", "--function-name", name, "--qualifier", "live", str(out)).stdout)
    assert result["ExecutedVersion"] == "2"
    assert json.loads(out.read_text())["stage"] == "two"
    result = json.loads(aws("lambda", "invoke", "--function-name", f"{name}:1", str(out)).stdout)
    assert result["ExecutedVersion"] == "1" and json.loads(out.read_text())["stage"] == "one"

    conflict = aws("lambda", "delete-function", "--function-name", name, "--qualifier", "2", check=False)
    assert conflict.returncode != 0 and "ResourceConflictException" in conflict.stderr
    aws("lambda", "delete-alias", "--function-name", name, "--name", "live")
    aws("lambda", "delete-function", "--function-name", name, "--qualifier", "2")
    listed = json.loads(aws("lambda", "list-versions-by-function", "--function-name", name).stdout)
    assert [v["Version"] for v in listed["Versions"]] == ["$LATEST", "1"]
    missing = aws("lambda", "get-alias", "--function-name", name, "--name", "live", check=False)
    assert missing.returncode != 0 and "Cannot find alias arn" in missing.stderr
