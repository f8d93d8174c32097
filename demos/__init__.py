"""Demos: the lecture "Why does batch norm work?" measured with minigrad.

`python -m demos` runs them all and writes out/index.html; see `demos/__main__.py`.
Each demo is one module with `run(quick, out_dir, seed) -> Section`.
"""

from __future__ import annotations

# number -> module name, in the order the report shows them
DEMOS: dict[int, str] = {
    1: "d1_backprop_by_hand",
    2: "d2_batchnorm_primitives",
    3: "d3_input_normalisation",
    4: "d4_covariate_shift",
    5: "d5_hidden_shift",
    6: "d6_smoothness",
    7: "d7_noise",
    8: "d8_test_time",
}
