"""What the resize policy costs: fitting a phone-sized JPEG with "crop" and "squash".

    python bench/resize_policy.py [--rounds 20]

"crop" decodes a large JPEG at reduced scale (libjpeg's DCT scaling) before resizing;
"squash" decodes it in full, as keras.utils.load_img does, so that its pixels are exactly
Keras'. The baseline is "crop" in the same round; "load_img" is Keras' own recipe
(load_img + img_to_array), for comparison. Also a HEIC photo of the same size, squashed.
"""

from __future__ import annotations

import argparse
import sys

import common

SIZE = (224, 224)
PHOTO = (4032, 3024)  # a 12-megapixel phone photo


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args(argv)
    common.prepare_environment()
    import keras
    import pillow_heif
    import skimage.data
    from PIL import Image

    from core.io.images import load_fitted

    pillow_heif.register_heif_opener()
    folder = common.temporary_folder("convlens-bench-resize-")
    photo = Image.fromarray(skimage.data.chelsea()).resize(PHOTO, Image.Resampling.BICUBIC)
    jpeg, heic = folder / "photo.jpg", folder / "photo.heic"
    photo.save(jpeg, quality=90)
    photo.save(heic, quality=90)
    env = common.environment()
    cases = {
        "crop": lambda: load_fitted(jpeg, SIZE, "crop"),
        "squash": lambda: load_fitted(jpeg, SIZE, "squash"),
        "load_img": lambda: keras.utils.img_to_array(keras.utils.load_img(jpeg, target_size=SIZE)),
        "squash_heic": lambda: load_fitted(heic, SIZE, "squash"),
    }
    samples = common.interleaved(cases, args.rounds)
    rows, payload = [], {"environment": env, "rounds": args.rounds, "cases": {}}
    labels = {
        "crop": "crop (baseline)",
        "squash": "squash",
        "load_img": "keras.utils.load_img + img_to_array",
        "squash_heic": "squash, the same photo as HEIC",
    }
    for name, values in samples.items():
        ratio = common.paired_ratio(values, samples["crop"])
        payload["cases"][name] = {"seconds": values, "ratio_to_crop": ratio}
        rows.append(
            [
                labels[name],
                f"{common.summary(values)['median'] * 1000:.0f}",
                "1" if name == "crop" else common.ratio_cell(ratio),
            ]
        )
    common.write_results("resize_policy", payload)
    body = f"""## Fitting a photo: crop and squash (`bench/resize_policy.py`)

One {PHOTO[0]}×{PHOTO[1]} JPEG (quality 90) fitted to {SIZE[0]}×{SIZE[1]} by
`core.io.images.load_fitted`; {args.rounds} interleaved rounds. "× crop" is the median of
the per-round ratios to crop in the same round (range in brackets). Squash decodes in full,
as `keras.utils.load_img` does, so that its pixels are Keras' exactly; crop decodes large
JPEGs at reduced scale.

{common.markdown_table(["case", "wall ms (median)", "× crop"], rows)}

{common.environment_line(env)}
Raw samples: `bench/results/resize_policy.json`.
"""
    common.update_benchmarks_doc("resize_policy", body)
    print(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
