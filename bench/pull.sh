#!/bin/bash
# bench/pull.sh: docker pull of a ~250 MB image from a registry on loopback, by berthd, dockerd
# and podman (pull and unpack) and skopeo (copy to an OCI layout, no unpack), one run each, in
# one run of the script (see bench/README.md).
#
#   bench/pull.sh
#   BERTHD=build-asan/daemon/berthd bench/pull.sh
#
# Everything runs in a network namespace of its own (NETNS, default benchpull): Debian's
# docker-registry on its 127.0.0.1:5000, a private dockerd (tests/compat/private-dockerd.sh),
# a private berthd, podman with a temporary root, skopeo; no traffic leaves it.  The image (made
# once, cached in $BERTH_CACHE/bench-pull) has four gzip layers: the busybox root filesystem,
# 96 MiB of random bytes (incompressible), 96 MiB of text-like lines and 48 MiB of small files;
# skopeo puts it into the registry from an OCI layout.  Each engine starts from an empty store.
# Printed: seconds per engine, the ratio to dockerd, and the decompression floor (gzip -dc of
# every layer to /dev/null: one after the other, and on two cores at best: the larger of the
# slowest layer and half the sum).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
BERTHD=${BERTHD:-$repo/build/daemon/berthd}
DOCKER=${DOCKER:-$( [ -x /usr/local/bin/docker ] && echo /usr/local/bin/docker || command -v docker)}
CACHE=${BERTH_CACHE:-/var/tmp/berth-cache}/bench-pull
NETNS=${NETNS:-benchpull}
work=$(mktemp -d /tmp/berth-pull-bench.XXXXXX)
export D=$work/dockerd NETNS
NSF=/run/netns/$NETNS
inns() { nsenter --net="$NSF" "$@"; }

for tool in docker-registry skopeo gzip curl; do
	command -v $tool >/dev/null || { echo "pull.sh: $tool missing" >&2; exit 1; }
done
[ -x "$BERTHD" ] || { echo "pull.sh: no berthd at $BERTHD (build first)" >&2; exit 1; }

registry_pid= berthd_pid=
cleanup() {
	[ -n "$berthd_pid" ] && { kill -TERM "$berthd_pid" 2>/dev/null || true; wait "$berthd_pid" 2>/dev/null || true; }
	[ -n "$registry_pid" ] && { kill -TERM "$registry_pid" 2>/dev/null || true; wait "$registry_pid" 2>/dev/null || true; }
	"$repo/tests/compat/private-dockerd.sh" down >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

# ---- the image (cached) ----------------------------------------------------------------------
if [ ! -s "$CACHE/layout/index.json" ]; then
	echo "pull.sh: making the image in $CACHE (once)"
	rm -rf "$CACHE" && mkdir -p "$CACHE"
	"$repo/scripts/mkrootfs.sh" "$CACHE/rootfs" >/dev/null
	/usr/bin/python3 - "$CACHE" <<'PY'
import gzip, hashlib, io, json, os, platform, random, sys, tarfile, zlib
out = sys.argv[1]
arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
blobs = os.path.join(out, "layout", "blobs", "sha256")
os.makedirs(blobs)
def put(data):
    d = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, d), "wb") as f:
        f.write(data)
    return "sha256:" + d
def tar_of(files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in files:
            ti = tarfile.TarInfo(name); ti.size = len(data); ti.mtime = 0
            t.addfile(ti, io.BytesIO(data))
    return buf.getvalue()
rng = random.Random(1)
root = io.BytesIO()
with tarfile.open(fileobj=root, mode="w", format=tarfile.PAX_FORMAT) as t:
    t.add(os.path.join(out, "rootfs"), arcname=".")
words = [("%x" % rng.getrandbits(24)) for _ in range(4096)]
text = "\n".join(" ".join(rng.choice(words) for _ in range(12)) for _ in range(1_300_000))
layers = [root.getvalue(),
          tar_of([("data/random.bin", os.urandom(96 << 20))]),
          tar_of([("data/log.txt", text.encode()[:96 << 20])]),
          tar_of([("small/%05d" % i, os.urandom(2048) + b"x" * 2048) for i in range(12288)])]
descs, diffs = [], []
for l in layers:
    z = gzip.compress(l, compresslevel=6, mtime=0)
    descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                  "digest": put(z), "size": len(z)})
    diffs.append("sha256:" + hashlib.sha256(l).hexdigest())
cfg = json.dumps({"architecture": arch, "os": "linux", "config": {"Cmd": ["sh"]},
                  "rootfs": {"type": "layers", "diff_ids": diffs},
                  "history": [{"created_by": "layer %d" % i} for i in range(len(layers))]}).encode()
man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                  "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                             "digest": put(cfg), "size": len(cfg)},
                  "layers": descs}).encode()
idx = {"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
       "digest": put(man), "size": len(man), "annotations": {"org.opencontainers.image.ref.name": "1"}}]}
open(os.path.join(out, "layout", "index.json"), "w").write(json.dumps(idx))
open(os.path.join(out, "layout", "oci-layout"), "w").write('{"imageLayoutVersion":"1.0.0"}')
print("layers (uncompressed MB):", [round(len(l) / 1e6) for l in layers],
      "compressed:", [round(d["size"] / 1e6) for d in descs])
PY
fi

# ---- the namespace, the registry, dockerd -------------------------------------------------------
"$repo/tests/compat/private-dockerd.sh" up >/dev/null
cat >"$work/registry.yml" <<YML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: 127.0.0.1:5000
YML
# nsenter itself, not the shell function: $! must be the process (nsenter execs it)
nsenter --net="$NSF" docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 100); do inns curl -sf http://127.0.0.1:5000/v2/ >/dev/null && break; sleep 0.1; done
inns skopeo copy -q --dest-tls-verify=false "oci:$CACHE/layout:1" docker://127.0.0.1:5000/bench:1
size=$(du -sb "$work/registry" | cut -f1)

sock=$work/berth.sock
echo '{}' >"$work/daemon.json"
nsenter --net="$NSF" "$BERTHD" -H "unix://$sock" --data-root "$work/berth" --exec-root "$work/berth-exec" \
	--config-file "$work/daemon.json" >"$work/berthd.log" 2>&1 &
berthd_pid=$!
for _ in $(seq 100); do curl -sf --unix-socket "$sock" http://d/_ping >/dev/null && break; sleep 0.05; done

secs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N); echo "$t1 - $t0" | bc -l; }

sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
t_skopeo=$(secs inns skopeo copy -q --src-tls-verify=false docker://127.0.0.1:5000/bench:1 "oci:$work/skopeo-out:1")
t_docker=$(secs "$repo/tests/compat/private-dockerd.sh" exec "$DOCKER" pull -q 127.0.0.1:5000/bench:1)
t_berth=$(secs env DOCKER_HOST="unix://$sock" "$DOCKER" pull -q 127.0.0.1:5000/bench:1)
t_podman=
if command -v podman >/dev/null; then
	t_podman=$(secs inns podman --root "$work/podman" --runroot "$work/podman-run" \
		--storage-driver overlay pull -q --tls-verify=false 127.0.0.1:5000/bench:1) || t_podman=
fi
# the check that berthd has the image it says it pulled
DOCKER_HOST="unix://$sock" "$DOCKER" image inspect 127.0.0.1:5000/bench:1 --format '{{.Id}}' >/dev/null

# the decompression floor: each layer's gzip -dc alone; one after the other, and what two cores
# could do at best (the larger of the slowest layer and half the sum)
floor_seq=0 floor_max=0
for f in "$CACHE"/layout/blobs/sha256/*; do
	gzip -t <"$f" 2>/dev/null || continue
	t=$(secs sh -c "gzip -dc <$f >/dev/null")
	floor_seq=$(echo "$floor_seq + $t" | bc -l)
	floor_max=$(echo "if ($t > $floor_max) $t else $floor_max" | bc -l)
done
floor_two=$(echo "if ($floor_max > $floor_seq / 2) $floor_max else $floor_seq / 2" | bc -l)

ratio() { echo "scale=2; $1 / $2" | bc -l; }
printf '\nregistry content: %.0f MB (compressed layers + config + manifest)\n' "$(echo "$size / 1000000" | bc -l)"
printf '%-32s %8s %10s\n' "engine" "seconds" "vs dockerd"
printf '%-32s %8.2f %10s\n' "berthd (docker CLI)" "$t_berth" "$(ratio "$t_berth" "$t_docker")"
printf '%-32s %8.2f %10s\n' "dockerd (docker CLI)" "$t_docker" "1.00"
[ -n "$t_podman" ] && printf '%-32s %8.2f %10s\n' "podman" "$t_podman" "$(ratio "$t_podman" "$t_docker")"
printf '%-32s %8.2f %10s\n' "skopeo copy (no unpack)" "$t_skopeo" "$(ratio "$t_skopeo" "$t_docker")"
printf '%-32s %8.2f %10s\n' "gzip -dc, every layer in turn" "$floor_seq" ""
printf '%-32s %8.2f %10s\n' "gzip -dc floor on two cores" "$floor_two" ""
printf 'berthd over the two-core floor: %s\n' "$(ratio "$t_berth" "$floor_two")"
