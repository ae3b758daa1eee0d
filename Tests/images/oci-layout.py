#!/usr/bin/env python3
"""Writes an OCI image layout from directories or hand-made tar entries: the
images Nook's tests pull, import and run are built here, by the test, so every
byte is known (no internet, no registry but the test's own).

  oci-layout.py OUT --tag TAG [--layer DIR]... [--layer-tar FILE]... \
      [--compression gzip|zstd|none] [--config-json JSON] [--created DATE] [--arch ARCH]
  oci-layout.py OUT --tag TAG --index-of TAG1 --index-of TAG2   (a multi-platform index
      over images already in OUT: `skopeo copy --all oci:OUT:TAG ...` pushes all of them)

Layers go bottom first. --layer DIR tars DIR's tree (ownership as it is on disk
unless --owner UID:GID); --layer-tar FILE takes a tar as it is (a test can
write one with '../' entries or whiteouts with Python's tarfile). The config's
fields (Entrypoint, Cmd, Env, User, ...) come from --config-json. Several calls
with the same OUT and different --tag add images to one layout."""
import argparse, gzip, hashlib, io, json, os, subprocess, sys, tarfile


def blob(out, data):
    digest = hashlib.sha256(data).hexdigest()
    path = os.path.join(out, "blobs", "sha256", digest)
    with open(path, "wb") as f:
        f.write(data)
    return "sha256:" + digest


def tar_dir(path, owner):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for root, dirs, files in os.walk(path):
            dirs.sort()
            for name in sorted(dirs) + sorted(files):
                full = os.path.join(root, name)
                info = tar.gettarinfo(full, arcname=os.path.relpath(full, path))
                info.mtime = 0
                if owner:
                    info.uid, info.gid = owner
                    info.uname = info.gname = ""
                if info.isreg():
                    with open(full, "rb") as f:
                        tar.addfile(info, f)
                else:
                    tar.addfile(info)
    return buf.getvalue()


def compress(data, how):
    if how == "gzip":
        return gzip.compress(data, mtime=0), "application/vnd.oci.image.layer.v1.tar+gzip"
    if how == "zstd":
        return subprocess.run(["zstd", "-q", "-c"], input=data, stdout=subprocess.PIPE, check=True).stdout, \
            "application/vnd.oci.image.layer.v1.tar+zstd"
    return data, "application/vnd.oci.image.layer.v1.tar"


def read_index(out):
    with open(os.path.join(out, "index.json")) as f:
        return json.load(f)


def set_tag(out, tag, entry):
    index_path = os.path.join(out, "index.json")
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": []}
    if os.path.exists(index_path):
        index = read_index(out)
    entry["annotations"] = {"org.opencontainers.image.ref.name": tag}
    index["manifests"] = [m for m in index["manifests"]
                          if m.get("annotations", {}).get("org.opencontainers.image.ref.name") != tag] + [entry]
    with open(index_path, "w") as f:
        json.dump(index, f)
    print(entry["digest"])


def make_index(out, tag, tags):
    by_tag = {m.get("annotations", {}).get("org.opencontainers.image.ref.name"): m for m in read_index(out)["manifests"]}
    manifests = []
    for t in tags:
        m = dict(by_tag[t])
        m.pop("annotations", None)
        manifests.append(m)
    data = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                       "manifests": manifests}, sort_keys=True).encode()
    set_tag(out, tag, {"mediaType": "application/vnd.oci.image.index.v1+json", "digest": blob(out, data), "size": len(data)})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--tag", required=True)
    ap.add_argument("--layer", action="append", default=[], help="a directory to tar as one layer")
    ap.add_argument("--layer-tar", action="append", default=[], help="an uncompressed tar to use as one layer")
    ap.add_argument("--compression", default="gzip", choices=["gzip", "zstd", "none"])
    ap.add_argument("--owner", help="UID:GID for every entry of --layer directories")
    ap.add_argument("--config-json", default="{}", help="the config's 'config' object (Entrypoint, Cmd, Env...)")
    ap.add_argument("--created", default="2024-01-01T00:00:00Z")
    ap.add_argument("--arch", default="amd64")
    ap.add_argument("--index-of", action="append", default=[], help="a tag in OUT to list in an index")
    args = ap.parse_args()
    if args.index_of:
        return make_index(args.out, args.tag, args.index_of)
    owner = tuple(int(x) for x in args.owner.split(":")) if args.owner else None

    os.makedirs(os.path.join(args.out, "blobs", "sha256"), exist_ok=True)
    with open(os.path.join(args.out, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    tars = []
    # Order: --layer and --layer-tar as given on the command line.
    argv = sys.argv[1:]
    for i, a in enumerate(argv):
        if a == "--layer":
            tars.append(tar_dir(argv[i + 1], owner))
        elif a == "--layer-tar":
            with open(argv[i + 1], "rb") as f:
                tars.append(f.read())
    layers, diff_ids = [], []
    for data in tars:
        diff_ids.append("sha256:" + hashlib.sha256(data).hexdigest())
        packed, media = compress(data, args.compression)
        layers.append({"mediaType": media, "digest": blob(args.out, packed), "size": len(packed)})
    config = {
        "created": args.created, "architecture": args.arch, "os": "linux",
        "config": json.loads(args.config_json),
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created": args.created, "created_by": "Tests/images/oci-layout.py"} for _ in diff_ids],
    }
    config_bytes = json.dumps(config, sort_keys=True).encode()
    manifest = {
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": blob(args.out, config_bytes),
                   "size": len(config_bytes)},
        "layers": layers,
    }
    manifest_bytes = json.dumps(manifest, sort_keys=True).encode()
    entry = {"mediaType": manifest["mediaType"], "digest": blob(args.out, manifest_bytes), "size": len(manifest_bytes),
             "platform": {"architecture": args.arch, "os": "linux"}}
    set_tag(args.out, args.tag, entry)


if __name__ == "__main__":
    main()
