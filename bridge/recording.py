"""Recordings: every AvatarFrame the pipeline produced, with timestamps, in a compact,
versioned, append-only binary file (`.abr`). Byte layout: docs/recording.md.

    file    = header record*
    header  = MAGIC(8) u16 version, u16 flags, u32 n, JSON(n bytes), u32 crc32(JSON)
    record  = SYNC(2) u32 n, u8 kind, payload(n bytes), u32 crc32(n, kind, payload)

All integers and floats little-endian. Kind 1 is a frame, kind 2 a change of channel names
(a config reload that switched the preset). A record whose CRC does not match is skipped and the
reader re-synchronises on the next record that checks out; a file cut short (a crash, a full
disk) loses only its last record. Either way the reader says so in one line (`reader.damage`,
also logged) and yields every frame it could read.

Writing costs the pipeline thread one pack of ~160 float32 and a CRC (a few microseconds);
a background thread does the disk writes, so the frame path never waits on the disk.
"""
from __future__ import annotations

import atexit
import json
import logging
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from .arkit import ARKIT_NAMES, N_SHAPES
from .errors import BridgeError
from .frame import AvatarFrame, FaceState, Parameters, Person, TrackerPoses
from .retarget.avatar import mirror_face

log = logging.getLogger("avatar_bridge.recording")

MAGIC = b"\x89ABR\r\n\x1a\n"  # PNG-style: catches text-mode transfers and truncation to 7 bits
VERSION = 2  # 2: a frame holds a list of people; version 1 files are still read
SYNC = b"\xabR"
FLAG_LANDMARKS = 1
KIND_FRAME = 1
KIND_NAMES = 2
N_LANDMARKS = 478
SUFFIX = ".abr"

_HEAD = struct.Struct("<8sHHI")  # magic, version, flags, JSON length
_U32 = struct.Struct("<I")
_REC = struct.Struct("<2sIB")  # sync, payload length, kind
# seq, capture_time, source_time, presence, found|has_landmarks bits, image w, h, n_bones, n_blend, extras length
_FRAME = struct.Struct("<QddfBHHHHI")  # version 1: one person per frame
# version 2: seq, capture_time, source_time, image w, h, n_people, extras length; then per person:
_FRAME2 = struct.Struct("<QddHHBI")
_PERSON = struct.Struct("<HfBHH")  # id, presence, found|has_landmarks bits, n_bones, n_blend; then its floats
_FOUND, _HAS_LMS, _EYES_OFF = 1, 2, 4  # _EYES_OFF: headset mode held the eyes (FaceState.eyes_tracked false)
# face floats: blendshapes(52) head_rot(4) head_pos(3) left_eye(4) right_eye(4) eye_angles(4) root_pos(3) root_rot(4)
_FACE_FLOATS = N_SHAPES + 4 + 3 + 4 + 4 + 4 + 3 + 4
MAX_RECORD = 16 << 20


class RecordingError(BridgeError):
    """A recording that cannot be read at all (not a recording, unknown version, bad header)."""


def _crc(*parts: bytes) -> int:
    c = 0
    for p in parts:
        c = zlib.crc32(p, c)
    return c


def _record(kind: int, payload: bytes) -> bytes:
    head = _REC.pack(SYNC, len(payload), kind)
    return head + payload + _U32.pack(_crc(head[2:], payload))


def _face_floats(face: FaceState, p: Person) -> list[np.ndarray]:
    return [face.blendshapes, face.head_rotation, face.head_position, face.left_eye, face.right_eye,
            face.eye_angles_deg, p.root_position, p.root_rotation]


def _person_extras(p: Person) -> dict:
    r = p.parameters
    out: dict = {}
    if p.classes:
        out["classes"] = p.classes
    if p.events:
        out["events"] = p.events
    if r.bool_names or r.float_names:
        out["parameters"] = {"bools": dict(zip(r.bool_names, r.bools.tolist())),
                             "floats": dict(zip(r.float_names, r.floats.tolist()))}
    if p.trackers is not None:  # VRChat OSC trackers: recorded, since a replay has no landmarks to solve them from
        k = p.trackers
        out["trackers"] = {"names": list(k.names), "positions": k.positions.tolist(), "rotations": k.rotations.tolist(),
                           "head": k.head_position.tolist() + k.head_rotation.tolist()}
    if p.slot != 1:
        out["slot"] = p.slot
    if p.name is not None:
        out["name"], out["similarity"] = p.name, None if np.isnan(p.similarity) else p.similarity
    if p.box is not None:
        out["box"] = np.round(p.box, 4).tolist()
    return out


def _trackers(extras: dict) -> TrackerPoses | None:
    k = extras.get("trackers")
    if k is None:
        return None
    head = np.array(k["head"], dtype=np.float64)
    return TrackerPoses(tuple(k["names"]), np.array(k["positions"], np.float64).reshape(-1, 3),
                        np.array(k["rotations"], np.float64).reshape(-1, 4), head[:3], head[3:])


def pack_frame(f: AvatarFrame, landmarks: bool = False) -> bytes:
    """One frame record (kind 1), ready to append to a file."""
    people = []
    body = []
    for p in f.people:
        face = p.face
        nb, nv = len(p.bone_names), len(p.blend_names)
        lms = face.landmarks if landmarks else None
        has_lms = lms is not None and np.shape(lms) == (N_LANDMARKS, 3)
        parts = _face_floats(face, p)
        if nb:
            parts += [np.asarray(p.bone_rotations).ravel(), np.asarray(p.bone_positions).ravel()]
        parts.append(p.blend_values)
        if has_lms:
            parts.append(np.asarray(lms).ravel())
        body.append(_PERSON.pack(p.id, float(face.presence), (_FOUND if face.found else 0) | (_HAS_LMS if has_lms else 0)
                                 | (0 if p.subject.eyes_tracked else _EYES_OFF), nb, nv))
        body.append(np.concatenate(parts).astype("<f4").tobytes())
        people.append(_person_extras(p))
    extras = b""
    if any(people) or f.timings_ms:
        extras = json.dumps({"people": people, "timings_ms": f.timings_ms}, separators=(",", ":")).encode()
    head = _FRAME2.pack(f.seq, f.capture_time, f.source_time, f.image_size[0], f.image_size[1], len(f.people),
                        len(extras))
    return _record(KIND_FRAME, head + b"".join(body) + extras)


def _person(pid: int, presence: float, bits: int, a: np.ndarray, nb: int, nv: int, names, mirrored: bool,
            extras: dict) -> Person:
    """A person from its floats (layout of `_face_floats`, bones, shapes, landmarks)."""
    blend_names, bone_names = names
    i = 0

    def take(k: int) -> np.ndarray:
        nonlocal i
        i += k
        return a[i - k:i]

    blend = take(N_SHAPES).astype(np.float32)
    face = FaceState(bool(bits & _FOUND), float(presence), blend, take(4), take(3), take(4), take(4), take(4),
                     eyes_tracked=not bits & _EYES_OFF)
    root_pos, root_rot = take(3), take(4)
    rots = take(4 * nb).reshape(nb, 4)
    poss = take(3 * nb).reshape(nb, 3)
    values = take(nv).astype(np.float32)
    if bits & _HAS_LMS:
        face.landmarks = take(N_LANDMARKS * 3).astype(np.float32).reshape(N_LANDMARKS, 3)
    par = extras.get("parameters", {})
    bools, floats = par.get("bools", {}), par.get("floats", {})
    parameters = Parameters(tuple(bools), np.array(list(bools.values()), bool), tuple(floats),
                            np.array(list(floats.values()), np.float32))
    subject = mirror_face(face) if mirrored else face
    subject.eyes_tracked = face.eyes_tracked
    return Person(pid, face, subject, blend_names, values, bone_names, rots, poss,
                  root_pos, root_rot, extras.get("classes", {}), extras.get("events", []), parameters,
                  _trackers(extras), extras.get("slot", 1), extras.get("name"),
                  float("nan") if extras.get("similarity") is None else extras["similarity"],
                  None if extras.get("box") is None else np.array(extras["box"], np.float64))


def _check_names(nb: int, nv: int, names) -> None:
    if nb != len(names[1]) or nv != len(names[0]):
        raise ValueError(f"frame has {nb} bones/{nv} shapes but the names list {len(names[1])}/{len(names[0])}")


def _float_count(bits: int, nb: int, nv: int) -> int:
    return _FACE_FLOATS + 7 * nb + nv + (N_LANDMARKS * 3 if bits & _HAS_LMS else 0)


def _unpack_frame_v1(payload: bytes, names, mirrored: bool) -> AvatarFrame:
    seq, ct, st, presence, bits, w, h, nb, nv, n_extra = _FRAME.unpack_from(payload)
    _check_names(nb, nv, names)
    n = _float_count(bits, nb, nv)
    off = _FRAME.size
    if len(payload) != off + 4 * n + n_extra:
        raise ValueError("frame record has the wrong length")
    a = np.frombuffer(payload, "<f4", n, off).astype(np.float64)
    extras = json.loads(payload[off + 4 * n:]) if n_extra else {}
    person = _person(0, presence, bits, a, nb, nv, names, mirrored, extras)
    return AvatarFrame(seq, ct, st, [person], extras.get("timings_ms", {}), (w, h))


def _unpack_frame(payload: bytes, names, mirrored: bool) -> AvatarFrame:
    seq, ct, st, w, h, n_people, n_extra = _FRAME2.unpack_from(payload)
    off = _FRAME2.size
    raw = []
    for _ in range(n_people):
        pid, presence, bits, nb, nv = _PERSON.unpack_from(payload, off)
        _check_names(nb, nv, names)
        off += _PERSON.size
        n = _float_count(bits, nb, nv)
        if off + 4 * n > len(payload):
            raise ValueError("frame record has the wrong length")
        raw.append((pid, presence, bits, np.frombuffer(payload, "<f4", n, off).astype(np.float64), nb, nv))
        off += 4 * n
    if len(payload) != off + n_extra:
        raise ValueError("frame record has the wrong length")
    extras = json.loads(payload[off:]) if n_extra else {}
    per = extras.get("people") or [{}] * n_people
    people = [_person(*r, names, mirrored, e) for r, e in zip(raw, per)]
    return AvatarFrame(seq, ct, st, people, extras.get("timings_ms", {}), (w, h))


def _names_record(blend_names, bone_names) -> bytes:
    return _record(KIND_NAMES, json.dumps({"blend_names": list(blend_names), "bone_names": list(bone_names)},
                                          separators=(",", ":")).encode())


class RecordingWriter:
    """Appends frames to a recording; `write` is a Pipeline listener (`pipeline.listeners.append(w.write)`).

    The header is written with the first frame's channel names; `meta` (JSON-able) goes into it
    (mirror, preset, source, fps: `meta_for(cfg, source)`). A background thread flushes every
    `flush_s` seconds; `close()` (idempotent, also run at interpreter exit) writes everything
    left, so a recording stopped by Ctrl+C or SIGTERM is complete up to its last frame.
    """

    def __init__(self, path: str | Path, landmarks: bool = False, meta: dict | None = None, flush_s: float = 0.25):
        self.path = Path(path)
        self.landmarks = landmarks
        self.meta = dict(meta or {})
        self.frames = 0  # frames that reached the file, not merely handed to write()
        self.bytes = 0  # bytes that reached the file (its size)
        self._names: tuple | None = None
        self._buf: list[tuple[bytes, bool]] = []  # (record, is a frame)
        self._lock = threading.Lock()
        self._closed = False
        self._error: OSError | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "wb", buffering=0)  # unbuffered: a short write says exactly what is on disk
        except OSError as e:
            raise RecordingError(f"cannot create recording {self.path} ({e.strerror}): choose a writable path") from None
        self._stop = threading.Event()
        self._flush_s = flush_s
        self._thread = threading.Thread(target=self._run, name="recording-writer", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    def _header(self, blend_names, bone_names) -> bytes:
        doc = {"format": "avatar-bridge recording", "version": VERSION, "created": time.time(),
               "blend_names": list(blend_names), "bone_names": list(bone_names), "face_shapes": list(ARKIT_NAMES),
               "landmarks": self.landmarks, "meta": self.meta}
        js = json.dumps(doc, separators=(",", ":")).encode()
        return _HEAD.pack(MAGIC, VERSION, FLAG_LANDMARKS if self.landmarks else 0, len(js)) + js + _U32.pack(zlib.crc32(js))

    def write(self, frame: AvatarFrame) -> None:
        if self._error is not None:
            return  # the recording has stopped (reported once): don't pack frames nobody will write
        p = frame.people[0] if frame.people else None
        if p is None and self._names is None:
            return  # nobody tracked yet: nothing a replay could send, and no channel names for the header
        names = (p.blend_names, p.bone_names) if p is not None else self._names
        rec = pack_frame(frame, self.landmarks)
        with self._lock:
            if self._closed or self._error is not None:
                return
            if names != self._names:
                self._buf.append((self._header(*names) if self._names is None else _names_record(*names), False))
                self._names = names
            self._buf.append((rec, True))

    __call__ = write

    def _drain(self) -> None:
        """Write what is buffered; on a full disk count only the bytes and whole frames that got there."""
        with self._lock:
            buf, self._buf = self._buf, []
        if not buf or self._error is not None:
            return
        data = memoryview(b"".join(rec for rec, _ in buf))
        done = 0
        try:
            while done < len(data):
                done += self._file.write(data[done:])
        except OSError as e:
            self._error = e
            log.error("writing %s failed (%s): the recording stops here", self.path, e.strerror)
        self.bytes += done
        end = 0
        for rec, is_frame in buf:
            end += len(rec)
            if end > done:
                break
            self.frames += is_frame

    def _run(self) -> None:
        while not self._stop.wait(self._flush_s):
            self._drain()

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._names is None:
                self._buf.append((self._header((), ()), False))
        atexit.unregister(self.close)
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._drain()
        try:
            self._file.close()
        except OSError:
            pass

    def __enter__(self) -> "RecordingWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def meta_for(cfg, source=None) -> dict:
    """The metadata `record` puts into the header."""
    meta = {"mirror": cfg.source.mirror, "preset": cfg.mapping.preset}
    if source is not None:
        meta.update(source=getattr(source, "description", ""), fps=float(getattr(source, "fps", 0.0) or 0.0),
                    live=bool(getattr(source, "live", False)))
    return meta


def attach_recorder(pipeline, path: str | Path, landmarks: bool = False) -> RecordingWriter:
    """Create a writer with the pipeline's metadata and add it to the pipeline's outputs."""
    w = RecordingWriter(path, landmarks, meta_for(pipeline.cfg, pipeline.source))
    pipeline.outputs.listeners.append(w.write)
    return w


class RecordingReader:
    """Iterates the frames of a recording. Damage (truncation, corrupted records) never raises:
    the readable frames are yielded and `damage` holds a one-line description (also logged).
    Only a file that is not a recording at all, or whose header is unreadable, raises RecordingError.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self._data = self.path.read_bytes()
        except FileNotFoundError:
            raise RecordingError(f"recording {self.path} does not exist: check the path") from None
        except OSError as e:
            raise RecordingError(f"cannot read recording {self.path} ({e.strerror})") from None
        d = self._data
        if len(d) < _HEAD.size or d[:8] != MAGIC:
            if len(d) < _HEAD.size and MAGIC.startswith(d[:8]):
                raise RecordingError(f"{self.path}: recording is empty or cut short inside its header; nothing to read")
            raise RecordingError(f"{self.path} is not an avatar-bridge recording (no {MAGIC[1:4].decode()} signature)")
        _, version, self.flags, n = _HEAD.unpack_from(d)
        if version > VERSION:
            raise RecordingError(f"{self.path}: recording format version {version} is newer than this avatar-bridge "
                                 f"understands ({VERSION}); upgrade avatar-bridge")
        end = _HEAD.size + n
        if end + 4 > len(d):
            raise RecordingError(f"{self.path}: recording is cut short inside its header; nothing to read")
        js = d[_HEAD.size:end]
        if _U32.unpack_from(d, end)[0] != zlib.crc32(js):
            raise RecordingError(f"{self.path}: recording header is corrupted (CRC mismatch); nothing to read")
        self.header: dict = json.loads(js)
        self.version = version
        self.meta: dict = self.header.get("meta", {})
        self.blend_names: tuple[str, ...] = tuple(self.header["blend_names"])
        self.bone_names: tuple[str, ...] = tuple(self.header["bone_names"])
        self._start = end + 4
        self.damage: str | None = None
        self.bad_records = 0
        self.truncated = False
        self.frames_read = 0

    def __iter__(self) -> Iterator[AvatarFrame]:
        d, pos, n = self._data, self._start, len(self._data)
        blend, bones = self.blend_names, self.bone_names
        unpack = _unpack_frame if self.version >= 2 else _unpack_frame_v1
        mirrored = bool(self.meta.get("mirror", True))
        index = frames = bad = 0
        first_bad: tuple[int, int] | None = None
        truncated = False
        while pos < n:
            if n - pos < _REC.size + 4:
                truncated = True
                break
            sync, length, kind = _REC.unpack_from(d, pos)
            end = pos + _REC.size + length
            item, ok = None, False
            if sync == SYNC and length <= MAX_RECORD:
                if end + 4 > n:  # runs past the end: cut short, unless a good record follows (damaged length)
                    nxt = self._resync(pos + 1)
                    if nxt is None:
                        truncated = True
                        break
                elif _U32.unpack_from(d, end)[0] == _crc(d[pos + 2:pos + _REC.size], d[pos + _REC.size:end]):
                    try:
                        payload = d[pos + _REC.size:end]
                        if kind == KIND_FRAME:
                            item = unpack(payload, (blend, bones), mirrored)
                        elif kind == KIND_NAMES:
                            names = json.loads(payload)
                            blend, bones = tuple(names["blend_names"]), tuple(names["bone_names"])
                        ok = True  # unknown kinds (a newer minor version) are skipped
                    except (ValueError, KeyError, TypeError, struct.error):
                        ok = False
            if ok:
                pos = end + 4
                index += 1
                if item is not None:
                    frames += 1
                    yield item
                continue
            # a damaged record: skip it and re-synchronise on the next record that checks out
            if first_bad is None:
                first_bad = (index, pos)
            bad += 1
            index += 1
            nxt = self._resync(pos + 1)
            if nxt is None:
                break
            pos = nxt
        self.frames_read, self.bad_records, self.truncated = frames, bad, truncated
        self._describe(first_bad, frames)

    def _resync(self, pos: int) -> int | None:
        d, n = self._data, len(self._data)
        while True:
            pos = d.find(SYNC, pos)
            if pos < 0 or n - pos < _REC.size + 4:
                return None
            _, length, _ = _REC.unpack_from(d, pos)
            end = pos + _REC.size + length
            if length <= MAX_RECORD and end + 4 <= n and \
                    _U32.unpack_from(d, end)[0] == _crc(d[pos + 2:pos + _REC.size], d[pos + _REC.size:end]):
                return pos
            pos += 1

    def _describe(self, first_bad, frames: int) -> None:
        msgs = []
        if first_bad is not None:
            msgs.append(f"{self.bad_records} corrupted record(s) skipped (first: record {first_bad[0]} at byte "
                        f"{first_bad[1]}, CRC mismatch)")
        if self.truncated:
            msgs.append("the file is truncated (its last record is cut short)")
        damage = f"{self.path}: " + " and ".join(msgs) + f"; using the {frames} readable frames" if msgs else None
        if damage and damage != self.damage:
            log.warning("%s", damage)
        self.damage = damage

    def frames(self) -> list[AvatarFrame]:
        return list(self)

    @property
    def fps(self) -> float:
        """The recording's frame rate: the source's, else estimated from the timestamps."""
        fps = float(self.meta.get("fps") or 0.0)
        if 1 <= fps <= 240 and not self.meta.get("live"):
            return fps
        times = [f.source_time for f in self]
        if len(times) < 2:
            return fps if fps > 0 else 30.0
        dt = float(np.median(np.diff(times)))
        return 1.0 / dt if dt > 0 else 30.0
