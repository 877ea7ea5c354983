"""Train the project's own FER2013 expression CNN and export it to ONNX (reproducible, seeded).

    pip install torch==2.13.0 onnx tqdm      # training-only dependencies (not needed at run time)
    python models/train_expression.py [--epochs 30] [--width 24] [--threads 2]

Data: ../shared/fixtures/expression/fer2013_train.npz (train, 28,709 faces) and
fer2013_publictest.npz (model selection only: the checkpoint with the best PublicTest accuracy is
kept; PublicTest is never trained on). Augmentation (on the fly, per batch): horizontal flip,
rotation +-12 degrees, scale 0.9-1.1, shift +-4 px, random erasing of one small rectangle.
Model: a VGG-style CNN (4 stages of two 3x3 conv + BN + ReLU, max-pool between stages, global
average pool, dropout, linear), trained with AdamW + one-cycle LR + label smoothing. The exported
ONNX averages the softmax of the face and its mirror image (flip test-time augmentation inside the
graph), so callers feed one face. Input float32 [N, 1, 48, 48]: grayscale / 255 then
(x - 0.5) * 2. Output `probs` [N, 7] in FER2013 order.

Writes models/expression_fercnn.onnx and models/expression_fercnn.train.json (the training log);
models/evaluate_expression.py then measures the ONNX file and writes the card.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
FIXTURES = Path(os.environ.get("AVATAR_BRIDGE_FIXTURES", HERE.parent.parent / "shared" / "fixtures"))
EXPR = FIXTURES / "expression"


def build_model(width: int = 24, dropout: float = 0.3):
    import torch.nn as nn

    def block(cin, cout):
        return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]

    w = width
    layers = []
    chans = [1, w, 2 * w, 4 * w, 8 * w]
    for i in range(4):
        layers += block(chans[i], chans[i + 1]) + block(chans[i + 1], chans[i + 1])
        if i < 3:
            layers.append(nn.MaxPool2d(2))
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout), nn.Linear(8 * w, 7)]
    return nn.Sequential(*layers)


def augment(x, gen):
    """x: (B,1,48,48) float in [-1,1]. Random flip/rotate/scale/shift (one affine warp) + erasing."""
    return erase(augment_geometry(x, gen), gen)


def augment_geometry(x, gen, flip=None):
    """One random affine warp per face: rotation +-12 degrees, scale 0.9-1.1, shift +-4 px, and a
    horizontal flip where `flip` (bool per face) says so, or at random when it is None."""
    import torch
    import torch.nn.functional as F
    b = x.shape[0]
    ang = (torch.rand(b, generator=gen) * 2 - 1) * math.radians(12)
    sc = 1 + (torch.rand(b, generator=gen) * 2 - 1) * 0.1
    if flip is None:
        flip = torch.rand(b, generator=gen) < 0.5
    sign = torch.where(flip, -1.0, 1.0)
    tx = (torch.rand(b, generator=gen) * 2 - 1) * (4 / 24)
    ty = (torch.rand(b, generator=gen) * 2 - 1) * (4 / 24)
    cos, sin = torch.cos(ang) / sc, torch.sin(ang) / sc
    theta = torch.stack([torch.stack([cos * sign, -sin, tx], 1), torch.stack([sin * sign, cos, ty], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def erase(x, gen):
    """Random erasing: one rectangle (8-16 px) in half the faces, filled with 0 (mid grey)."""
    import torch
    b = x.shape[0]
    er = torch.rand(b, generator=gen) < 0.5
    hh = torch.randint(8, 17, (b,), generator=gen)
    ww = torch.randint(8, 17, (b,), generator=gen)
    y0 = (torch.rand(b, generator=gen) * (48 - hh)).long()
    x0 = (torch.rand(b, generator=gen) * (48 - ww)).long()
    ar = torch.arange(48)
    my = (ar[None, :] >= y0[:, None]) & (ar[None, :] < (y0 + hh)[:, None])
    mx = (ar[None, :] >= x0[:, None]) & (ar[None, :] < (x0 + ww)[:, None])
    m = (my[:, :, None] & mx[:, None, :]) & er[:, None, None]
    return x.masked_fill(m[:, None], 0.0)


def to_input(images: np.ndarray) -> np.ndarray:
    return ((images.astype(np.float32) / 255.0 - 0.5) * 2.0)[:, None]


class FlipTTA:
    """Wraps the net for export: softmax averaged over the face and its mirror image."""

    def __new__(cls, net):
        import torch
        import torch.nn as nn

        class _M(nn.Module):
            def __init__(self, net):
                super().__init__()
                self.net = net

            def forward(self, x):
                p = torch.softmax(self.net(x), 1) + torch.softmax(self.net(torch.flip(x, dims=[3])), 1)
                return p * 0.5

        return _M(net)


def main() -> None:
    ap = argparse.ArgumentParser(description="train the FER2013 expression CNN")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--width", type=int, default=24)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--time-limit-min", type=float, default=0, help="stop after this many minutes (0: no limit)")
    ap.add_argument("--out", type=Path, default=HERE / "expression_fercnn.onnx")
    ap.add_argument("--bench", action="store_true", help="time 20 training steps and exit")
    ap.add_argument("--export-only", action="store_true", help="export the saved best checkpoint (<out>.best.pt)")
    a = ap.parse_args()

    import torch
    import torch.nn as nn
    try:
        from tqdm import tqdm
    except ImportError:  # plain progress lines instead of a bar
        tqdm = None

    torch.set_num_threads(a.threads)
    random.seed(a.seed)
    np.random.seed(a.seed)
    torch.manual_seed(a.seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    gen = torch.Generator().manual_seed(a.seed)

    tr = np.load(EXPR / "fer2013_train.npz")
    te = np.load(EXPR / "fer2013_publictest.npz")
    xtr, ytr = torch.from_numpy(to_input(tr["images"])), torch.from_numpy(tr["labels"].astype(np.int64))
    xte, yte = torch.from_numpy(to_input(te["images"])), torch.from_numpy(te["labels"].astype(np.int64))

    net = build_model(a.width)
    nparams = sum(p.numel() for p in net.parameters())
    steps_per_epoch = math.ceil(len(xtr) / a.batch)
    opt = torch.optim.AdamW(net.parameters(), lr=a.lr, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.lr, total_steps=a.epochs * steps_per_epoch,
                                                pct_start=0.2)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)

    if a.bench:
        net.train()
        t = time.perf_counter()
        for i in range(20):
            idx = torch.randint(0, len(xtr), (a.batch,), generator=gen)
            loss = loss_fn(net(augment(xtr[idx], gen)), ytr[idx])
            opt.zero_grad(); loss.backward(); opt.step()
        dt = (time.perf_counter() - t) / 20
        print(f"width {a.width}: {nparams} params, {dt * 1000:.0f} ms/step, {dt * steps_per_epoch:.0f} s/epoch")
        return

    def evaluate(model) -> tuple[float, np.ndarray]:
        model.eval()
        with torch.no_grad():
            p = torch.cat([torch.softmax(model(xte[i:i + 512]), 1) + torch.softmax(model(torch.flip(xte[i:i + 512], dims=[3])), 1)
                           for i in range(0, len(xte), 512)])
        pred = p.argmax(1)
        return float((pred == yte).float().mean()), pred.numpy()

    ckpt = Path(str(a.out).replace(".onnx", ".best.pt"))
    log_path = Path(str(a.out).replace(".onnx", ".train.json"))
    if a.export_only:
        net.load_state_dict(torch.load(ckpt))
        export(net, a.out)
        return
    log = {"args": {k: str(v) for k, v in vars(a).items()}, "params": nparams, "epochs": []}
    best, best_state, t0 = -1.0, None, time.time()
    for ep in range(a.epochs):
        net.train()
        perm = torch.randperm(len(xtr), generator=gen)
        it = range(steps_per_epoch)
        bar = tqdm(it, desc=f"epoch {ep + 1}/{a.epochs}", file=sys.stdout, leave=False) if tqdm else it
        tot, n = 0.0, 0
        for s in bar:
            idx = perm[s * a.batch:(s + 1) * a.batch]
            loss = loss_fn(net(augment(xtr[idx], gen)), ytr[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            tot += float(loss) * len(idx); n += len(idx)
            if tqdm:
                bar.set_postfix(loss=f"{tot / n:.3f}")
            elif s % 50 == 0:
                print(f"  epoch {ep + 1} step {s}/{steps_per_epoch} loss {tot / n:.3f}", flush=True)
        acc, _ = evaluate(net)
        if acc > best:
            best = acc
            best_state = {k: v.clone() for k, v in net.state_dict().items()}
            torch.save(best_state, ckpt)  # so an interrupted run can still be exported (--export-only)
        el = time.time() - t0
        log["epochs"].append({"epoch": ep + 1, "train_loss": tot / n, "publictest_acc_flip_tta": acc, "elapsed_s": el})
        print(f"epoch {ep + 1}/{a.epochs} loss {tot / n:.4f} PublicTest {acc:.4f} (best {best:.4f}) {el / 60:.1f} min",
              flush=True)
        log["best_publictest_acc"] = best
        log_path.write_text(json.dumps(log, indent=1))
        if a.time_limit_min and el > a.time_limit_min * 60:
            print("time limit reached", flush=True)
            break

    net.load_state_dict(best_state)
    export(net, a.out)
    print(f"best PublicTest accuracy {best:.4f}")


def export(net, out: Path) -> None:
    import torch
    net.eval()
    torch.onnx.export(FlipTTA(net).eval(), torch.zeros(1, 1, 48, 48), str(out), input_names=["input"],
                      output_names=["probs"], dynamic_axes={"input": {0: "N"}, "probs": {0: "N"}}, opset_version=13,
                      dynamo=False)
    print(f"wrote {out} ({out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
