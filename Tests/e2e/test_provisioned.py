"""Provisioned concurrency (TestLambdaProvisionedConcurrency and TestLambdaConcurrency's provisioned tests in the
recorded AWS data), through boto3: the API and its errors, and environments started before the first invoke."""

import json
import time

from helpers import expect_client_error, function_arn, log_tail, not_found_message, payload_json, py_zip, unique

HANDLER = """
import os

def handler(event, context):
    return {"init": os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE"), "version": context.function_version}
"""

UNPUBLISHED = "Provisioned Concurrency Configs cannot be applied to unpublished function versions."
NOT_ALIAS_OR_VERSION = "The function resource provided must be an alias or a published version."
NO_CONFIG = "No Provisioned Concurrency Config found for this function"


def published(lam, functions):
    name = unique("prov")
    functions.create(py_zip(HANDLER), name=name)
    assert lam.publish_version(FunctionName=name)["Version"] == "1"
    return name


def wait_ready(lam, name, qualifier, limit=30.0):
    deadline = time.monotonic() + limit
    while True:
        config = lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier=qualifier)
        if config["Status"] != "IN_PROGRESS" or time.monotonic() > deadline:
            return config
        time.sleep(0.1)


def test_provisioned_lifecycle_and_warm_first_invoke(lam, functions):
    name = published(lam, functions)
    put = lam.put_provisioned_concurrency_config(
        FunctionName=name, Qualifier="1", ProvisionedConcurrentExecutions=2)
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert put["Status"] == "IN_PROGRESS"
    assert put["RequestedProvisionedConcurrentExecutions"] == 2
    assert put["AllocatedProvisionedConcurrentExecutions"] == 0
    ready = wait_ready(lam, name, "1")
    assert ready["Status"] == "READY", ready
    assert ready["AllocatedProvisionedConcurrentExecutions"] == 2
    assert ready["AvailableProvisionedConcurrentExecutions"] == 2

    # Started before the first invoke: no Init Duration, and the environment says so.
    response = lam.invoke(FunctionName=name, Qualifier="1", LogType="Tail")
    assert payload_json(response) == {"init": "provisioned-concurrency", "version": "1"}
    tail = log_tail(response)
    assert "REPORT RequestId" in tail and "Init Duration" not in tail, tail
    # $LATEST stays on demand.
    latest = lam.invoke(FunctionName=name, LogType="Tail")
    assert payload_json(latest)["init"] == "on-demand"

    listed = lam.list_provisioned_concurrency_configs(FunctionName=name)["ProvisionedConcurrencyConfigs"]
    assert [c["FunctionArn"] for c in listed] == [function_arn(name, "1")]
    assert listed[0]["Status"] == "READY"

    deleted = lam.delete_provisioned_concurrency_config(FunctionName=name, Qualifier="1")
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    expect_client_error(
        lambda: lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier="1"),
        "ProvisionedConcurrencyConfigNotFoundException", 404, NO_CONFIG)
    assert lam.list_provisioned_concurrency_configs(FunctionName=name)["ProvisionedConcurrencyConfigs"] == []


def test_provisioned_exceptions(lam, lam_unvalidated, functions):
    name = published(lam, functions)
    expect_client_error(
        lambda: lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier="1"),
        "ProvisionedConcurrencyConfigNotFoundException", 404, NO_CONFIG)
    expect_client_error(
        lambda: lam.get_provisioned_concurrency_config(FunctionName="doesnotexist", Qualifier="noalias"),
        "ResourceNotFoundException", 404, f"Cannot find alias arn: {function_arn('doesnotexist', 'noalias')}")
    expect_client_error(
        lambda: lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier="10"),
        "ResourceNotFoundException", 404, not_found_message(name, "10"))
    expect_client_error(
        lambda: lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier="$LATEST"),
        "InvalidParameterValueException", 400, NOT_ALIAS_OR_VERSION)
    expect_client_error(
        lambda: lam.list_provisioned_concurrency_configs(FunctionName="doesnotexist"),
        "ResourceNotFoundException", 404, not_found_message("doesnotexist"))
    expect_client_error(
        lambda: lam.delete_provisioned_concurrency_config(FunctionName="doesnotexist", Qualifier="1"),
        "ResourceNotFoundException", 404, not_found_message("doesnotexist", "1"))
    expect_client_error(
        lambda: lam.delete_provisioned_concurrency_config(FunctionName=name, Qualifier="$LATEST"),
        "InvalidParameterValueException", 400, NOT_ALIAS_OR_VERSION)
    assert lam.delete_provisioned_concurrency_config(FunctionName=name, Qualifier="1")[
        "ResponseMetadata"]["HTTPStatusCode"] == 204
    expect_client_error(
        lambda: lam_unvalidated.put_provisioned_concurrency_config(
            FunctionName=name, Qualifier="1", ProvisionedConcurrentExecutions=0),
        "ValidationException", 400,
        "1 validation error detected: Value '0' at 'provisionedConcurrentExecutions' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1")
    expect_client_error(
        lambda: lam.put_provisioned_concurrency_config(
            FunctionName=name, Qualifier="$LATEST", ProvisionedConcurrentExecutions=1),
        "InvalidParameterValueException", 400, UNPUBLISHED)
    expect_client_error(
        lambda: lam.put_provisioned_concurrency_config(
            FunctionName=name, Qualifier="doesnotexist", ProvisionedConcurrentExecutions=1),
        "ResourceNotFoundException", 404, f"Cannot find alias arn: {function_arn(name, 'doesnotexist')}")
    expect_client_error(
        lambda: lam.put_provisioned_concurrency_config(
            FunctionName="doesnotexist", Qualifier="1", ProvisionedConcurrentExecutions=1),
        "ResourceNotFoundException", 404, not_found_message("doesnotexist", "1"))


def test_provisioned_alias_conflicts_and_alias_delete(lam, functions):
    name = published(lam, functions)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="1", ProvisionedConcurrentExecutions=1)
    expect_client_error(
        lambda: lam.put_provisioned_concurrency_config(
            FunctionName=name, Qualifier="live", ProvisionedConcurrentExecutions=1),
        "ResourceConflictException", 409,
        "Alias can't be used for Provisioned Concurrency configuration on an already Provisioned version")
    lam.delete_provisioned_concurrency_config(FunctionName=name, Qualifier="1")
    lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="live", ProvisionedConcurrentExecutions=1)
    expect_client_error(
        lambda: lam.put_provisioned_concurrency_config(
            FunctionName=name, Qualifier="1", ProvisionedConcurrentExecutions=1),
        "ResourceConflictException", 409, "Version is pointed by a Provisioned Concurrency alias")
    assert wait_ready(lam, name, "live")["Status"] == "READY"
    response = lam.invoke(FunctionName=name, Qualifier="live", LogType="Tail")
    assert payload_json(response)["init"] == "provisioned-concurrency"
    assert "Init Duration" not in log_tail(response)
    lam.delete_alias(FunctionName=name, Name="live")
    expect_client_error(
        lambda: lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier="live"),
        "ResourceNotFoundException", 404, f"Cannot find alias arn: {function_arn(name, 'live')}")
    assert lam.list_provisioned_concurrency_configs(FunctionName=name)["ProvisionedConcurrencyConfigs"] == []


def test_reserved_and_provisioned_interplay(lam, functions):
    name = published(lam, functions)
    lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="1", ProvisionedConcurrentExecutions=2)
    expect_client_error(
        lambda: lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1),
        "InvalidParameterValueException", 400,
        " ReservedConcurrentExecutions  1 should not be lower than function's total provisioned concurrency [2].")
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=2)
    expect_client_error(
        lambda: lam.put_provisioned_concurrency_config(
            FunctionName=name, Qualifier="1", ProvisionedConcurrentExecutions=3),
        "InvalidParameterValueException", 400,
        "Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function")
    lam.delete_function_concurrency(FunctionName=name)
    unreserved = lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"]
    expect_client_error(
        lambda: lam.put_provisioned_concurrency_config(
            FunctionName=name, Qualifier="1", ProvisionedConcurrentExecutions=unreserved + 1),
        "InvalidParameterValueException", 400,
        f"Specified ConcurrentExecutions for function is greater than account's unreserved concurrency [{unreserved}].")


def test_provisioned_init_failure_is_failed(lam, functions):
    name = unique("provfail")
    functions.create(py_zip("raise RuntimeError('boom')\n"), name=name)
    lam.publish_version(FunctionName=name)
    lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="1", ProvisionedConcurrentExecutions=1)
    config = wait_ready(lam, name, "1")
    assert config["Status"] == "FAILED"
    assert config["StatusReason"] == "FUNCTION_ERROR_INIT_FAILURE"
    assert config["AllocatedProvisionedConcurrentExecutions"] == 0
