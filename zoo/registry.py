"""The registry of pretrained presets: the single source of truth for names.

Each entry names a folder under `zoo/presets/` and says in one line what the
model is; everything else (command, code revision, metrics, checksum) lives
in the folder's `metadata.json`, written by `tools/make_preset.py`.
"""

PRESETS = {
    "modcog84_lmrnn_20x20_d2": "LM-RNN, 20x20 torus, d=2, Mod-Cog 84 tasks, 10k steps",
    "modcog84_lmrnn_20x20_d4": "LM-RNN, 20x20 torus, d=4, Mod-Cog 84 tasks, 10k steps",
    "modcog84_lmrnn_20x20_d6": "LM-RNN, 20x20 torus, d=6, Mod-Cog 84 tasks, 10k steps",
    "modcog84_dense_400": "dense RNN(400), Mod-Cog 84 tasks, 10k steps",
}
