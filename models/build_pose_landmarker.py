"""Builds pose_landmarker_{lite,full}.task (the pose models that ship) from registry material and checks them against the cards.

No registry package ships a MediaPipe Tasks pose bundle, so it is assembled here (see ../shared/MODELS.md):
  * the BlazePose landmark models pose_landmark_{lite,full}.tflite (Apache-2.0, Google) from the npm
    package @mediapipe/pose 0.5.1675469404 (`npm pack`);
  * the BlazePose detector mediapipe/modules/pose_detection/pose_detection.tflite (Apache-2.0) from the
    PyPI wheel mediapipe==0.10.14 (cp311, manylinux);
  * the Tasks API refuses float inputs without NormalizationOptions metadata, so image-input metadata is
    written with mediapipe 0.10.14's own metadata writers (detector: mean 127.5 / std 127.5, i.e. input
    in [-1, 1]; landmark model: mean 0 / std 255, i.e. input in [0, 1]), plus feature-output metadata
    (2 detector outputs, 5 landmark outputs), and both are bundled as pose_detector.tflite +
    pose_landmarks_detector.tflite with mediapipe's aligned-zip bundler (fixed timestamps, so the
    output is byte-for-byte reproducible).
The metadata writers import `mediapipe.tasks.cc`, absent from the runtime's mediapipe 1.2.x, so they run
in a throw-away venv holding mediapipe 0.10.14 (installed --no-deps with only what the writers need;
cv2/matplotlib/sounddevice, which only mediapipe's legacy `solutions` import, are stubbed out).

Usage: python models/build_pose_landmarker.py [--variants lite,full] [--no-verify]
  Both are committed and ship in the package. The npm package's heavy model is not built: avatar-bridge
  downloads nothing at run time, and shipping 30 MB more for a model measured at 48.4 ms a frame
  (full: 16.1 ms, same conditions) is not worth it for an avatar.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
NPM_PACKAGE, NPM_VERSION = "@mediapipe/pose", "0.5.1675469404"
PYPI_PACKAGE, PYPI_VERSION = "mediapipe", "0.10.14"
DETECTOR_PATH = "mediapipe/modules/pose_detection/pose_detection.tflite"
VARIANTS = ("lite", "full")

# Runs inside the mediapipe 0.10.14 build venv: argv = detector.tflite landmark.tflite out.task
_INNER = r'''
import sys, types, zipfile
for name in ("cv2", "matplotlib", "matplotlib.pyplot", "sounddevice"):
    sys.modules.setdefault(name, types.ModuleType(name))  # only mediapipe.python.solutions needs them
from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer, model_asset_bundle_utils

def with_metadata(buf, mean, std, n_outputs, name):
    w = metadata_writer.MetadataWriter.create(bytearray(buf))
    w.add_general_info(name, "BlazePose (Google, Apache-2.0); metadata added by avatar-bridge")
    w.add_image_input(norm_mean=[mean], norm_std=[std])
    for _ in range(n_outputs):
        w.add_feature_output()
    model, _json = w.populate()
    return bytes(model)

det_path, lm_path, out_path = sys.argv[1:4]
det = with_metadata(open(det_path, "rb").read(), 127.5, 127.5, 2, "pose_detector")
lm = with_metadata(open(lm_path, "rb").read(), 0.0, 255.0, 5, "pose_landmarks_detector")
with model_asset_bundle_utils.AlignZipFile(out_path, mode="w", alignment=model_asset_bundle_utils._ALIGNMENT) as zf:
    for fname, data in (("pose_detector.tflite", det), ("pose_landmarks_detector.tflite", lm)):
        info = zipfile.ZipInfo(fname, date_time=(1980, 1, 1, 0, 0, 0))  # reproducible bytes
        info.compress_type = zipfile.ZIP_STORED
        info.external_attr = 0o644 << 16
        zf.writestr(info, data)
'''


def _run(cmd: list[str], **kw) -> None:
    subprocess.run(cmd, check=True, **kw)


def fetch_sources(tmp: Path) -> tuple[Path, Path]:
    """Returns (the mediapipe 0.10.14 wheel, the unpacked npm package dir)."""
    print(f"downloading {PYPI_PACKAGE}=={PYPI_VERSION} (cp311 manylinux wheel) from PyPI ...", flush=True)
    _run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--only-binary=:all:",
          "--python-version", "3.11", "--platform", "manylinux_2_17_x86_64",
          f"{PYPI_PACKAGE}=={PYPI_VERSION}", "-d", str(tmp / "wheels")])
    wheel = next((tmp / "wheels").glob("mediapipe-*.whl"))
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("npm is needed to fetch @mediapipe/pose (`npm pack`); install Node.js/npm")
    print(f"fetching {NPM_PACKAGE}@{NPM_VERSION} from npm ...", flush=True)
    _run([npm, "pack", "--silent", f"{NPM_PACKAGE}@{NPM_VERSION}"], cwd=tmp, stdout=subprocess.DEVNULL)
    tgz = next(tmp.glob("mediapipe-pose-*.tgz"))
    with tarfile.open(tgz) as tf:
        tf.extractall(tmp / "npm", filter="data")
    return wheel, tmp / "npm" / "package"


def build_venv(tmp: Path, wheel: Path) -> Path:
    """A venv with mediapipe 0.10.14 and just what its metadata writers import."""
    print("creating the build venv (mediapipe 0.10.14 metadata writers) ...", flush=True)
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    py = venv / "bin" / "python"
    pip = [str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    _run(pip + ["--no-deps", str(wheel)])
    _run(pip + ["numpy<2", "flatbuffers>=2.0", "absl-py", "protobuf>=4.25.3,<5", "attrs>=19.1.0"])
    return py


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", default="lite,full", help="comma-separated subset of lite,full")
    ap.add_argument("--no-verify", action="store_true", help="write the files even if a card's sha256 differs")
    args = ap.parse_args(argv)
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    bad = [v for v in variants if v not in VARIANTS]
    if bad:
        ap.error(f"unknown variant(s) {bad}; choose from {VARIANTS}")
    status = 0
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        wheel, npm_dir = fetch_sources(tmp)
        detector = tmp / "pose_detection.tflite"
        detector.write_bytes(zipfile.ZipFile(wheel).read(DETECTOR_PATH))
        py = build_venv(tmp, wheel)
        (tmp / "inner.py").write_text(_INNER)
        for v in variants:
            out = tmp / f"pose_landmarker_{v}.task"
            _run([str(py), str(tmp / "inner.py"), str(detector), str(npm_dir / f"pose_landmark_{v}.tflite"), str(out)])
            data = out.read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            card_path = HERE / f"pose_landmarker_{v}.card.json"
            if card_path.is_file() and not args.no_verify:
                want = json.loads(card_path.read_text())["sha256"]
                if digest != want:
                    print(f"pose_landmarker_{v}.task: sha256 {digest} differs from the card's {want}; "
                          "not written (use --no-verify to write it anyway and update the card)", file=sys.stderr)
                    status = 1
                    continue
            tmp_out = HERE / (out.name + ".tmp")
            tmp_out.write_bytes(data)
            os.replace(tmp_out, HERE / out.name)  # atomic: a running sidecar never reads half a file
            print(f"wrote {out.name} ({len(data):,} bytes, sha256 {digest})")
    return status


if __name__ == "__main__":
    sys.exit(main())
