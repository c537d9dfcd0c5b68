"""Amazon S3 end to end (issue #14): unmodified boto3 and the AWS CLI v2 against the session's server.

What is asserted is what S3 does (botocore's s3 model and AWS's S3 API reference): status codes and error codes as
boto3 reports them, ETags and checksums computed here independently from their definitions (MD5, MD5 of part MD5s
plus `-N`, CRC32, CRC32C, SHA-256), listing semantics (UTF-8 byte order, delimiters, continuation), conditional and
ranged reads, multipart uploads, presigned URLs used with plain HTTP, and path-style and virtual-host addressing.
"""

import datetime
import hashlib
import json
import os
import re
import socket
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

import helpers
from helpers import REGION
from s3_helpers import (
    MiB, S3_NS, Buckets, aws_chunked, bucket_name, composite_crc32, crc32_b64, crc32c_b64, error_of, etag_of,
    expect_s3_error, md5_b64, multipart_etag, port_of, raw_s3, read_response, remove_bucket, s3_client, sha256_b64,
    signed_headers,
)

pytestmark = pytest.mark.usefixtures("server_ok")

UTC = datetime.timezone.utc
ISO_MS_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
NO_SUCH_BUCKET = "The specified bucket does not exist"
NO_SUCH_KEY = "The specified key does not exist."


@pytest.fixture(scope="module")
def s3(endpoint):
    return s3_client(endpoint)


@pytest.fixture
def buckets(s3):
    registry = Buckets(s3)
    yield registry
    registry.cleanup()


@pytest.fixture
def bucket(buckets):
    return buckets()


def headers_of(response):
    return response["ResponseMetadata"]["HTTPHeaders"]


def status_of(response):
    return response["ResponseMetadata"]["HTTPStatusCode"]


def recent(when, seconds=300):
    return abs((datetime.datetime.now(UTC) - when).total_seconds()) < seconds


def all_keys(s3, bucket, **kwargs):
    """Every key of a listing, following continuation tokens (bounded)."""
    keys, token = [], None
    for _ in range(1000):
        params = dict(Bucket=bucket, **kwargs)
        if token:
            params["ContinuationToken"] = token
        page = s3.list_objects_v2(**params)
        keys += [o["Key"] for o in page.get("Contents", [])]
        if not page["IsTruncated"]:
            return keys
        token = page["NextContinuationToken"]
    raise AssertionError("more than 1000 pages")


# ------------------------------------------------------------------------------------------
# Buckets
# ------------------------------------------------------------------------------------------


def test_bucket_lifecycle(s3, buckets):
    name = bucket_name("life")
    created = s3.create_bucket(Bucket=name)
    buckets.track(name)
    assert status_of(created) == 200
    assert created["Location"] == f"/{name}"
    assert headers_of(created).get("x-amz-request-id"), headers_of(created)

    head = s3.head_bucket(Bucket=name)
    assert status_of(head) == 200
    assert headers_of(head).get("x-amz-bucket-region") == REGION
    assert s3.get_bucket_location(Bucket=name).get("LocationConstraint") is None  # us-east-1 is the null location

    listed = s3.list_buckets()
    mine = [b for b in listed["Buckets"] if b["Name"] == name]
    assert len(mine) == 1 and recent(mine[0]["CreationDate"]), listed["Buckets"]
    assert listed["Owner"].get("ID"), listed.get("Owner")
    names = [b["Name"] for b in listed["Buckets"]]
    assert names == sorted(names), "ListBuckets answers buckets in name order"

    # In us-east-1 re-creating a bucket you own answers 200 (S3's legacy behaviour, documented with
    # BucketAlreadyOwnedByYou); every other region answers 409 (test_bucket_in_another_region).
    assert status_of(s3.create_bucket(Bucket=name)) == 200

    s3.put_object(Bucket=name, Key="k", Body=b"x")
    expect_s3_error(lambda: s3.delete_bucket(Bucket=name), "BucketNotEmpty", 409,
                    "The bucket you tried to delete is not empty")
    s3.delete_object(Bucket=name, Key="k")
    assert status_of(s3.delete_bucket(Bucket=name)) == 204

    expect_s3_error(lambda: s3.head_bucket(Bucket=name), "404", 404)
    err = expect_s3_error(lambda: s3.delete_bucket(Bucket=name), "NoSuchBucket", 404, NO_SUCH_BUCKET)
    assert err["Error"].get("BucketName") == name, err["Error"]
    expect_s3_error(lambda: s3.get_bucket_location(Bucket=name), "NoSuchBucket", 404)
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_bucket_in_another_region(endpoint, buckets):
    eu = s3_client(endpoint, region="eu-west-1")
    name = bucket_name("eu")
    eu.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    buckets.track(name, client=eu)
    assert eu.get_bucket_location(Bucket=name)["LocationConstraint"] == "eu-west-1"
    assert headers_of(eu.head_bucket(Bucket=name)).get("x-amz-bucket-region") == "eu-west-1"
    err = expect_s3_error(
        lambda: eu.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}),
        "BucketAlreadyOwnedByYou", 409,
        "Your previous request to create the named bucket succeeded and you already own it.")
    assert err["Error"].get("BucketName") == name


@pytest.mark.parametrize("name", [
    "ab",                      # shorter than 3
    "x" * 64,                  # longer than 63
    "Upper-Case",              # upper case
    "under_score",             # underscore
    "-leading-dash",           # must begin with a letter or digit
    "trailing-dash-",          # must end with a letter or digit
    "two..periods",            # adjacent periods
    "192.168.5.4",             # formatted as an IP address
])
def test_invalid_bucket_names(s3, name):
    err = expect_s3_error(lambda: s3.create_bucket(Bucket=name), "InvalidBucketName", 400,
                          "The specified bucket is not valid.")
    assert err["Error"].get("BucketName") == name
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_bucket_tagging(s3, bucket):
    expect_s3_error(lambda: s3.get_bucket_tagging(Bucket=bucket), "NoSuchTagSet", 404, "The TagSet does not exist")
    tags = [{"Key": "team", "Value": "storage"}, {"Key": "env", "Value": "test value"}]
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tags})
    got = s3.get_bucket_tagging(Bucket=bucket)["TagSet"]
    assert sorted(got, key=lambda t: t["Key"]) == sorted(tags, key=lambda t: t["Key"])
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "only", "Value": "one"}]})
    assert s3.get_bucket_tagging(Bucket=bucket)["TagSet"] == [{"Key": "only", "Value": "one"}]
    assert status_of(s3.delete_bucket_tagging(Bucket=bucket)) == 204
    expect_s3_error(lambda: s3.get_bucket_tagging(Bucket=bucket), "NoSuchTagSet", 404)
    expect_s3_error(lambda: s3.get_bucket_tagging(Bucket=bucket_name("missing")), "NoSuchBucket", 404)


# ------------------------------------------------------------------------------------------
# Objects
# ------------------------------------------------------------------------------------------


def test_put_get_head_with_headers_and_metadata(s3, bucket):
    body = b"hello, object store\n" * 50
    put = s3.put_object(
        Bucket=bucket, Key="docs/readme.txt", Body=body, ContentType="text/plain; charset=utf-8",
        ContentEncoding="identity", ContentDisposition='attachment; filename="readme.txt"',
        ContentLanguage="en-GB", CacheControl="max-age=3600, public",
        Expires=datetime.datetime(2037, 1, 1, tzinfo=UTC), Metadata={"Color": "Blue", "x-y": "z"})
    assert status_of(put) == 200
    assert put["ETag"] == etag_of(body)
    assert headers_of(put).get("x-amz-request-id") and headers_of(put).get("x-amz-id-2"), headers_of(put)

    for read in (lambda: s3.get_object(Bucket=bucket, Key="docs/readme.txt"),
                 lambda: s3.head_object(Bucket=bucket, Key="docs/readme.txt")):
        got = read()
        assert got["ETag"] == etag_of(body)
        assert got["ContentLength"] == len(body)
        assert got["ContentType"] == "text/plain; charset=utf-8"
        assert got["ContentEncoding"] == "identity"
        assert got["ContentDisposition"] == 'attachment; filename="readme.txt"'
        assert got["ContentLanguage"] == "en-GB"
        assert got["CacheControl"] == "max-age=3600, public"
        assert headers_of(got).get("expires") == "Thu, 01 Jan 2037 00:00:00 GMT"
        # User metadata comes back with lower-case names (S3 stores x-amz-meta-* names in lower case).
        assert got["Metadata"] == {"color": "Blue", "x-y": "z"}
        assert got["AcceptRanges"] == "bytes"
        assert recent(got["LastModified"])
        if "Body" in got:
            assert got["Body"].read() == body

    # Without a Content-Type S3 stores binary/octet-stream.
    s3.put_object(Bucket=bucket, Key="untyped", Body=b"\x00\x01")
    assert s3.head_object(Bucket=bucket, Key="untyped")["ContentType"] == "binary/octet-stream"

    # An empty object.
    empty = s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    assert empty["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'
    got = s3.get_object(Bucket=bucket, Key="empty")
    assert got["ContentLength"] == 0 and got["Body"].read() == b""

    # Overwriting replaces bytes, headers and metadata.
    s3.put_object(Bucket=bucket, Key="docs/readme.txt", Body=b"v2", Metadata={"new": "1"})
    got = s3.get_object(Bucket=bucket, Key="docs/readme.txt")
    assert got["Body"].read() == b"v2" and got["Metadata"] == {"new": "1"} and got["ETag"] == etag_of(b"v2")
    assert "ContentDisposition" not in got and "CacheControl" not in got


def test_keys_are_arbitrary_utf8(s3, bucket):
    keys = [
        "plain.txt", "dir/sub/file.txt", "with space.txt", "ünïcødé/ключ/鍵.bin", "plus+sign", "percent%20literal",
        "question?mark", "hash#tag", "amp&er=sand;semi", "tilde~star*", "quote'and\"double", "trailing/",
        "emoji-😀", "  leading-spaces", "back\\slash", "<angle>", "a%2Fb",
    ]
    for i, key in enumerate(keys):
        s3.put_object(Bucket=bucket, Key=key, Body=f"body {i}".encode())
    for i, key in enumerate(keys):
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == f"body {i}".encode(), key
    # S3 lists keys in UTF-8 binary order.
    expected = sorted(keys, key=lambda k: k.encode("utf-8"))
    assert all_keys(s3, bucket) == expected
    assert all_keys(s3, bucket, MaxKeys=3) == expected


def test_listing_without_encoding_type_escapes_xml(s3, bucket, endpoint):
    """boto3 always asks for encoding-type=url; a plain ListObjectsV2 must escape keys as XML text."""
    key = "a&b<c>\"d'.txt"
    s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    response = raw_s3(endpoint, "GET", f"/{bucket}?list-type=2")
    assert response.status == 200, response
    root = ET.fromstring(response.body)
    assert root.tag == f"{S3_NS}ListBucketResult", root.tag
    assert [e.text for e in root.iter(f"{S3_NS}Key")] == [key]
    assert root.find(f"{S3_NS}Name").text == bucket
    assert root.find(f"{S3_NS}KeyCount").text == "1"


def test_range_requests(s3, bucket):
    body = bytes(range(100))
    s3.put_object(Bucket=bucket, Key="r", Body=body)
    cases = [("bytes=0-9", 0, 9), ("bytes=90-", 90, 99), ("bytes=-5", 95, 99), ("bytes=95-200", 95, 99),
             ("bytes=10-10", 10, 10)]
    for spec, first, last in cases:
        got = s3.get_object(Bucket=bucket, Key="r", Range=spec)
        assert status_of(got) == 206, spec
        assert got["ContentRange"] == f"bytes {first}-{last}/100", (spec, got["ContentRange"])
        assert got["ContentLength"] == last - first + 1, spec
        assert got["Body"].read() == body[first:last + 1], spec
        assert got["ETag"] == etag_of(body)
    for spec in ("bytes=100-", "bytes=100-200"):
        err = expect_s3_error(lambda: s3.get_object(Bucket=bucket, Key="r", Range=spec), "InvalidRange", 416,
                              "The requested range is not satisfiable")
        assert err["Error"].get("ActualObjectSize") == "100", err["Error"]
        assert err["Error"].get("RangeRequested") == spec, err["Error"]


def test_conditional_requests(s3, bucket):
    body = b"conditional"
    s3.put_object(Bucket=bucket, Key="c", Body=body)
    head = s3.head_object(Bucket=bucket, Key="c")
    etag, modified = head["ETag"], head["LastModified"]
    day = datetime.timedelta(days=1)

    # If-Match
    assert s3.get_object(Bucket=bucket, Key="c", IfMatch=etag)["Body"].read() == body
    assert s3.get_object(Bucket=bucket, Key="c", IfMatch="*")["Body"].read() == body
    err = expect_s3_error(lambda: s3.get_object(Bucket=bucket, Key="c", IfMatch='"0123456789abcdef0123456789abcdef"'),
                          "PreconditionFailed", 412, "At least one of the pre-conditions you specified did not hold")
    assert err["Error"].get("Condition") == "If-Match", err["Error"]
    expect_s3_error(lambda: s3.head_object(Bucket=bucket, Key="c", IfMatch='"nope"'), "412", 412)

    # If-None-Match
    expect_s3_error(lambda: s3.get_object(Bucket=bucket, Key="c", IfNoneMatch=etag), "304", 304)
    expect_s3_error(lambda: s3.head_object(Bucket=bucket, Key="c", IfNoneMatch=etag), "304", 304)
    assert s3.get_object(Bucket=bucket, Key="c", IfNoneMatch='"other"')["Body"].read() == body

    # If-Modified-Since / If-Unmodified-Since
    expect_s3_error(lambda: s3.get_object(Bucket=bucket, Key="c", IfModifiedSince=modified), "304", 304)
    assert s3.get_object(Bucket=bucket, Key="c", IfModifiedSince=modified - day)["Body"].read() == body
    err = expect_s3_error(lambda: s3.get_object(Bucket=bucket, Key="c", IfUnmodifiedSince=modified - day),
                          "PreconditionFailed", 412)
    assert err["Error"].get("Condition") == "If-Unmodified-Since", err["Error"]
    assert s3.get_object(Bucket=bucket, Key="c", IfUnmodifiedSince=modified + day)["Body"].read() == body

    # S3's documented precedence: If-Match true wins over If-Unmodified-Since false (200); If-None-Match false wins
    # over If-Modified-Since true (304).
    got = s3.get_object(Bucket=bucket, Key="c", IfMatch=etag, IfUnmodifiedSince=modified - day)
    assert got["Body"].read() == body
    expect_s3_error(lambda: s3.get_object(Bucket=bucket, Key="c", IfNoneMatch=etag, IfModifiedSince=modified - day),
                    "304", 304)


def test_response_header_overrides(s3, bucket):
    s3.put_object(Bucket=bucket, Key="o.bin", Body=b"a,b\n", ContentType="application/octet-stream")
    got = s3.get_object(
        Bucket=bucket, Key="o.bin", ResponseContentType="text/csv", ResponseContentLanguage="fr",
        ResponseContentDisposition='attachment; filename="data.csv"', ResponseCacheControl="no-cache",
        ResponseContentEncoding="identity", ResponseExpires=datetime.datetime(2036, 2, 3, 4, 5, 6, tzinfo=UTC))
    assert got["ContentType"] == "text/csv"
    assert got["ContentLanguage"] == "fr"
    assert got["ContentDisposition"] == 'attachment; filename="data.csv"'
    assert got["CacheControl"] == "no-cache"
    assert got["ContentEncoding"] == "identity"
    assert headers_of(got).get("expires") == "Sun, 03 Feb 2036 04:05:06 GMT"
    assert got["Body"].read() == b"a,b\n"
    # The stored object is unchanged.
    assert s3.head_object(Bucket=bucket, Key="o.bin")["ContentType"] == "application/octet-stream"


def test_delete_object_and_delete_objects(s3, bucket):
    for key in ("a", "b", "c", "d/e"):
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    assert status_of(s3.delete_object(Bucket=bucket, Key="a")) == 204
    expect_s3_error(lambda: s3.get_object(Bucket=bucket, Key="a"), "NoSuchKey", 404, NO_SUCH_KEY)
    # Deleting a key that does not exist succeeds (204), as on S3.
    assert status_of(s3.delete_object(Bucket=bucket, Key="never-existed")) == 204

    result = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "b"}, {"Key": "missing"}, {"Key": "d/e"}]})
    assert sorted(d["Key"] for d in result["Deleted"]) == ["b", "d/e", "missing"]
    assert not result.get("Errors")
    quiet = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "c"}], "Quiet": True})
    assert not quiet.get("Deleted") and not quiet.get("Errors"), quiet
    assert all_keys(s3, bucket) == []
    expect_s3_error(lambda: s3.delete_objects(Bucket=bucket_name("missing"), Delete={"Objects": [{"Key": "x"}]}),
                    "NoSuchBucket", 404)


def test_copy_object_metadata_directives(s3, buckets):
    src, dst = buckets("src"), buckets("dst")
    body = os.urandom(3000)
    s3.put_object(Bucket=src, Key="orig ü+.bin", Body=body, ContentType="image/png", CacheControl="no-store",
                  Metadata={"a": "1"}, Tagging="t=1")
    source = {"Bucket": src, "Key": "orig ü+.bin"}

    copied = s3.copy_object(Bucket=dst, Key="copy", CopySource=source)
    assert copied["CopyObjectResult"]["ETag"] == etag_of(body)
    assert recent(copied["CopyObjectResult"]["LastModified"])
    got = s3.get_object(Bucket=dst, Key="copy")
    assert got["Body"].read() == body
    assert (got["ContentType"], got["CacheControl"], got["Metadata"]) == ("image/png", "no-store", {"a": "1"})
    assert s3.get_object_tagging(Bucket=dst, Key="copy")["TagSet"] == [{"Key": "t", "Value": "1"}]

    s3.copy_object(Bucket=dst, Key="replaced", CopySource=source, MetadataDirective="REPLACE",
                   ContentType="text/plain", Metadata={"b": "2"}, TaggingDirective="REPLACE", Tagging="u=2")
    got = s3.head_object(Bucket=dst, Key="replaced")
    assert (got["ContentType"], got["Metadata"], got["ETag"]) == ("text/plain", {"b": "2"}, etag_of(body))
    assert "CacheControl" not in got
    assert s3.get_object_tagging(Bucket=dst, Key="replaced")["TagSet"] == [{"Key": "u", "Value": "2"}]

    # Copying an object onto itself needs a change (REPLACE); without one S3 refuses.
    expect_s3_error(
        lambda: s3.copy_object(Bucket=src, Key="orig ü+.bin", CopySource=source), "InvalidRequest", 400,
        "This copy request is illegal because it is trying to copy an object to itself without changing the "
        "object's metadata, storage class, website redirect location or encryption attributes.")
    s3.copy_object(Bucket=src, Key="orig ü+.bin", CopySource=source, MetadataDirective="REPLACE",
                   Metadata={"c": "3"}, ContentType="image/png")
    got = s3.get_object(Bucket=src, Key="orig ü+.bin")
    assert got["Metadata"] == {"c": "3"} and got["Body"].read() == body

    # Conditions on the source and missing sources.
    expect_s3_error(lambda: s3.copy_object(Bucket=dst, Key="x", CopySource=source,
                                           CopySourceIfMatch='"0123456789abcdef0123456789abcdef"'),
                    "PreconditionFailed", 412)
    s3.copy_object(Bucket=dst, Key="x", CopySource=source, CopySourceIfMatch=etag_of(body))
    expect_s3_error(lambda: s3.copy_object(Bucket=dst, Key="y", CopySource={"Bucket": src, "Key": "missing"}),
                    "NoSuchKey", 404)
    expect_s3_error(lambda: s3.copy_object(Bucket=dst, Key="y",
                                           CopySource={"Bucket": bucket_name("missing"), "Key": "k"}),
                    "NoSuchBucket", 404)
    expect_s3_error(lambda: s3.copy_object(Bucket=bucket_name("missing"), Key="y", CopySource=source),
                    "NoSuchBucket", 404)


def test_object_tagging(s3, bucket):
    s3.put_object(Bucket=bucket, Key="t", Body=b"x", Tagging="k1=v1&k2=v%202")
    tags = s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("k1", "v1"), ("k2", "v 2")]
    assert s3.get_object(Bucket=bucket, Key="t")["TagCount"] == 2

    s3.put_object_tagging(Bucket=bucket, Key="t", Tagging={"TagSet": [{"Key": "only", "Value": "é"}]})
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == [{"Key": "only", "Value": "é"}]
    assert status_of(s3.delete_object_tagging(Bucket=bucket, Key="t")) == 204
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == []
    assert "TagCount" not in s3.get_object(Bucket=bucket, Key="t")

    expect_s3_error(lambda: s3.get_object_tagging(Bucket=bucket, Key="missing"), "NoSuchKey", 404)
    expect_s3_error(lambda: s3.put_object_tagging(Bucket=bucket, Key="missing", Tagging={"TagSet": []}),
                    "NoSuchKey", 404)
    expect_s3_error(lambda: s3.put_object_tagging(
        Bucket=bucket, Key="t", Tagging={"TagSet": [{"Key": "d", "Value": "1"}, {"Key": "d", "Value": "2"}]}),
        "InvalidTag", 400)


# ------------------------------------------------------------------------------------------
# Listing
# ------------------------------------------------------------------------------------------

TREE = ["a/1", "a/2", "a/b/3", "a/b/4", "b/5", "c", "d/6", "d/e/7", "z"]


@pytest.fixture
def tree(s3, bucket):
    for key in TREE:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    return bucket


def test_list_objects_v2_prefix_delimiter_and_entries(s3, tree):
    page = s3.list_objects_v2(Bucket=tree)
    assert [o["Key"] for o in page["Contents"]] == TREE
    assert (page["KeyCount"], page["IsTruncated"], page["MaxKeys"], page["Name"]) == (len(TREE), False, 1000, tree)
    entry = page["Contents"][0]
    assert entry["ETag"] == etag_of(b"a/1") and entry["Size"] == 3 and entry["StorageClass"] == "STANDARD"
    assert recent(entry["LastModified"])
    assert "Owner" not in entry, "ListObjectsV2 lists owners only with FetchOwner"
    assert s3.list_objects_v2(Bucket=tree, FetchOwner=True)["Contents"][0]["Owner"].get("ID")

    page = s3.list_objects_v2(Bucket=tree, Delimiter="/")
    assert [o["Key"] for o in page["Contents"]] == ["c", "z"]
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["a/", "b/", "d/"]
    assert page["KeyCount"] == 5 and page["Delimiter"] == "/"

    page = s3.list_objects_v2(Bucket=tree, Prefix="a/", Delimiter="/")
    assert [o["Key"] for o in page["Contents"]] == ["a/1", "a/2"]
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["a/b/"]
    assert page["Prefix"] == "a/"

    page = s3.list_objects_v2(Bucket=tree, Prefix="a/b")
    assert [o["Key"] for o in page["Contents"]] == ["a/b/3", "a/b/4"]
    page = s3.list_objects_v2(Bucket=tree, Prefix="nothing/")
    assert page["KeyCount"] == 0 and "Contents" not in page and not page["IsTruncated"]

    page = s3.list_objects_v2(Bucket=tree, StartAfter="a/b/4")
    assert [o["Key"] for o in page["Contents"]] == ["b/5", "c", "d/6", "d/e/7", "z"]
    assert page["StartAfter"] == "a/b/4"
    # A delimiter other than "/".
    page = s3.list_objects_v2(Bucket=tree, Delimiter="b")
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["a/b", "b"]
    expect_s3_error(lambda: s3.list_objects_v2(Bucket=bucket_name("missing")), "NoSuchBucket", 404)


def test_list_objects_v2_pages(s3, tree):
    page = s3.list_objects_v2(Bucket=tree, MaxKeys=4)
    assert [o["Key"] for o in page["Contents"]] == TREE[:4]
    assert page["IsTruncated"] and page["KeyCount"] == 4 and page["MaxKeys"] == 4
    token = page["NextContinuationToken"]
    page = s3.list_objects_v2(Bucket=tree, MaxKeys=4, ContinuationToken=token)
    assert page["ContinuationToken"] == token
    assert [o["Key"] for o in page["Contents"]] == TREE[4:8]
    page = s3.list_objects_v2(Bucket=tree, MaxKeys=4, ContinuationToken=page["NextContinuationToken"])
    assert [o["Key"] for o in page["Contents"]] == TREE[8:] and not page["IsTruncated"]
    assert "NextContinuationToken" not in page

    # Common prefixes count towards MaxKeys and pages never repeat one.
    seen, token = [], None
    for _ in range(20):
        params = dict(Bucket=tree, Delimiter="/", MaxKeys=1)
        if token:
            params["ContinuationToken"] = token
        page = s3.list_objects_v2(**params)
        seen += [o["Key"] for o in page.get("Contents", [])] + [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        assert page["KeyCount"] == 1
        if not page["IsTruncated"]:
            break
        token = page["NextContinuationToken"]
    assert seen == ["a/", "b/", "c", "d/", "z"]

    paginated = [o["Key"] for p in s3.get_paginator("list_objects_v2").paginate(Bucket=tree, PaginationConfig={
        "PageSize": 2}) for o in p.get("Contents", [])]
    assert paginated == TREE


def test_list_objects_v1_markers(s3, tree):
    page = s3.list_objects(Bucket=tree, MaxKeys=3)
    assert [o["Key"] for o in page["Contents"]] == TREE[:3] and page["IsTruncated"]
    assert page.get("Marker", "") == ""
    assert "NextMarker" not in page, "ListObjects answers NextMarker only with a delimiter"
    assert page["Contents"][0]["Owner"].get("ID"), "ListObjects (v1) lists owners"
    page = s3.list_objects(Bucket=tree, Marker="a/b/3", MaxKeys=3)
    assert [o["Key"] for o in page["Contents"]] == ["a/b/4", "b/5", "c"] and page["Marker"] == "a/b/3"

    page = s3.list_objects(Bucket=tree, Delimiter="/", MaxKeys=2)
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["a/", "b/"] and page["IsTruncated"]
    assert page["NextMarker"] == "b/"
    page = s3.list_objects(Bucket=tree, Delimiter="/", MaxKeys=2, Marker=page["NextMarker"])
    assert [o["Key"] for o in page.get("Contents", [])] == ["c"]
    assert [p["Prefix"] for p in page.get("CommonPrefixes", [])] == ["d/"]

    paginated = [o["Key"] for p in s3.get_paginator("list_objects").paginate(Bucket=tree, PaginationConfig={
        "PageSize": 2}) for o in p.get("Contents", [])]
    assert paginated == TREE


# ------------------------------------------------------------------------------------------
# Checksums
# ------------------------------------------------------------------------------------------


def test_checksums_boto3_sends_and_expects(s3, bucket):
    body = os.urandom(10_000)
    # boto3 sends a CRC32 by default (x-amz-checksum-crc32); S3 answers it and stores it.
    put = s3.put_object(Bucket=bucket, Key="crc32", Body=body)
    assert put["ChecksumCRC32"] == crc32_b64(body)
    got = s3.get_object(Bucket=bucket, Key="crc32", ChecksumMode="ENABLED")
    assert got["ChecksumCRC32"] == crc32_b64(body) and got["Body"].read() == body  # botocore validates it too
    assert got.get("ChecksumType") == "FULL_OBJECT"
    assert s3.head_object(Bucket=bucket, Key="crc32", ChecksumMode="ENABLED")["ChecksumCRC32"] == crc32_b64(body)

    put = s3.put_object(Bucket=bucket, Key="sha256", Body=body, ChecksumAlgorithm="SHA256")
    assert put["ChecksumSHA256"] == sha256_b64(body)
    got = s3.get_object(Bucket=bucket, Key="sha256", ChecksumMode="ENABLED")
    assert got["ChecksumSHA256"] == sha256_b64(body) and got["Body"].read() == body

    # CRC32C (botocore computes it only with awscrt, so the value computed here is sent as the header).
    put = s3.put_object(Bucket=bucket, Key="crc32c", Body=body, ChecksumCRC32C=crc32c_b64(body))
    assert put["ChecksumCRC32C"] == crc32c_b64(body)
    got = s3.head_object(Bucket=bucket, Key="crc32c", ChecksumMode="ENABLED")
    assert got["ChecksumCRC32C"] == crc32c_b64(body)

    # Content-MD5 that matches.
    s3.put_object(Bucket=bucket, Key="md5", Body=body, ContentMD5=md5_b64(body))
    assert s3.head_object(Bucket=bucket, Key="md5")["ETag"] == etag_of(body)

    # Wrong checksums: BadDigest, and nothing is stored.
    expect_s3_error(lambda: s3.put_object(Bucket=bucket, Key="bad", Body=body, ChecksumSHA256=sha256_b64(b"other")),
                    "BadDigest", 400, "The SHA256 you specified did not match the calculated checksum.")
    expect_s3_error(lambda: s3.put_object(Bucket=bucket, Key="bad", Body=body, ChecksumCRC32=crc32_b64(b"other")),
                    "BadDigest", 400, "The CRC32 you specified did not match the calculated checksum.")
    expect_s3_error(lambda: s3.head_object(Bucket=bucket, Key="bad"), "404", 404)


def test_checksum_in_an_aws_chunked_trailer(s3, bucket, endpoint):
    """What current SDKs send over TLS: aws-chunked with the checksum as a trailing header
    (x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER)."""
    body = os.urandom(200_000)

    def put(key, checksum):
        encoded = aws_chunked(body, {"x-amz-checksum-crc32": checksum})
        return raw_s3(endpoint, "PUT", f"/{bucket}/{key}", body=encoded, content_sha256="STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                      headers={"Content-Encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(body)),
                               "x-amz-trailer": "x-amz-checksum-crc32", "x-amz-sdk-checksum-algorithm": "CRC32",
                               "Content-Type": "application/octet-stream"})

    ok = put("trailer", crc32_b64(body))
    assert ok.status == 200, ok
    assert ok.headers.get("etag") == etag_of(body)
    assert ok.headers.get("x-amz-checksum-crc32") == crc32_b64(body)
    got = s3.get_object(Bucket=bucket, Key="trailer", ChecksumMode="ENABLED")
    assert got["Body"].read() == body and got["ContentLength"] == len(body)
    assert got["ChecksumCRC32"] == crc32_b64(body)
    assert "aws-chunked" not in got.get("ContentEncoding", ""), "S3 does not store the aws-chunked coding"

    bad = put("trailer-bad", crc32_b64(b"other"))
    assert bad.status == 400, bad
    assert bad.error()[0] == "BadDigest", bad
    expect_s3_error(lambda: s3.head_object(Bucket=bucket, Key="trailer-bad"), "404", 404)


# ------------------------------------------------------------------------------------------
# Multipart uploads
# ------------------------------------------------------------------------------------------


def test_multipart_upload_lifecycle(s3, bucket):
    key = "big/objé.bin"
    created = s3.create_multipart_upload(Bucket=bucket, Key=key, ContentType="application/x-test",
                                         Metadata={"kind": "multipart"})
    upload_id = created["UploadId"]
    assert (created["Bucket"], created["Key"]) == (bucket, key) and upload_id

    uploads = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert [(u["Key"], u["UploadId"]) for u in uploads] == [(key, upload_id)]
    assert recent(uploads[0]["Initiated"])

    parts = [os.urandom(5 * MiB), os.urandom(5 * MiB), os.urandom(123_456)]
    etags = []
    for number, data in enumerate(parts, start=1):
        response = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data)
        assert response["ETag"] == etag_of(data), number
        etags.append(response["ETag"])
    # Re-uploading a part number replaces it.
    parts[1] = os.urandom(5 * MiB + 7)
    etags[1] = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=2, Body=parts[1])["ETag"]

    listed = s3.list_parts(Bucket=bucket, Key=key, UploadId=upload_id)
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in listed["Parts"]] == \
        [(i + 1, etags[i], len(parts[i])) for i in range(3)]
    assert listed["UploadId"] == upload_id and not listed["IsTruncated"]
    page = s3.list_parts(Bucket=bucket, Key=key, UploadId=upload_id, MaxParts=2)
    assert [p["PartNumber"] for p in page["Parts"]] == [1, 2] and page["IsTruncated"]
    assert page["NextPartNumberMarker"] == 2
    page = s3.list_parts(Bucket=bucket, Key=key, UploadId=upload_id, PartNumberMarker=2)
    assert [p["PartNumber"] for p in page["Parts"]] == [3]

    # The object does not exist until the upload completes.
    expect_s3_error(lambda: s3.head_object(Bucket=bucket, Key=key), "404", 404)

    done = s3.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": i + 1, "ETag": etags[i]} for i in range(3)]})
    assert done["ETag"] == multipart_etag(parts)
    assert (done["Bucket"], done["Key"]) == (bucket, key)

    head = s3.head_object(Bucket=bucket, Key=key)
    assert head["ETag"] == multipart_etag(parts) and head["ContentLength"] == sum(map(len, parts))
    assert head["ContentType"] == "application/x-test" and head["Metadata"] == {"kind": "multipart"}
    got = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert hashlib.sha256(got).digest() == hashlib.sha256(b"".join(parts)).digest()
    ranged = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes={5 * MiB - 10}-{5 * MiB + 9}")["Body"].read()
    assert ranged == b"".join(parts)[5 * MiB - 10:5 * MiB + 10], "a range across two parts"
    assert [o["ETag"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == [multipart_etag(parts)]

    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    expect_s3_error(lambda: s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=b"x"),
                    "NoSuchUpload", 404)


def test_multipart_errors(s3, bucket):
    key = "mp"
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    small = [os.urandom(1024), os.urandom(1024)]
    etags = [s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=i + 1, Body=p)["ETag"]
             for i, p in enumerate(small)]
    parts = [{"PartNumber": i + 1, "ETag": etags[i]} for i in range(2)]

    err = expect_s3_error(
        lambda: s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id,
                                             MultipartUpload={"Parts": parts}),
        "EntityTooSmall", 400, "Your proposed upload is smaller than the minimum allowed object size.")
    assert err["Error"].get("MinSizeAllowed") == str(5 * MiB), err["Error"]
    expect_s3_error(
        lambda: s3.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"0123456789abcdef0123456789abcdef"'}]}),
        "InvalidPart", 400)
    expect_s3_error(
        lambda: s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id,
                                             MultipartUpload={"Parts": [{"PartNumber": 7, "ETag": etags[0]}]}),
        "InvalidPart", 400)
    expect_s3_error(
        lambda: s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id,
                                             MultipartUpload={"Parts": list(reversed(parts))}),
        "InvalidPartOrder", 400,
        "The list of parts was not in ascending order. Parts must be ordered by part number.")
    expect_s3_error(lambda: s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=10001, Body=b"x"),
                    "InvalidArgument", 400)
    # None of the refusals completed the upload; a single (last) part may be small.
    expect_s3_error(lambda: s3.head_object(Bucket=bucket, Key=key), "404", 404)
    done = s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id,
                                        MultipartUpload={"Parts": parts[:1]})
    assert done["ETag"] == multipart_etag(small[:1])
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == small[0]

    # Abort, and what refers to an unknown upload.
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="aborted")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="aborted", UploadId=upload_id, PartNumber=1, Body=b"x" * 100)
    assert status_of(s3.abort_multipart_upload(Bucket=bucket, Key="aborted", UploadId=upload_id)) == 204
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    expect_s3_error(lambda: s3.list_parts(Bucket=bucket, Key="aborted", UploadId=upload_id), "NoSuchUpload", 404)
    expect_s3_error(lambda: s3.complete_multipart_upload(
        Bucket=bucket, Key="aborted", UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag_of(b"x" * 100)}]}), "NoSuchUpload", 404)
    expect_s3_error(lambda: s3.abort_multipart_upload(Bucket=bucket, Key="aborted", UploadId="not-an-upload"),
                    "NoSuchUpload", 404)
    expect_s3_error(lambda: s3.head_object(Bucket=bucket, Key="aborted"), "404", 404)
    expect_s3_error(lambda: s3.create_multipart_upload(Bucket=bucket_name("missing"), Key="k"), "NoSuchBucket", 404)


def test_upload_part_copy(s3, bucket):
    source = os.urandom(10 * MiB + 1000)  # parts 1 and 2 copied from it are both >= 5 MiB (only the last may be less)
    s3.put_object(Bucket=bucket, Key="source", Body=source)
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="assembled")["UploadId"]
    first = s3.upload_part_copy(Bucket=bucket, Key="assembled", UploadId=upload_id, PartNumber=1,
                                CopySource={"Bucket": bucket, "Key": "source"},
                                CopySourceRange=f"bytes=0-{5 * MiB - 1}")
    assert first["CopyPartResult"]["ETag"] == etag_of(source[:5 * MiB])
    second = s3.upload_part_copy(Bucket=bucket, Key="assembled", UploadId=upload_id, PartNumber=2,
                                 CopySource={"Bucket": bucket, "Key": "source"},
                                 CopySourceRange=f"bytes={5 * MiB}-{len(source) - 1}")
    tail = b"appended tail"
    third = s3.upload_part(Bucket=bucket, Key="assembled", UploadId=upload_id, PartNumber=3, Body=tail)
    done = s3.complete_multipart_upload(Bucket=bucket, Key="assembled", UploadId=upload_id, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": first["CopyPartResult"]["ETag"]},
                  {"PartNumber": 2, "ETag": second["CopyPartResult"]["ETag"]},
                  {"PartNumber": 3, "ETag": third["ETag"]}]})
    assert done["ETag"] == multipart_etag([source[:5 * MiB], source[5 * MiB:], tail])
    assert s3.get_object(Bucket=bucket, Key="assembled")["Body"].read() == source + tail

    # A whole-object part copy, and a range beyond the source.
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="whole")["UploadId"]
    whole = s3.upload_part_copy(Bucket=bucket, Key="whole", UploadId=upload_id, PartNumber=1,
                                CopySource={"Bucket": bucket, "Key": "source"})
    assert whole["CopyPartResult"]["ETag"] == etag_of(source)
    expect_s3_error(lambda: s3.upload_part_copy(Bucket=bucket, Key="whole", UploadId=upload_id, PartNumber=2,
                                                CopySource={"Bucket": bucket, "Key": "source"},
                                                CopySourceRange=f"bytes={len(source)}-{len(source) + 10}"),
                    # What S3 answers (recorded in public bug reports against S3 work-alikes).
                    "InvalidArgument", 400, f"Range specified is not valid for source object of size: {len(source)}")


def test_multipart_checksums_are_composite(s3, bucket):
    """With ChecksumAlgorithm on CreateMultipartUpload each part carries its CRC32 and the object's checksum is S3's
    COMPOSITE one: the CRC32 of the parts' binary CRC32s, `-N`."""
    key = "composite"
    created = s3.create_multipart_upload(Bucket=bucket, Key=key, ChecksumAlgorithm="CRC32")
    assert created.get("ChecksumAlgorithm") == "CRC32"
    upload_id = created["UploadId"]
    parts = [os.urandom(5 * MiB), os.urandom(1000)]
    completed = []
    for number, data in enumerate(parts, start=1):
        response = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data,
                                  ChecksumAlgorithm="CRC32")
        assert response["ChecksumCRC32"] == crc32_b64(data)
        completed.append({"PartNumber": number, "ETag": response["ETag"], "ChecksumCRC32": response["ChecksumCRC32"]})
    listed = s3.list_parts(Bucket=bucket, Key=key, UploadId=upload_id)["Parts"]
    assert [p.get("ChecksumCRC32") for p in listed] == [crc32_b64(p) for p in parts]
    done = s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id,
                                        MultipartUpload={"Parts": completed})
    assert done["ETag"] == multipart_etag(parts)
    assert done.get("ChecksumCRC32") == composite_crc32(parts)
    head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    assert head.get("ChecksumCRC32") == composite_crc32(parts)
    assert head.get("ChecksumType") == "COMPOSITE"


def test_managed_transfer_of_20_mib_is_multipart_both_ways(s3, bucket, tmp_path):
    data = os.urandom(20 * MiB)
    source = tmp_path / "upload.bin"
    source.write_bytes(data)
    config = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, max_concurrency=4)
    seen = {"UploadPart": 0, "ranges": []}

    def count_part(request, **_):
        seen["UploadPart"] += 1

    def record_range(request, **_):
        seen["ranges"].append(request.headers.get("Range"))

    s3.meta.events.register("before-send.s3.UploadPart", count_part)
    s3.meta.events.register("before-send.s3.GetObject", record_range)
    try:
        s3.upload_file(str(source), bucket, "transfer/20mib.bin", Config=config)
        head = s3.head_object(Bucket=bucket, Key="transfer/20mib.bin")
        assert head["ContentLength"] == len(data)
        chunks = [data[i:i + 5 * MiB] for i in range(0, len(data), 5 * MiB)]
        assert head["ETag"] == multipart_etag(chunks), "upload_file sent 4 parts of 5 MiB"
        assert seen["UploadPart"] == 4

        target = tmp_path / "download.bin"
        s3.download_file(bucket, "transfer/20mib.bin", str(target), Config=config)
        assert hashlib.sha256(target.read_bytes()).digest() == hashlib.sha256(data).digest()
        ranges = [r for r in seen["ranges"] if r]
        assert len(ranges) >= 4, f"download_file did not use ranged GETs: {seen['ranges']}"
    finally:
        s3.meta.events.unregister("before-send.s3.UploadPart", count_part)
        s3.meta.events.unregister("before-send.s3.GetObject", record_range)


def test_expect_100_continue_is_answered(bucket, endpoint):
    """boto3 sends PutObject and UploadPart with `Expect: 100-continue` and waits up to a second for the interim
    `100 Continue` before it sends the body: a server that never answers it costs every upload a second."""
    port = port_of(endpoint)
    host = f"127.0.0.1:{port}"
    body = b"x" * 1000
    headers = signed_headers(host, "PUT", f"/{bucket}/expect", body,
                             {"Expect": "100-continue", "Content-Length": str(len(body))})
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall((f"PUT /{bucket}/expect HTTP/1.1\r\n" +
                      "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n").encode())
        sock.settimeout(2)
        started = time.monotonic()
        try:
            interim = sock.recv(4096)
        except socket.timeout:
            interim = b""
        waited = time.monotonic() - started
        assert interim.startswith(b"HTTP/1.1 100"), f"no 100 Continue within {waited:.1f}s: {interim[:200]!r}"
        sock.settimeout(10)
        sock.sendall(body)
        final = read_response(sock, timeout=10)
    assert final.startswith(b"HTTP/1.1 200"), final[:300]


def test_a_refused_upload_leaves_the_connection_usable(bucket, endpoint):
    """boto3 sends an upload's headers with Expect: 100-continue and, when the answer is a final error instead of
    100 Continue, never sends the body. The server must not then read the next request on that keep-alive connection
    as the refused request's body (RFC 9110: close the connection, or answer 100 and discard the body)."""
    s3 = s3_client(endpoint, max_pool_connections=1, read_timeout=10)  # one connection: every call reuses it
    for refused in (lambda: s3.put_object(Bucket=bucket, Key="k" * 1025, Body=b"x" * 5000),
                    lambda: s3.put_object(Bucket=bucket_name("missing"), Key="k", Body=b"x" * 5000),
                    lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"x" * 5000, ContentMD5="invalid")):
        with pytest.raises(ClientError) as info:
            refused()
        assert info.value.response["Error"]["Code"] in ("KeyTooLongError", "NoSuchBucket", "InvalidDigest"), \
            info.value.response["Error"]
        assert status_of(s3.head_bucket(Bucket=bucket)) == 200
        s3.put_object(Bucket=bucket, Key="after", Body=b"fine")
        assert s3.get_object(Bucket=bucket, Key="after")["Body"].read() == b"fine"


def test_put_latency_is_not_a_second(s3, bucket):
    """Ten sequential boto3 PUTs of 1 KB (the Expect: 100-continue wait would make each take a second)."""
    started = time.monotonic()
    for i in range(10):
        s3.put_object(Bucket=bucket, Key=f"latency/{i}", Body=b"x" * 1000)
    elapsed = time.monotonic() - started
    assert elapsed < 5, f"10 sequential PUTs took {elapsed:.1f}s"


def test_concurrent_puts_and_gets(s3, bucket):
    payloads = {f"c/{i:03d}": os.urandom(1000 + i) for i in range(64)}

    def put(item):
        key, data = item
        return s3.put_object(Bucket=bucket, Key=key, Body=data)["ETag"] == etag_of(data)

    def get(key):
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read() == payloads[key]

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert all(pool.map(put, payloads.items()))
        assert all(pool.map(get, payloads))
    assert all_keys(s3, bucket) == sorted(payloads)


# ------------------------------------------------------------------------------------------
# Presigned URLs with plain HTTP
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("signature", ["boto3-default", "s3v4"])
def test_presigned_get_and_put_with_plain_http(endpoint, bucket, signature):
    """boto3's default presigned URL is S3's query-string authentication (AWSAccessKeyId, Signature, Expires: what
    an unmodified generate_presigned_url answers); with signature_version="s3v4" it is SigV4's X-Amz-* query."""
    s3 = s3_client(endpoint) if signature == "boto3-default" else s3_client(endpoint, signature_version="s3v4")
    key = "presigned/ünï code.txt"
    body = b"fetched without an SDK"
    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="text/plain")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=300)
    if signature == "s3v4":
        assert "X-Amz-Signature=" in url and "X-Amz-Credential=" in url, url
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 200
        assert response.read() == body
        assert response.headers["Content-Type"] == "text/plain"
        assert response.headers["ETag"] == etag_of(body)

    url = s3.generate_presigned_url("get_object", ExpiresIn=300, Params={
        "Bucket": bucket, "Key": key, "ResponseContentDisposition": "attachment; filename=x.txt"})
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.headers["Content-Disposition"] == "attachment; filename=x.txt"

    uploaded = os.urandom(50_000)
    url = s3.generate_presigned_url("put_object", ExpiresIn=300, Params={
        "Bucket": bucket, "Key": "presigned/put.bin", "ContentType": "application/x-upload"})
    request = urllib.request.Request(url, data=uploaded, method="PUT",
                                     headers={"Content-Type": "application/x-upload"})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
        assert response.headers["ETag"] == etag_of(uploaded)
    got = s3.get_object(Bucket=bucket, Key="presigned/put.bin")
    assert got["Body"].read() == uploaded and got["ContentType"] == "application/x-upload"

    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "missing"}, ExpiresIn=300)
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(url, timeout=30)
    assert info.value.code == 404
    assert error_of(info.value.read())[0] == "NoSuchKey"


# ------------------------------------------------------------------------------------------
# Errors on the wire, and virtual-host addressing
# ------------------------------------------------------------------------------------------


def test_error_bodies_are_s3_xml(s3, bucket, endpoint):
    missing = bucket_name("missing")
    response = raw_s3(endpoint, "GET", f"/{missing}/some/key")
    assert response.status == 404, response
    assert response.headers.get("content-type", "").startswith("application/xml"), response.headers
    code, message, fields = response.error()
    assert (code, message, fields.get("BucketName")) == ("NoSuchBucket", NO_SUCH_BUCKET, missing)
    assert fields.get("RequestId") and fields["RequestId"] == response.headers.get("x-amz-request-id"), response
    assert "HostId" in fields and response.headers.get("x-amz-id-2"), response

    response = raw_s3(endpoint, "GET", f"/{bucket}/no/such%20key")
    assert response.status == 404, response
    code, message, fields = response.error()
    assert (code, message, fields.get("Key")) == ("NoSuchKey", NO_SUCH_KEY, "no/such key")

    # HEAD errors have no body, only the status.
    response = raw_s3(endpoint, "HEAD", f"/{bucket}/no-such-key")
    assert response.status == 404 and response.body == b"", response
    assert response.headers.get("x-amz-request-id"), response

    # boto3's view of the same.
    err = expect_s3_error(lambda: s3.get_object(Bucket=bucket, Key="no-such-key"), "NoSuchKey", 404, NO_SUCH_KEY)
    assert err["Error"].get("Key") == "no-such-key"
    expect_s3_error(lambda: s3.get_object(Bucket=missing, Key="k"), "NoSuchBucket", 404, NO_SUCH_BUCKET)
    expect_s3_error(lambda: s3.put_object(Bucket=missing, Key="k", Body=b"x"), "NoSuchBucket", 404)
    expect_s3_error(lambda: s3.head_object(Bucket=bucket, Key="no-such-key"), "404", 404)


def test_virtual_host_addressing(s3, bucket, endpoint):
    port = port_of(endpoint)
    host = f"{bucket}.s3.localhost:{port}"
    body = b"virtually hosted"
    put = raw_s3(endpoint, "PUT", "/vh/key%20one.txt", body=body, host=host, headers={"Content-Type": "text/plain"})
    assert put.status == 200, put
    assert put.headers.get("etag") == etag_of(body)
    # The same object path-style through boto3.
    assert s3.get_object(Bucket=bucket, Key="vh/key one.txt")["Body"].read() == body

    got = raw_s3(endpoint, "GET", "/vh/key%20one.txt", host=host)
    assert (got.status, got.body, got.headers.get("content-type")) == (200, body, "text/plain"), got
    listing = raw_s3(endpoint, "GET", "/?list-type=2&prefix=vh%2F", host=host)
    assert listing.status == 200, listing
    root = ET.fromstring(listing.body)
    assert root.find(f"{S3_NS}Name").text == bucket
    assert [e.text for e in root.iter(f"{S3_NS}Key")] == ["vh/key one.txt"]
    assert raw_s3(endpoint, "HEAD", "/", host=host).status == 200

    # Path-style on the s3.localhost name works too.
    got = raw_s3(endpoint, "GET", f"/{bucket}/vh/key%20one.txt", host=f"s3.localhost:{port}")
    assert (got.status, got.body) == (200, body), got

    assert raw_s3(endpoint, "DELETE", "/vh/key%20one.txt", host=host).status == 204
    expect_s3_error(lambda: s3.head_object(Bucket=bucket, Key="vh/key one.txt"), "404", 404)
    missing = bucket_name("missing")
    response = raw_s3(endpoint, "GET", "/k", host=f"{missing}.s3.localhost:{port}")
    assert response.status == 404 and response.error()[0] == "NoSuchBucket", response


# ------------------------------------------------------------------------------------------
# Function code from the store (CreateFunction/UpdateFunctionCode with Code.S3Bucket/S3Key)
# ------------------------------------------------------------------------------------------

CODE_V1 = "def handler(event, context):\n    return {'version': 1, 'event': event}\n"
CODE_V2 = "def handler(event, context):\n    return {'version': 2}\n"


def test_function_code_from_s3(s3, bucket, lam, functions, aws, tmp_path):
    v1, v2 = helpers.py_zip(CODE_V1), helpers.py_zip(CODE_V2)
    s3.put_object(Bucket=bucket, Key="code/v1.zip", Body=v1)
    s3.put_object(Bucket=bucket, Key="code/v2.zip", Body=v2)
    name = helpers.unique("s3code")
    created = lam.create_function(FunctionName=name, Runtime=helpers.PY, Role=helpers.ROLE, Handler="app.handler",
                                  Code={"S3Bucket": bucket, "S3Key": "code/v1.zip"})
    functions.track(name)
    assert (created["CodeSha256"], created["CodeSize"]) == (helpers.sha256_b64(v1), len(v1))
    assert helpers.payload_json(lam.invoke(FunctionName=name, Payload=b'{"a": 1}')) == {"version": 1,
                                                                                       "event": {"a": 1}}
    assert lam.get_function(FunctionName=name)["Code"]["RepositoryType"] == "S3"
    updated = lam.update_function_code(FunctionName=name, S3Bucket=bucket, S3Key="code/v2.zip")
    assert updated["CodeSha256"] == helpers.sha256_b64(v2)
    assert helpers.payload_json(lam.invoke(FunctionName=name)) == {"version": 2}

    # AWS's answers when the object is not there (recorded: test_lambda_code_location_s3_errors).
    missing_bucket = ("Error occurred while GetObject. S3 Error Code: NoSuchBucket. S3 Error Message: The specified "
                      "bucket does not exist")
    missing_key = ("Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The specified key "
                   "does not exist.")
    other = helpers.unique("s3code")
    helpers.expect_client_error(lambda: lam.create_function(
        FunctionName=other, Runtime=helpers.PY, Role=helpers.ROLE, Handler="app.handler",
        Code={"S3Bucket": bucket_name("missing"), "S3Key": "code/v1.zip"}),
        "InvalidParameterValueException", 400, missing_bucket)
    helpers.expect_client_error(lambda: lam.create_function(
        FunctionName=other, Runtime=helpers.PY, Role=helpers.ROLE, Handler="app.handler",
        Code={"S3Bucket": bucket, "S3Key": "code/missing.zip"}), "InvalidParameterValueException", 400, missing_key)
    helpers.expect_client_error(lambda: lam.update_function_code(
        FunctionName=name, S3Bucket=bucket_name("missing"), S3Key="code/v1.zip"),
        "InvalidParameterValueException", 400, missing_bucket)
    helpers.expect_client_error(lambda: lam.update_function_code(FunctionName=name, S3Bucket=bucket,
                                                                 S3Key="code/missing.zip"),
                                "InvalidParameterValueException", 400, missing_key)

    # The AWS CLI's form.
    cli_name = helpers.unique("s3cli")
    functions.track(cli_name)
    out = json.loads(aws("lambda", "create-function", "--function-name", cli_name, "--runtime", helpers.PY,
                         "--handler", "app.handler", "--role", helpers.ROLE,
                         "--code", f"S3Bucket={bucket},S3Key=code/v1.zip").stdout)
    assert out["CodeSha256"] == helpers.sha256_b64(v1)


# ------------------------------------------------------------------------------------------
# The AWS CLI v2: `aws s3` and `aws s3api`
# ------------------------------------------------------------------------------------------


def _tree(root):
    found = {}
    for directory, _, names in os.walk(root):
        for name in names:
            path = os.path.join(directory, name)
            with open(path, "rb") as f:
                found[os.path.relpath(path, root)] = f.read()
    return found


def test_aws_s3_commands(aws, s3, tmp_path):
    name = bucket_name("cli")
    aws("s3", "mb", f"s3://{name}")
    try:
        local = tmp_path / "hello.txt"
        local.write_bytes(b"hello from the cli\n")
        aws("s3", "cp", str(local), f"s3://{name}/dir/hello.txt")
        assert s3.get_object(Bucket=name, Key="dir/hello.txt")["Body"].read() == b"hello from the cli\n"

        top = aws("s3", "ls", f"s3://{name}/").stdout
        assert re.search(r"^\s+PRE dir/$", top, re.M), top
        inner = aws("s3", "ls", f"s3://{name}/dir/").stdout
        assert re.search(r"\s19 hello\.txt$", inner, re.M), inner
        assert name in aws("s3", "ls").stdout

        back = tmp_path / "back.txt"
        aws("s3", "cp", f"s3://{name}/dir/hello.txt", str(back))
        assert back.read_bytes() == b"hello from the cli\n"

        # A 12 MiB file: the CLI uploads it in 8 MiB parts and downloads it in ranges.
        big = tmp_path / "big.bin"
        big.write_bytes(os.urandom(12 * MiB))
        aws("s3", "cp", str(big), f"s3://{name}/big.bin")
        assert s3.head_object(Bucket=name, Key="big.bin")["ETag"].endswith('-2"')
        big_back = tmp_path / "big-back.bin"
        aws("s3", "cp", f"s3://{name}/big.bin", str(big_back))
        assert big_back.read_bytes() == big.read_bytes()

        # sync up, again with changes, down.
        src = tmp_path / "site"
        (src / "css").mkdir(parents=True)
        (src / "index.html").write_bytes(b"<h1>hi</h1>")
        (src / "css" / "main.css").write_bytes(b"body{}")
        (src / "data with space.json").write_bytes(b"{}")
        out = aws("s3", "sync", str(src), f"s3://{name}/site/").stdout
        assert out.count("upload:") == 3, out
        assert sorted(k for k in _keys(s3, name) if k.startswith("site/")) == \
            ["site/css/main.css", "site/data with space.json", "site/index.html"]
        assert aws("s3", "sync", str(src), f"s3://{name}/site/").stdout.count("upload:") == 0
        (src / "index.html").write_bytes(b"<h1>changed, longer</h1>")
        (src / "new.txt").write_bytes(b"new")
        out = aws("s3", "sync", str(src), f"s3://{name}/site/").stdout
        assert out.count("upload:") == 2, out
        down = tmp_path / "down"
        aws("s3", "sync", f"s3://{name}/site/", str(down))
        assert _tree(down) == _tree(src)

        # Recursive copy and removal.
        aws("s3", "cp", str(src), f"s3://{name}/copy/", "--recursive")
        assert len([k for k in _keys(s3, name) if k.startswith("copy/")]) == 4
        aws("s3", "rm", f"s3://{name}/copy/", "--recursive")
        aws("s3", "rm", f"s3://{name}/site/", "--recursive")
        assert sorted(_keys(s3, name)) == ["big.bin", "dir/hello.txt"]
        aws("s3", "rm", f"s3://{name}/dir/hello.txt")
        failed = aws("s3", "rb", f"s3://{name}", check=False)
        assert failed.returncode != 0 and "BucketNotEmpty" in failed.stderr, failed.stderr
        aws("s3", "rb", f"s3://{name}", "--force")
        assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    finally:
        remove_bucket(s3, name)


def _keys(s3, bucket):
    return [o["Key"] for p in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket) for o in p.get("Contents", [])]


def test_aws_s3api_commands(aws, s3, tmp_path):
    name = bucket_name("api")
    created = json.loads(aws("s3api", "create-bucket", "--bucket", name).stdout)
    assert created["Location"] == f"/{name}"
    try:
        assert json.loads(aws("s3api", "get-bucket-location", "--bucket", name).stdout)["LocationConstraint"] is None
        body = tmp_path / "body.txt"
        body.write_bytes(b"s3api body")
        put = json.loads(aws("s3api", "put-object", "--bucket", name, "--key", "k.txt", "--body", str(body),
                             "--content-type", "text/plain", "--metadata", "owner=cli").stdout)
        assert put["ETag"] == etag_of(b"s3api body")
        head = json.loads(aws("s3api", "head-object", "--bucket", name, "--key", "k.txt").stdout)
        assert (head["ContentLength"], head["ContentType"], head["Metadata"]) == (10, "text/plain", {"owner": "cli"})
        out = tmp_path / "out.txt"
        got = json.loads(aws("s3api", "get-object", "--bucket", name, "--key", "k.txt", "--range", "bytes=0-4",
                             str(out)).stdout)
        assert got["ContentRange"] == "bytes 0-4/10" and out.read_bytes() == b"s3api"
        aws("s3api", "copy-object", "--bucket", name, "--key", "k2.txt", "--copy-source", f"{name}/k.txt")
        listed = json.loads(aws("s3api", "list-objects-v2", "--bucket", name, "--prefix", "k").stdout)
        assert [o["Key"] for o in listed["Contents"]] == ["k.txt", "k2.txt"]

        aws("s3api", "put-bucket-tagging", "--bucket", name, "--tagging", "TagSet=[{Key=team,Value=cli}]")
        assert json.loads(aws("s3api", "get-bucket-tagging", "--bucket", name).stdout)["TagSet"] == \
            [{"Key": "team", "Value": "cli"}]
        aws("s3api", "put-object-tagging", "--bucket", name, "--key", "k.txt", "--tagging",
            "TagSet=[{Key=a,Value=b}]")
        assert json.loads(aws("s3api", "get-object-tagging", "--bucket", name, "--key", "k.txt").stdout)["TagSet"] \
            == [{"Key": "a", "Value": "b"}]

        # A multipart upload through s3api (one small last part is allowed).
        upload_id = json.loads(aws("s3api", "create-multipart-upload", "--bucket", name, "--key", "mp").stdout)[
            "UploadId"]
        part = json.loads(aws("s3api", "upload-part", "--bucket", name, "--key", "mp", "--upload-id", upload_id,
                              "--part-number", "1", "--body", str(body)).stdout)
        parts_file = tmp_path / "parts.json"
        parts_file.write_text(json.dumps({"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]}))
        done = json.loads(aws("s3api", "complete-multipart-upload", "--bucket", name, "--key", "mp", "--upload-id",
                              upload_id, "--multipart-upload", f"file://{parts_file}").stdout)
        assert done["ETag"] == multipart_etag([b"s3api body"])

        deleted = json.loads(aws("s3api", "delete-objects", "--bucket", name, "--delete",
                                 json.dumps({"Objects": [{"Key": "k.txt"}, {"Key": "k2.txt"}, {"Key": "mp"}]})).stdout)
        assert sorted(d["Key"] for d in deleted["Deleted"]) == ["k.txt", "k2.txt", "mp"]
        failed = aws("s3api", "head-object", "--bucket", name, "--key", "k.txt", check=False)
        assert failed.returncode != 0 and "Not Found" in failed.stderr, failed.stderr
        failed = aws("s3api", "get-object", "--bucket", name, "--key", "k.txt", str(out), check=False)
        assert failed.returncode != 0 and "NoSuchKey" in failed.stderr, failed.stderr
        aws("s3api", "delete-bucket", "--bucket", name)
        failed = aws("s3api", "head-bucket", "--bucket", name, check=False)
        assert failed.returncode != 0 and "Not Found" in failed.stderr, failed.stderr
    finally:
        remove_bucket(s3, name)
