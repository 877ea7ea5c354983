// The dashboard's 3D avatar: a VRM (0.x or 1.0) driven by the sidecar's frames as an engine would
// drive it: expressions by name, every humanoid bone through three-vrm's normalized rig.
//
// Wire -> three-vrm (see docs/conventions.md): the wire is Unity's frame (left-handed, +Y up, the
// avatar faces +Z, +X its right; bone rotations local, vs the normalized T-pose). three-vrm's
// normalized bones are in the model's own glTF frame: a VRM 1.0 faces +Z with its left at +X, so
// the wire maps through the reflection x -> -x: quaternion (x, y, z, w) -> (x, -y, -z, w), position
// (x, y, z) -> (-x, y, z). A VRM 0.x faces -Z with its right at +X (z -> -z): quaternion
// (-x, -y, z, w); VRMUtils.rotateVRM0 then turns its scene to face +Z, so world positions read back
// with (-x, y, z) for both. Both maps are their own inverse.
import * as THREE from "three";
import { OrbitControls } from "three/addons/controls/OrbitControls.js";
import { GLTFLoader } from "three/addons/loaders/GLTFLoader.js";
import { VRMLoaderPlugin, VRMUtils } from "@pixiv/three-vrm";

const SIDES = ["Left", "Right"];
const FINGERS = ["Thumb", "Index", "Middle", "Ring", "Little"];
const PHALANGES = ["Proximal", "Intermediate", "Distal"];

// Unity HumanBodyBones -> parent, as bridge/retarget/humanoid.py: the folding of missing bones needs it.
const PARENT = {Hips: null, Spine: "Hips", Chest: "Spine", UpperChest: "Chest", Neck: "UpperChest", Head: "Neck", Jaw: "Head"};
for (const s of SIDES) {
  Object.assign(PARENT, {[s + "UpperLeg"]: "Hips", [s + "LowerLeg"]: s + "UpperLeg", [s + "Foot"]: s + "LowerLeg",
    [s + "Toes"]: s + "Foot", [s + "Shoulder"]: "UpperChest", [s + "UpperArm"]: s + "Shoulder",
    [s + "LowerArm"]: s + "UpperArm", [s + "Hand"]: s + "LowerArm", [s + "Eye"]: "Head"});
  for (const f of FINGERS) PHALANGES.forEach((p, i) => { PARENT[s + f + p] = i ? s + f + PHALANGES[i - 1] : s + "Hand"; });
}

// Unity name -> VRM 1.0 name: lowerCamel, except Unity's thumb Proximal/Intermediate/Distal are
// VRM 1.0's Metacarpal/Proximal/Distal.
function vrmName(unity) {
  const thumb = /^(Left|Right)Thumb(Proximal|Intermediate|Distal)$/.exec(unity);
  const n = thumb ? thumb[1] + "Thumb" + {Proximal: "Metacarpal", Intermediate: "Proximal", Distal: "Distal"}[thumb[2]] : unity;
  return n[0].toLowerCase() + n.slice(1);
}

function depth(b) { let d = 0; while (PARENT[b]) { b = PARENT[b]; d++; } return d; }

// How the wire's bones reach a model that lacks some: the same plan as bridge/retarget/fold.py.
// A missing bone's rotation goes into its parent when it is the parent's only child (Chest' =
// Chest * UpperChest), else into each child (no neck: Head' = Neck * Head, so the shoulders do not
// turn with the head); a missing leaf is dropped. Kept bones keep their world rotations.
function foldPlan(names, present) {
  const index = Object.fromEntries(names.map((n, i) => [n, i]));
  const parentIn = (b) => { let p = PARENT[b]; while (p && !(p in index)) p = PARENT[p]; return p || null; };
  const children = Object.fromEntries(names.map((n) => [n, names.filter((c) => parentIn(c) === n)]));
  const owner = {};
  for (const n of names) if (present.has(n)) owner[n] = index[n];
  const ops = [];  // [target, source, post-multiply]
  for (const b of names.filter((n) => !present.has(n)).sort((a, c) => depth(a) - depth(c))) {
    if (!children[b].length) continue;
    const p = parentIn(b);
    if (p !== null && owner[p] != null && children[p].length === 1) {
      owner[b] = owner[p];
      ops.push([owner[p], index[b], true]);
    } else {
      owner[b] = null;
      for (const c of children[b]) ops.push([index[c], index[b], false]);
    }
  }
  return ops;
}

function qmulInto(out, o, a, ao, b, bo) {  // out[o..] = a[ao..] * b[bo..] (Hamilton, x y z w)
  const ax = a[ao], ay = a[ao + 1], az = a[ao + 2], aw = a[ao + 3], bx = b[bo], by = b[bo + 1], bz = b[bo + 2], bw = b[bo + 3];
  out[o] = aw * bx + ax * bw + ay * bz - az * by;
  out[o + 1] = aw * by - ax * bz + ay * bw + az * bx;
  out[o + 2] = aw * bz + ax * by - ay * bx + az * bw;
  out[o + 3] = aw * bw - ax * bx - ay * by - az * bz;
}

// VRM 0.x preset names <-> VRM 1.0 preset names (lower case keys, both ways).
const PRESET_PAIRS = [["a", "aa"], ["i", "ih"], ["u", "ou"], ["e", "ee"], ["o", "oh"], ["blink_l", "blinkLeft"],
  ["blink_r", "blinkRight"], ["joy", "happy"], ["sorrow", "sad"], ["fun", "relaxed"]];
const ALIAS = {};
for (const [v0, v1] of PRESET_PAIRS) { ALIAS[v0] = v1.toLowerCase(); ALIAS[v1.toLowerCase()] = v0; }

// A wire shape name -> the model's expression: exact, then case-insensitive, then the other VRM
// version's preset name (A -> aa, Blink_L -> blinkLeft, Joy -> happy, and back).
function matchExpressions(wire, model) {
  const lower = new Map(model.map((n) => [n.toLowerCase(), n]));
  return wire.map((w) => {
    if (model.includes(w)) return w;
    const l = w.toLowerCase();
    return lower.get(l) ?? (ALIAS[l] !== undefined ? lower.get(ALIAS[l]) ?? null : null);
  });
}

const ALL_BONES = Object.keys(PARENT);
// Software WebGL (SwiftShader, llvmpipe: VMs, remote desktops, headless browsers) draws on the CPU
// the sidecar needs, and with software compositing each drawn frame holds up the page until it is
// read back (measured: at 5 per second the page's other panels and controls lagged by seconds on 2
// cores): there the view is drawn smaller, without antialiasing, at most this often.
const SOFTWARE_FPS = 2, SOFTWARE_PIXEL_RATIO = 0.5;

function webglRenderer() {  // the renderer's name, or null without WebGL 2; from a throwaway context
  const gl = document.createElement("canvas").getContext("webgl2");
  if (!gl) return null;
  const info = gl.getExtension("WEBGL_debug_renderer_info");
  const name = info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL)) : "";
  gl.getExtension("WEBGL_lose_context")?.loseContext();
  return name;
}

class AvatarView {
  constructor({canvas, status, mirror, withToken}) {
    this.canvas = canvas;
    this.status = status;
    this.withToken = withToken;
    const name = webglRenderer();
    this.ok = name !== null;
    if (!this.ok) {  // no exception: the page stays usable, and says why there is no avatar
      status.textContent = "WebGL 2 is not available in this browser: no 3D avatar (the panels below still work).";
      return;
    }
    this.software = /swiftshader|llvmpipe|software/i.test(name);
    this.renderer = new THREE.WebGLRenderer({canvas, antialias: !this.software});
    this.renderer.setPixelRatio(this.software ? SOFTWARE_PIXEL_RATIO : window.devicePixelRatio);
    this.scene = new THREE.Scene();
    this.scene.background = new THREE.Color(0x0b0c0f);
    this.camera = new THREE.PerspectiveCamera(30, 1, 0.05, 50);
    this.controls = new OrbitControls(this.camera, canvas);  // placed in front of the avatar (it faces +Z) by load()
    this.controls.addEventListener("change", () => { this.dirty = true; });
    this.dirty = true; this.lastDraw = -Infinity;  // drawn only when something changed
    const sun = new THREE.DirectionalLight(0xffffff, 2.2);
    sun.position.set(1, 3, 2);
    this.scene.add(sun, new THREE.HemisphereLight(0xffffff, 0x404050, 1.4));
    const grid = new THREE.GridHelper(4, 8, 0x3a3f48, 0x24272d);
    this.scene.add(grid);
    this.root = new THREE.Group();  // carries the frame's root pose; the VRM scene sits inside
    this.scene.add(this.root);
    this.loader = new GLTFLoader();
    this.loader.register((parser) => new VRMLoaderPlugin(parser));
    this.clock = new THREE.Clock();
    this.vrm = null; this.label = "";
    this.blendNames = []; this.boneNames = [];
    this.pending = null;  // {seq, source_t, person}: the newest frame not yet applied, the only one applied
    this.applied = null;
    this._q = new Float64Array(0);
    this._v = new THREE.Vector3();
    this._hq = new THREE.Quaternion(); this._hr = new THREE.Quaternion();
    this.probe = {enabled: new URLSearchParams(location.search).get("probe") === "1", records: [],
      enable() { this.enabled = true; }, take() { const r = this.records; this.records = []; return r; }};
    mirror.onchange = () => { canvas.style.transform = mirror.checked ? "scaleX(-1)" : ""; };
    new ResizeObserver(() => this._resize()).observe(canvas);
    this._resize();
    this.renderer.setAnimationLoop(() => this._tick());
  }

  _resize() {
    const w = this.canvas.clientWidth, h = this.canvas.clientHeight;
    if (!w || !h) return;
    this.renderer.setSize(w, h, false);
    this.camera.aspect = w / h;
    this.camera.updateProjectionMatrix();
    this.dirty = true;
  }

  /** Load a VRM from a URL or an ArrayBuffer; `label` names it in the status line. */
  async load(source, label) {
    if (!this.ok) return;
    this.status.textContent = `loading ${label}…`;
    let gltf;
    try {
      gltf = typeof source === "string" ? await this.loader.loadAsync(this.withToken(source))
        : await this.loader.parseAsync(source, "");
    } catch (e) {
      this.status.textContent = `could not load ${label}: ${e.message || e} (pick a .vrm file, VRM 0.x or 1.0)`;
      return;
    }
    const vrm = gltf.userData.vrm;
    if (!vrm) {
      this.status.textContent = `could not load ${label}: a glTF without VRM data (pick a .vrm file, VRM 0.x or 1.0)`;
      return;
    }
    if (this.vrm) { this.root.remove(this.vrm.scene); VRMUtils.deepDispose(this.vrm.scene); }
    VRMUtils.rotateVRM0(vrm);
    // The wire drives the eye bones (as VMC does); look-at would overwrite them.
    vrm.lookAt = null;
    this.vrm = vrm;
    this.v0 = vrm.meta.metaVersion === "0";
    this.sign = this.v0 ? [-1, -1, 1] : [1, -1, -1];
    this.root.add(vrm.scene);
    this.springs = (vrm.springBoneManager?.joints.size ?? 0) > 0;  // they swing on between frames
    this.label = `${label} (VRM ${this.v0 ? "0.x" : "1.0"})`;
    this.boneNodes = Object.fromEntries(ALL_BONES.map((b) => [b, vrm.humanoid.getNormalizedBoneNode(vrmName(b))])
      .filter(([, n]) => n));
    this.rawNodes = Object.fromEntries(ALL_BONES.map((b) => [b, vrm.humanoid.getRawBoneNode(vrmName(b))]).filter(([, n]) => n));
    // Framed by its bones, not its meshes (a model may have none): the head joint is ~88% of the height.
    vrm.scene.updateMatrixWorld(true);
    // The head's rest rotation under the root (bones are at rest until the next frame applies):
    // the probe turns the avatar's forward (+Z) by the head's rotation from it.
    this.headRest = this.root.getWorldQuaternion(new THREE.Quaternion()).invert()
      .multiply(this.rawNodes.Head.getWorldQuaternion(new THREE.Quaternion()));
    const height = Math.max(0.3, this.rawNodes.Head.getWorldPosition(this._v).y / 0.88);
    this.controls.target.set(0, height * 0.55, 0);
    this.camera.position.set(0, height * 0.6, height * 2.4);
    this.controls.update();
    this._plan();
    if (this.applied) this.pending = this.applied;
  }

  hello(h) {
    this.blendNames = h.channels.blendshapes;
    this.boneNames = h.channels.bones;
    this._plan();
  }

  /** The newest frame's person (or null when the picked person is not in it). */
  frame(f, person) {
    if (person) this.pending = {seq: f.seq, source_t: f.source_t, person};
  }

  // Bindings of the current hello to the current model, made once per hello or model.
  _plan() {
    if (!this.vrm) return;
    const names = this.boneNames;
    for (const node of Object.values(this.boneNodes)) node.quaternion.identity();
    this.targets = names.map((b) => this.boneNodes[b] || null);
    this.folds = foldPlan(names, new Set(Object.keys(this.boneNodes)));
    this._q = new Float64Array(4 * names.length);
    const em = this.vrm.expressionManager;
    const model = em ? em.expressions.map((e) => e.expressionName) : [];
    if (em) for (const n of model) em.setValue(n, 0);
    this.matched = matchExpressions(this.blendNames, model);
    const hit = this.matched.filter((m) => m !== null).length;
    const kept = this.targets.filter((t) => t).length;
    this.status.textContent = `${this.label}: ${kept} of ${names.length} bones driven` +
      (names.length > kept ? ` (${names.length - kept} missing: folded into their neighbours or, at the ends, dropped)` : "") +
      `, ${hit} of ${this.blendNames.length} shapes matched to its ${model.length} expressions` +
      (this.software ? "; software WebGL: drawn smaller and at most " + SOFTWARE_FPS + " times a second" : "");
    this.dirty = true;
  }

  _apply(p) {
    const q = this._q, rot = p.bones.rot, [sx, sy, sz] = this.sign;
    if (rot.length * 4 !== q.length) return;  // a frame from before the newest hello
    for (let i = 0; i < rot.length; i++) { const r = rot[i]; q[4 * i] = r[0]; q[4 * i + 1] = r[1]; q[4 * i + 2] = r[2]; q[4 * i + 3] = r[3]; }
    for (const [t, s, post] of this.folds) {
      if (post) qmulInto(q, 4 * t, q, 4 * t, q, 4 * s); else qmulInto(q, 4 * t, q, 4 * s, q, 4 * t);
    }
    this.targets.forEach((node, i) => { if (node) node.quaternion.set(sx * q[4 * i], sy * q[4 * i + 1], sz * q[4 * i + 2], q[4 * i + 3]); });
    const rp = p.root.pos, rr = p.root.rot;  // the root group is in the world frame: VRM 1.0's map for both versions
    this.root.position.set(-rp[0], rp[1], rp[2]);
    this.root.quaternion.set(rr[0], -rr[1], -rr[2], rr[3]);
    const em = this.vrm.expressionManager;
    if (em) this.matched.forEach((name, i) => { if (name !== null) em.setValue(name, p.blendshapes[i]); });
  }

  _tick() {
    const now = performance.now(), p = this.pending;
    if (!(p || this.dirty || this.springs) || (this.software && now - this.lastDraw < 1000 / SOFTWARE_FPS)) return;
    this.lastDraw = now; this.dirty = false;
    const delta = this.clock.getDelta();
    if (this.vrm && p) {
      this.pending = null;
      this._apply(p.person);
      this.applied = p;
    }
    if (this.vrm) {
      this.vrm.update(delta);
      if (p && this.probe.enabled) this._record(p);
    }
    this.renderer.render(this.scene, this.camera);
  }

  // What the avatar shows, read back after vrm.update: weights, bone rotations (Unity frame) and
  // the raw bones' world positions (the joints the mesh follows; Unity frame) and where the head faces.
  _record(f) {
    const p = f.person;
    this.scene.updateMatrixWorld(true);
    const [sx, sy, sz] = this.sign, em = this.vrm.expressionManager, v = this._v;
    const joints = {};
    for (const [b, node] of Object.entries(this.rawNodes)) { node.getWorldPosition(v); joints[b] = [-v.x, v.y, v.z]; }
    const turn = this.rawNodes.Head.getWorldQuaternion(this._hq).multiply(this._hr.copy(this.headRest).invert());
    const fwd = v.set(0, 0, 1).applyQuaternion(turn);
    const head_fwd = [-fwd.x, fwd.y, fwd.z];
    this.probe.records.push({
      seq: f.seq, source_t: f.source_t, id: p.id, model: this.label,
      blend_names: this.blendNames.slice(), blend_in: p.blendshapes.slice(), matched: this.matched.slice(),
      weights: this.matched.map((n) => (n === null || !em ? null : em.getValue(n))),
      rot_in: p.bones.rot.map((r) => r.slice()), bones: this.boneNames.slice(), root_rot: p.root.rot.slice(),
      rot_out: this.targets.map((n) => (n ? [sx * n.quaternion.x, sy * n.quaternion.y, sz * n.quaternion.z, n.quaternion.w] : null)),
      joints, head_fwd,
    });
    if (this.probe.records.length > 5000) this.probe.records.shift();
  }
}

/** Start the view on `canvas`; returns the view, or null when WebGL is unavailable (status says so). */
function start(opts) {
  const view = new AvatarView(opts);
  if (!view.ok) return null;
  window.avatarProbe = view.probe;
  view.load("/avatar.vrm", "avatar.vrm");
  return view;
}

window.AvatarView = {start};
