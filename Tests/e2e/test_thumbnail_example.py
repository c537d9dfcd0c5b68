"""examples/thumbnail end to end (issue #14): build.sh packages Pillow with pip, deploy.sh deploys with the AWS CLI
against the session's server, and the README's `aws s3 cp <photo> s3://<photos>/` makes a thumbnail appear in the
thumbnails bucket: a valid JPEG of at most 128 x 128 pixels with the original's aspect ratio.

The photos are made with Pillow here: the test's own Python's when it has Pillow, otherwise the runtime's Python
(python3.12, which the functions run on) with the Pillow build.sh installed. If pip cannot download Pillow, the test
is skipped saying so.
"""

import importlib.util
import json
import os
import shutil
import subprocess
import sys

import pytest
from botocore.exceptions import ClientError

import helpers
from s3_helpers import bucket_name, remove_bucket, s3_client

EXAMPLE = os.path.join(helpers.REPO, "examples", "thumbnail")
RUNTIME_PYTHON = "python3.12"

PILLOW_SCRIPT = r'''
import json, sys
from PIL import Image
command, path = sys.argv[1], sys.argv[2]
if command == "make":
    width, height = int(sys.argv[3]), int(sys.argv[4])
    image = Image.new("RGB", (width, height))
    pixels = image.load()
    for x in range(width):
        for y in range(height):
            pixels[x, y] = (x * 255 // width, y * 255 // height, 128)
    image.save(path, "JPEG", quality=90)
else:
    with Image.open(path) as image:
        image.load()
        print(json.dumps({"format": image.format, "size": list(image.size), "mode": image.mode}))
'''


def _runtime_python():
    """The interpreter Nimbus runs python3.12 functions with (its search: PATH without shims, then pyenv)."""
    for directory in os.environ.get("PATH", "").split(":") + ["/usr/local/bin", "/usr/bin"]:
        candidate = os.path.join(directory, RUNTIME_PYTHON)
        if directory and "shims" not in directory and os.access(candidate, os.X_OK):
            return candidate
    root = os.path.expanduser("~/.pyenv/versions")
    for version in sorted(os.listdir(root) if os.path.isdir(root) else [], reverse=True):
        candidate = os.path.join(root, version, "bin", RUNTIME_PYTHON)
        if version.startswith("3.12") and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """function.zip from build.sh (outside the per-test time limit: pip downloads Pillow), and the directory of the
    package it holds (for the runtime's Python to use Pillow)."""
    if not shutil.which("bash"):
        pytest.skip("bash is needed to run the example's scripts")
    root = tmp_path_factory.mktemp("thumbnail-build")
    zip_path = os.path.join(str(root), "function.zip")
    proc = subprocess.run([os.path.join(EXAMPLE, "build.sh"), zip_path], capture_output=True, text=True, timeout=600)
    if proc.returncode == 3:
        pytest.skip(f"examples/thumbnail/build.sh could not get Pillow with pip: {proc.stderr.strip()[-600:]}")
    assert proc.returncode == 0, f"build.sh exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
    unpacked = os.path.join(str(root), "package")
    subprocess.run([sys.executable, "-m", "zipfile", "-e", zip_path, unpacked], check=True, timeout=120)
    return zip_path, unpacked


@pytest.fixture(scope="module")
def pillow(built):
    """pillow("make", path, w, h) writes a JPEG; pillow("inspect", path) answers its format, size and mode."""
    if importlib.util.find_spec("PIL") is not None:
        command, env = [sys.executable], None
    else:
        python = _runtime_python()
        if python is None:
            pytest.skip("Pillow is not installed for the test's Python (pip install Pillow) and no python3.12 was "
                        "found to use the Pillow build.sh packaged")
        command, env = [python], dict(os.environ, PYTHONPATH=built[1])

    def run(*args):
        proc = subprocess.run(command + ["-c", PILLOW_SCRIPT, *map(str, args)], capture_output=True, text=True,
                              env=env, timeout=120)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout) if args[0] == "inspect" else None

    return run


def test_thumbnail_example_from_the_readme(endpoint, built, pillow, tmp_path, cli_env):
    cli = helpers.aws_cli()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    os.symlink(cli, bin_dir / "aws")  # the scripts call `aws`: the AWS CLI v2 the suite uses
    photos, thumbnails, function = bucket_name("photos"), bucket_name("thumbs"), helpers.unique("thumbnail")
    env = dict(cli_env, PATH=f"{bin_dir}:{os.environ.get('PATH', '')}", NIMBUS_ENDPOINT=endpoint,
               PHOTOS_BUCKET=photos, THUMBNAILS_BUCKET=thumbnails, FUNCTION_NAME=function, ZIP=built[0])
    s3 = s3_client(endpoint)
    try:
        deployed = subprocess.run([os.path.join(EXAMPLE, "deploy.sh")], capture_output=True, text=True, env=env,
                                  timeout=120)
        assert deployed.returncode == 0, f"deploy.sh exited {deployed.returncode}:\n{deployed.stdout}\n{deployed.stderr}"
        assert f"s3 cp {EXAMPLE}/photo.jpg s3://{photos}/" in deployed.stdout, deployed.stdout
        # Running it again updates the function and keeps everything else.
        again = subprocess.run([os.path.join(EXAMPLE, "deploy.sh")], capture_output=True, text=True, env=env,
                               timeout=120)
        assert again.returncode == 0 and f"Updated function {function}" in again.stdout, again.stdout + again.stderr

        landscape, portrait = tmp_path / "photo.jpg", tmp_path / "my portrait.jpg"
        pillow("make", landscape, 640, 400)
        pillow("make", portrait, 300, 900)
        for path in (landscape, portrait):
            copied = helpers.run_cmd([cli, "s3", "cp", str(path), f"s3://{photos}/", "--endpoint-url", endpoint],
                                     env=cli_env)
            assert copied.returncode == 0, copied.stderr
        # The example's own picture, as the README uploads it.
        copied = helpers.run_cmd([cli, "s3", "cp", os.path.join(EXAMPLE, "photo.jpg"), f"s3://{photos}/readme.jpg",
                                  "--endpoint-url", endpoint], env=cli_env)
        assert copied.returncode == 0, copied.stderr

        def thumbnail(key):
            try:
                return s3.get_object(Bucket=thumbnails, Key=key)
            except ClientError as e:
                if e.response["Error"]["Code"] == "NoSuchKey":
                    return None
                raise

        expected = {"photo.jpg": (128, 80), "my portrait.jpg": (43, 128), "readme.jpg": (128, 85)}
        for key, size in expected.items():
            got = helpers.poll(lambda: thumbnail(key), timeout=60, interval=0.25, what=f"the thumbnail of {key}")
            assert got["ContentType"] == "image/jpeg"
            assert got["Metadata"] == {"source-bucket": photos}
            local = tmp_path / f"thumb-{key}"
            local.write_bytes(got["Body"].read())
            described = pillow("inspect", local)
            assert described["format"] == "JPEG", described
            assert tuple(described["size"]) == size, (key, described)
            assert max(described["size"]) <= 128

        listed = helpers.run_cmd([cli, "s3", "ls", f"s3://{thumbnails}/", "--endpoint-url", endpoint], env=cli_env)
        assert all(key in listed.stdout for key in expected), listed.stdout
        # Nothing was written back to the photos bucket.
        assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket=photos)["Contents"]) == sorted(expected)
    finally:
        helpers.run_cmd([cli, "lambda", "delete-function", "--function-name", function, "--endpoint-url", endpoint],
                        env=cli_env)
        remove_bucket(s3, photos)
        remove_bucket(s3, thumbnails)
