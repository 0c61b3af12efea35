"""Foundation benchmark: backbone forward, PatchCore fit and predict on the embedded tier.

Run: `python -m benchmarks.foundation` (or `make bench`). Prints a table and writes
benchmarks/results/foundation.json. Goal on a 2-core CPU: predict ÷ forward ≤ 2.0.
"""
from __future__ import annotations

import time

import numpy as np
import torch

import methods
from benchmarks.common import machine, print_table, timed, write_results
from hub import load_image
from hub.embedded import efficientnet_lite0
from leaderboard.examples import example_dataset
from methods.backbone import to_tensor

SIZE = 256
FIT_IMAGES = 50


def main() -> None:
    data = example_dataset("brick")
    normals = [load_image(p) for p in sorted((data / "train" / "good").glob("*.png"))[:FIT_IMAGES]]
    tests = [load_image(p) for p in sorted((data / "test").rglob("*.png"))[:20]]

    model = efficientnet_lite0()
    cfg = model.pretrained_cfg
    with torch.inference_mode():
        one = [tests[0]]
        forward_s = timed(lambda: model(to_tensor(one, SIZE, cfg["mean"], cfg["std"], "cpu")), repeats=20)

    patchcore = methods.create("patchcore", tier="embedded")
    t = time.perf_counter()
    patchcore.fit(normals)
    fit_s = time.perf_counter() - t
    per_image = [timed(lambda img=img: patchcore.predict([img]), repeats=3, warmup=1) for img in tests]
    predict_s = float(np.median(per_image))

    results = {
        "tier": "embedded",
        "image_size": SIZE,
        "backbone": "efficientnet_lite0",
        "backbone_forward_ms_per_image": round(1000 * forward_s, 2),
        "patchcore_fit_s_50_images": round(fit_s, 2),
        "patchcore_memory_bank": int(patchcore.memory_bank.shape[0]),
        "patchcore_predict_ms_per_image": round(1000 * predict_s, 2),
        "predict_over_forward": round(predict_s / forward_s, 2),
        "goal_predict_over_forward": 2.0,
        "data": "real-textures/brick (seed 0), batch size 1",
        "machine": machine(),
    }
    print_table([(k, str(v)) for k, v in results.items() if k != "machine"])
    print(f"wrote {write_results('foundation', results)}")


if __name__ == "__main__":
    main()
