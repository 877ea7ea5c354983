"""Who is who: one frame's faces, poses and hands grouped into people, each with a stable id.

MediaPipe's multi-person landmarkers (tracking/multi.py) return their results in an order that
changes between frames and know nothing of which face belongs to which body. Per frame:
- each face goes to the body whose head landmarks (nose, eyes, ears, mouth of the pose) lie in the
  face's box, nearest nose first; a face no body claims is a person of its own (a face-only person);
- each hand goes to the body whose wrist of the hand's own side is nearest (in forearm or shoulder
  widths); a hand no body claims is dropped;
- every body is a person, with or without a face.
Across frames each person keeps an id: people are matched to tracks by where their head should be
now (constant velocity from the last frames) and how they look (a hue/saturation histogram of the
head-and-torso region, updated slowly and not while they overlap someone), with the Hungarian
algorithm and gates. A track not seen is kept `keep_s` seconds; someone coming back is matched to it
by appearance; until then its slot stays its own. A new person takes the lowest free slot (1..people)
and a new id (never reused in a run). Pure NumPy (and SciPy's assignment solver): inputs are the tracking dataclasses' arrays.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..landmarks import L_EL, L_HIP, L_SH, L_WR, NOSE, R_EL, R_HIP, R_SH, R_WR, WRIST

POSE_HEAD = np.arange(11)  # nose, eyes (inner, centre, outer), ears, mouth corners
FACE_NOSE_TIP = 1  # face mesh landmark on the tip of the nose
_NO = 1e6  # a gated-out pairing


@dataclass(frozen=True, slots=True)
class PeopleSettings:
    people: int = 2  # slots 1..people; at most this many people are reported
    keep_s: float = 3.0  # a track not seen is kept this long, to be matched back by appearance
    recent_s: float = 1.0  # until then it is matched by predicted position (and appearance)
    face_in_head: float = 0.5  # share of the pose's visible head landmarks a face's box must hold
    face_nose: float = 0.75  # most distance of pose nose to face nose tip, in face widths
    hand_reach: float = 1.0  # most distance of a hand's wrist to the pose wrist, in forearms / shoulder widths
    move_gate: float = 2.0  # most distance of a head from its prediction, in head sizes (+ move_per_s)
    move_per_s: float = 4.0  # the gate widens by this many head sizes per second unseen
    # Bhattacharyya distances of the histogram, measured (bench/people.py): one person across a clip
    # 0.19 at most (4 fixture clips), two different people 0.15 at least, 1% under 0.26 (48 HaGRID photos)
    appearance_gate: float = 0.25  # most distance between a person and a lost track
    appearance_veto: float = 0.45  # a recent track and a person looking this different never match
    appearance_weight: float = 2.0  # against one head size of distance
    appearance_rate: float = 0.1  # how fast a track's histogram follows the person's (once settled)


@dataclass(slots=True)
class PersonTrack:
    """One person in one frame: indices into that frame's poses, faces and hands lists."""
    id: int  # stable through the run, never reused
    slot: int  # 1..people, the avatar/output this person drives
    pose_index: int | None
    face_index: int | None
    hand_indices: tuple[int, ...]  # the person's hands (each hand's `side` says which), left first
    box: np.ndarray  # (4,) x0, y0, x1, y1 normalized image coordinates


@dataclass(slots=True)
class Detection:
    """One person found in one frame, before tracking."""
    pose_index: int | None
    face_index: int | None
    hand_indices: tuple[int, ...]
    box: np.ndarray  # (4,) normalized
    head: np.ndarray  # (2,) head centre, normalized
    head_size: float  # head width, normalized
    region: np.ndarray  # (4,) head-and-torso box for the appearance cue
    hist: np.ndarray | None = None


@dataclass(slots=True, eq=False)  # compared by identity
class _Track:
    id: int
    slot: int
    head: np.ndarray
    head_size: float
    box: np.ndarray
    seen_t: float
    vel: np.ndarray = field(default_factory=lambda: np.zeros(2))
    hist: np.ndarray | None = None
    hist_n: int = 0


def _bbox(xy: np.ndarray) -> np.ndarray:
    return np.array([xy[:, 0].min(), xy[:, 1].min(), xy[:, 0].max(), xy[:, 1].max()], np.float64)


def _pose_head(pose) -> tuple[np.ndarray, float]:
    """Head centre and width from a pose: ears apart, else eyes, bounded below by half the shoulders."""
    lm = pose.landmarks
    ears = np.linalg.norm(lm[7, :2] - lm[8, :2])
    eyes = np.linalg.norm(lm[3, :2] - lm[6, :2]) * 1.6
    shoulders = np.linalg.norm(lm[L_SH, :2] - lm[R_SH, :2]) * 0.5
    return lm[POSE_HEAD, :2].mean(axis=0), float(max(ears, eyes, shoulders, 1e-3))


def _face_pose_cost(face_lm: np.ndarray, pose, cfg: PeopleSettings) -> float:
    box = _bbox(face_lm[:, :2])
    w = max(box[2] - box[0], 1e-3)
    pad = 0.15 * np.array([-w, -(box[3] - box[1]), w, box[3] - box[1]])
    box = box + pad
    vis = pose.visibility[POSE_HEAD] >= 0.5
    head = pose.landmarks[POSE_HEAD[vis] if vis.any() else POSE_HEAD, :2]
    inside = np.mean((head[:, 0] >= box[0]) & (head[:, 0] <= box[2]) & (head[:, 1] >= box[1]) & (head[:, 1] <= box[3]))
    nose = np.linalg.norm(pose.landmarks[NOSE, :2] - face_lm[FACE_NOSE_TIP, :2]) / w
    if inside < cfg.face_in_head or nose > cfg.face_nose:
        return _NO
    return float(nose + (1.0 - inside))


def _hand_pose_cost(hand, pose, cfg: PeopleSettings) -> float:
    wr, el, sh = (L_WR, L_EL, L_SH) if hand.side == "left" else (R_WR, R_EL, R_SH)
    lm = pose.landmarks[:, :2]
    scale = max(np.linalg.norm(lm[wr] - lm[el]), np.linalg.norm(lm[L_SH] - lm[R_SH]), 1e-3)
    d = float(np.linalg.norm(hand.landmarks[WRIST, :2] - lm[wr]) / scale)
    return d if d <= cfg.hand_reach else _NO


def _assign(cost: np.ndarray) -> list[tuple[int, int]]:
    """Minimum-cost pairs (row, column) of a cost matrix, leaving gated-out pairs unpaired."""
    if cost.size == 0:
        return []
    from scipy.optimize import linear_sum_assignment  # here, not at the top: scipy.optimize is 0.3-1 s of start-up
    rows, cols = linear_sum_assignment(cost)
    return [(int(r), int(c)) for r, c in zip(rows, cols) if cost[r, c] < _NO]


def distinct_poses(poses: list, same: float = 0.5) -> list[int]:
    """The indices of the poses that are not a second skeleton on someone already found: MediaPipe's
    multi-pose landmarker sometimes returns two for one person. Of two poses whose heads are within
    `same` head widths, the one that sees more of its landmarks is kept."""
    heads = [_pose_head(p) for p in poses]
    order = sorted(range(len(poses)), key=lambda i: -float(np.mean(poses[i].visibility)))
    keep: list[int] = []
    for i in order:
        if all(np.linalg.norm(heads[i][0] - heads[k][0]) > same * max(heads[i][1], heads[k][1]) for k in keep):
            keep.append(i)
    return sorted(keep)


def group(poses: list, faces: list, hands: list, cfg: PeopleSettings = PeopleSettings()) -> list[Detection]:
    """One frame's poses (PoseObservation), faces (FaceObservation) and hands (HandObservation) as
    people; a duplicate pose (see distinct_poses) is left out."""
    kept = distinct_poses(poses)
    pose_index, poses = kept, [poses[i] for i in kept]
    cost = np.array([[_face_pose_cost(f.landmarks, p, cfg) for p in poses] for f in faces]).reshape(len(faces), len(poses))
    face_of = {p: f for f, p in _assign(cost)}
    hands_of: dict[int, list[int]] = {p: [] for p in range(len(poses))}
    for side in ("left", "right"):
        ids = [i for i, h in enumerate(hands) if h.side == side]
        cost = np.array([[_hand_pose_cost(hands[i], p, cfg) for p in poses] for i in ids]).reshape(len(ids), len(poses))
        for r, p in _assign(cost):
            hands_of[p].append(ids[r])
    out = []
    for p, pose in enumerate(poses):
        f = face_of.get(p)
        lm = pose.landmarks[:, :2]
        seen = (pose.visibility >= 0.5) | (pose.presence >= 0.5)
        box = _bbox(lm[seen] if seen.any() else lm)
        head, size = _pose_head(pose)
        if f is not None:
            fbox = _bbox(faces[f].landmarks[:, :2])
            box = np.r_[np.minimum(box[:2], fbox[:2]), np.maximum(box[2:], fbox[2:])]
            head, size = (fbox[:2] + fbox[2:]) / 2, float(max(fbox[2] - fbox[0], 1e-3))
        hips_y = lm[[L_HIP, R_HIP], 1].mean()
        x = np.r_[lm[[L_SH, R_SH], 0], head[0] - size / 2, head[0] + size / 2]
        region = np.array([x.min(), head[1] - 0.6 * size, x.max(), min(hips_y, head[1] + 3 * size)])
        out.append(Detection(pose_index[p], f, tuple(sorted(hands_of[p], key=lambda i: hands[i].side != "left")),
                             np.clip(box, 0, 1), head, size, region))
    for f, face in enumerate(faces):
        if f in face_of.values():
            continue
        fbox = _bbox(face.landmarks[:, :2])
        size = float(max(fbox[2] - fbox[0], 1e-3))
        head = (fbox[:2] + fbox[2:]) / 2
        region = np.array([fbox[0], fbox[1], fbox[2], head[1] + 3 * size])
        out.append(Detection(None, f, (), np.clip(fbox, 0, 1), head, size, region))
    return out


def hue_histogram(rgb: np.ndarray, region: np.ndarray) -> np.ndarray | None:
    """The appearance cue: a normalized histogram of a box of an RGB uint8 image (at most ~40x40
    samples): hue (12 bins) x saturation (2) for coloured pixels, brightness (6) for grey ones."""
    h, w = rgb.shape[:2]
    x0, y0, x1, y1 = (np.clip(region, 0, 1) * [w, h, w, h]).astype(int)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    step = max(1, (x1 - x0) // 40, (y1 - y0) // 40)
    px = rgb[y0:y1:step, x0:x1:step].reshape(-1, 3).astype(np.float32) * (1 / 255.0)
    v = px.max(axis=1)
    c = v - px.min(axis=1)
    colour = (c > 0.25 * v) & (v > 0.2)  # saturation over 0.25
    grey = np.minimum((v[~colour] * 6).astype(np.intp), 5)
    px, v, c = px[colour], v[colour], c[colour]
    r, g, b = px.T
    hue = np.where(v == r, ((g - b) / c) % 6, np.where(v == g, (b - r) / c + 2, (r - g) / c + 4))
    bins = np.minimum((hue * 2).astype(np.intp), 11) * 2 + (c > 0.6 * v)
    hist = np.r_[np.bincount(bins, minlength=24), np.bincount(grey, minlength=6)].astype(np.float64)
    return hist / hist.sum()


def bhattacharyya(p: np.ndarray, q: np.ndarray) -> float:
    """0 for the same histogram, 1 for histograms with nothing in common."""
    return float(np.sqrt(max(0.0, 1.0 - float(np.sum(np.sqrt(p * q))))))


def _overlaps(boxes: list[np.ndarray], i: int, share: float = 0.1) -> bool:
    """Whether box i has more than `share` of its area inside another box."""
    a = boxes[i]
    area = max((a[2] - a[0]) * (a[3] - a[1]), 1e-9)
    for j, b in enumerate(boxes):
        if j != i:
            iw, ih = min(a[2], b[2]) - max(a[0], b[0]), min(a[3], b[3]) - max(a[1], b[1])
            if iw > 0 and ih > 0 and iw * ih / area > share:
                return True
    return False


class PeopleTracker:
    """Stable ids and slots for the people of successive frames (see the module docstring)."""

    def __init__(self, settings: PeopleSettings = PeopleSettings()):
        self.settings = settings
        self.tracks: list[_Track] = []
        self._next_id = 1

    def update(self, poses: list, faces: list, hands: list, t_s: float,
               rgb: np.ndarray | None = None) -> list[PersonTrack]:
        """This frame's people (at time `t_s`, seconds) by slot; `rgb` (the frame) enables the appearance cue."""
        cfg = self.settings
        dets = group(poses, faces, hands, cfg)
        if rgb is not None:
            for d in dets:
                d.hist = hue_histogram(rgb, d.region)
        self.tracks = [t for t in self.tracks if t_s - t.seen_t <= cfg.keep_s]
        matched: dict[int, _Track] = {}
        recent = [t for t in self.tracks if t_s - t.seen_t <= cfg.recent_s]
        for ti, di in _assign(self._motion_cost(recent, dets, t_s)):
            matched[di] = recent[ti]
        lost = [t for t in self.tracks if t not in matched.values()]
        free = [i for i in range(len(dets)) if i not in matched]
        cost = np.array([[self._return_cost(t, dets[d]) for d in free] for t in lost]).reshape(len(lost), len(free))
        for ti, k in _assign(cost):
            matched[free[k]] = lost[ti]
        boxes = [d.box for d in dets]
        for di, t in matched.items():
            self._follow(t, dets[di], t_s, update_look=not _overlaps(boxes, di))
        newcomers = sorted((i for i in range(len(dets)) if i not in matched),
                           key=lambda i: -(dets[i].box[2] - dets[i].box[0]) * (dets[i].box[3] - dets[i].box[1]))
        for di in newcomers:
            t = self._new_track(dets[di], t_s)
            if t is not None:
                matched[di] = t
        people = [PersonTrack(t.id, t.slot, dets[di].pose_index, dets[di].face_index, dets[di].hand_indices,
                              dets[di].box.copy()) for di, t in matched.items()]
        return sorted(people, key=lambda p: p.slot)

    def _predict(self, t: _Track, t_s: float) -> np.ndarray:
        return t.head + t.vel * min(t_s - t.seen_t, self.settings.recent_s)

    def _motion_cost(self, tracks: list[_Track], dets: list[Detection], t_s: float) -> np.ndarray:
        cfg = self.settings
        cost = np.full((len(tracks), len(dets)), _NO)
        for i, t in enumerate(tracks):
            pred = self._predict(t, t_s)
            gate = cfg.move_gate + cfg.move_per_s * (t_s - t.seen_t)
            for j, d in enumerate(dets):
                dist = np.linalg.norm(pred - d.head) / max(t.head_size, d.head_size)
                look = bhattacharyya(t.hist, d.hist) if t.hist is not None and d.hist is not None else None
                if dist > gate or (look is not None and look > cfg.appearance_veto):
                    continue
                size = abs(np.log(d.head_size / t.head_size))
                cost[i, j] = dist + 0.5 * size + cfg.appearance_weight * (look if look is not None else 0.0)
        return cost

    def _return_cost(self, t: _Track, d: Detection) -> float:
        """A lost track and an unmatched person: by appearance, nearer first on a tie."""
        if t.hist is None or d.hist is None:
            return _NO
        look = bhattacharyya(t.hist, d.hist)
        if look > self.settings.appearance_gate:
            return _NO
        return look + 0.01 * float(np.linalg.norm(t.head - d.head))

    def _follow(self, t: _Track, d: Detection, t_s: float, update_look: bool) -> None:
        dt = t_s - t.seen_t
        if 0 < dt <= self.settings.recent_s:
            t.vel = 0.5 * t.vel + 0.5 * (d.head - t.head) / dt
        else:
            t.vel = np.zeros(2)  # back after a while: where it went meanwhile says nothing of where it goes
        t.head, t.box, t.seen_t = d.head, d.box, t_s
        t.head_size = 0.7 * t.head_size + 0.3 * d.head_size
        if update_look and d.hist is not None:
            t.hist_n += 1
            rate = max(1.0 / t.hist_n, self.settings.appearance_rate)
            t.hist = d.hist.copy() if t.hist is None else (1 - rate) * t.hist + rate * d.hist

    def _new_track(self, d: Detection, t_s: float) -> _Track | None:
        """A track in the lowest free slot. While every slot is held (by people in view, or lost less
        than keep_s ago and so still able to come back) a newcomer is left out: a stray detection never
        takes the slot of someone who stepped out."""
        used = {t.slot for t in self.tracks}
        free = [s for s in range(1, self.settings.people + 1) if s not in used]
        if not free:
            return None
        t = _Track(self._next_id, free[0], d.head.copy(), d.head_size, d.box, t_s)
        if d.hist is not None:
            t.hist, t.hist_n = d.hist.copy(), 1
        self._next_id += 1
        self.tracks.append(t)
        return t
