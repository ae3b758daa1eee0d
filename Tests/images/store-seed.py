#!/usr/bin/env python3
"""Puts an image from an OCI layout into a Nook image store the way `nook
image import` and the layer unpacker will (a stand-in for tests until they
land): the config blob under blobs/sha256, a record in images.json, and each
(uncompressed) layer extracted into layers/<diff-id hex>/. Run as the store's
user; files are owned by that user (no sub-id shifting, no whiteouts).

  store-seed.py LAYOUT TAG STORE NAME"""
import hashlib, json, os, sys, tarfile

layout, tag, store, name = sys.argv[1:5]


def read_blob(digest):
    with open(os.path.join(layout, "blobs", "sha256", digest.split(":")[1]), "rb") as f:
        return f.read()


with open(os.path.join(layout, "index.json")) as f:
    index = json.load(f)
entry = next(m for m in index["manifests"] if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag)
manifest = json.loads(read_blob(entry["digest"]))
config_bytes = read_blob(manifest["config"]["digest"])
config = json.loads(config_bytes)
for d in ["blobs/sha256", "layers", "tmp", "locks", "containers"]:
    os.makedirs(os.path.join(store, d), mode=0o700, exist_ok=True)
os.chmod(store, 0o700)
with open(os.path.join(store, "blobs", "sha256", manifest["config"]["digest"].split(":")[1]), "wb") as f:
    f.write(config_bytes)
for layer, diff_id in zip(manifest["layers"], config["rootfs"]["diff_ids"]):
    data = read_blob(layer["digest"])
    assert layer["mediaType"].endswith(".tar"), "store-seed.py takes uncompressed layers (--compression none)"
    assert "sha256:" + hashlib.sha256(data).hexdigest() == diff_id
    target = os.path.join(store, "layers", diff_id.split(":")[1])
    if not os.path.isdir(target):
        with tarfile.open(os.path.join(layout, "blobs", "sha256", layer["digest"].split(":")[1])) as tar:
            tar.extractall(target, numeric_owner=True)
images_path = os.path.join(store, "images.json")
records = json.load(open(images_path)) if os.path.exists(images_path) else []
records = [r for r in records if name not in r["names"]]
records.append({"manifest": entry["digest"], "config": manifest["config"]["digest"], "names": [name],
                "diffIDs": config["rootfs"]["diff_ids"], "size": sum(l["size"] for l in manifest["layers"])})
with open(images_path, "w") as f:
    json.dump(records, f)
