"""Thumbnails for uploaded photos, as the function runs on AWS Lambda: an S3 bucket notification (s3:ObjectCreated:*)
on the photos bucket invokes it; it reads each new image with boto3, makes a JPEG thumbnail of at most 128 x 128
pixels (aspect ratio kept) with Pillow, and stores it under the same key in the bucket named by $THUMBNAIL_BUCKET.

boto3 comes with the Python runtime; Pillow is packaged into the zip by ../build.sh. The function gets its
credentials, region and (on Nimbus) endpoint from the environment, so the same code runs on both.
"""

import io
import json
import os
import urllib.parse

import boto3
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_SIZE = (128, 128)

s3 = boto3.client("s3")


def make_thumbnail(data):
    """JPEG bytes of a thumbnail of the image in `data`, at most MAX_SIZE."""
    with Image.open(io.BytesIO(data)) as original:
        image = ImageOps.exif_transpose(original)  # phone photos store their rotation in EXIF
        image.thumbnail(MAX_SIZE)
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")  # JPEG has no alpha channel or palette
        out = io.BytesIO()
        image.save(out, "JPEG", quality=85, optimize=True)
        return out.getvalue()


def handler(event, context):
    target = os.environ["THUMBNAIL_BUCKET"]
    made = []
    for record in event.get("Records", []):
        if not record.get("eventName", "").startswith("ObjectCreated:"):
            continue
        source = record["s3"]["bucket"]["name"]
        if source == target:
            continue  # a thumbnail of a thumbnail would trigger itself forever
        # S3 sends the key form-URL-encoded ("my photo.jpg" arrives as "my+photo.jpg").
        key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
        original = s3.get_object(Bucket=source, Key=key)["Body"].read()
        try:
            thumbnail = make_thumbnail(original)
        except UnidentifiedImageError:
            print(json.dumps({"skipped": f"s3://{source}/{key}", "reason": "not an image Pillow can read"}))
            continue
        s3.put_object(Bucket=target, Key=key, Body=thumbnail, ContentType="image/jpeg",
                      Metadata={"source-bucket": source})
        print(json.dumps({"source": f"s3://{source}/{key}", "bytes": len(original),
                          "thumbnail": f"s3://{target}/{key}", "thumbnail_bytes": len(thumbnail)}))
        made.append(key)
    return {"thumbnails": made}
