"""The registry of pretrained presets: the single source of truth for names.

A preset is a model of `MODELS` trained under one protocol of
`keras_lmrnn.protocols`; its name is the model's name followed by the
protocol's (`modcog84_lmrnn_20x20_d6_neurogym-indegree`), so that two presets
of one model under two protocols never share a name. Each entry says in one
line what the model is; everything else (command, code revision, protocol,
metrics) lives in the folder's `metadata.json`, and the SHA-256 of its files
in `manifest.json`, both written by `tools/make_preset.py`.
"""

MODELS = {
    "yang20_autapse_16x16": "autapse pool (d=0), 16x16, the 20 Yang tasks, 5k steps",
    "yang20_lmrnn_16x16_d2": "LM-RNN, 16x16 torus, d=2, the 20 Yang tasks, 5k steps",
    "yang20_lmrnn_16x16_d4": "LM-RNN, 16x16 torus, d=4, the 20 Yang tasks, 5k steps",
    "yang20_dense_256": "dense RNN(256), the 20 Yang tasks, 5k steps",
    "modcog84_lmrnn_20x20_d2": "LM-RNN, 20x20 torus, d=2, Mod-Cog 84 tasks, 10k steps",
    "modcog84_lmrnn_20x20_d4": "LM-RNN, 20x20 torus, d=4, Mod-Cog 84 tasks, 10k steps",
    "modcog84_lmrnn_20x20_d6": "LM-RNN, 20x20 torus, d=6, Mod-Cog 84 tasks, 10k steps",
    "modcog84_autapse_20x20": "autapse pool (d=0), 400 units, Mod-Cog 84 tasks, 10k steps",
    "modcog84_random_20x20_d4": "random sparse, 400 units, in-degree of d=4 (49), Mod-Cog 84 tasks, 10k steps",
    "modcog84_dense_400": "dense RNN(400), Mod-Cog 84 tasks, 10k steps",
    "modcog84_dense_140": "dense RNN(140), about the recurrent synapses of 20x20 d=4, Mod-Cog 84 tasks, 10k steps",
    "modcog84_l1_400": "dense RNN(400) with L1 on W, Mod-Cog 84 tasks, 10k steps",
}
# The models trained under each protocol, i.e. the presets there are.
TRAINED = {
    "neurogym-indegree": list(MODELS),  # the default protocol (keras_lmrnn.protocols.DEFAULT), listed first
    "lmrnn-v1": list(MODELS),
}
PRESETS = {f"{model}_{protocol}": MODELS[model] for protocol, trained in TRAINED.items() for model in trained}
# Each preset's (model, protocol).
PARTS = {f"{model}_{protocol}": (model, protocol) for protocol, trained in TRAINED.items() for model in trained}

# Former names of renamed presets: {old name: new name}; loading an old name
# gives the renamed preset (the same files) with a FutureWarning. The first
# presets were named before protocols existed; they were trained under lmrnn-v1.
ALIASES = {model: f"{model}_lmrnn-v1" for model in TRAINED["lmrnn-v1"]}
