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
# The paper's scale (its Table 1): a 50x50 sheet, N = 2500, and the dense
# controls of Table 1; trained under the default protocol only
# (zoo/recipes/modcog84_50x50.sh). A model joins TRAINED once its preset exists.
PAPER_SCALE = {
    "modcog84_lmrnn_50x50_d6": "LM-RNN, 50x50 torus, d=6, Mod-Cog 84 tasks, 10k steps",
    "modcog84_lmrnn_50x50_d10": "LM-RNN, 50x50 torus, d=10, Mod-Cog 84 tasks, 10k steps",
    "modcog84_random_50x50_d10": "random sparse, 2500 units, in-degree of d=10 (317), Mod-Cog 84 tasks, 10k steps",
    "modcog84_autapse_50x50": "autapse pool (d=0), 2500 units, Mod-Cog 84 tasks, 10k steps",
    "modcog84_dense_676": "dense RNN(676), the paper's same-synapse control of 50x50 d=6, Mod-Cog 84 tasks, 10k steps",
    "modcog84_dense_2500": "dense RNN(2500), Mod-Cog 84 tasks, 10k steps",
    "modcog84_l1_2500": "dense RNN(2500) with L1 (lambda 1e-5) on W, Mod-Cog 84 tasks, 10k steps",
}
SMALL = list(MODELS)
MODELS.update(PAPER_SCALE)
# The models trained under each protocol, i.e. the presets there are.
TRAINED = {
    # the default protocol (keras_lmrnn.protocols.DEFAULT), listed first
    "neurogym-indegree": SMALL + ["modcog84_lmrnn_50x50_d6", "modcog84_lmrnn_50x50_d10", "modcog84_autapse_50x50",
                          "modcog84_dense_676", "modcog84_dense_2500"],
    "lmrnn-v1": SMALL,
}
PRESETS = {f"{model}_{protocol}": MODELS[model] for protocol, trained in TRAINED.items() for model in trained}
# Each preset's (model, protocol).
PARTS = {f"{model}_{protocol}": (model, protocol) for protocol, trained in TRAINED.items() for model in trained}

# Former names of renamed presets: {old name: new name}; loading an old name
# gives the renamed preset (the same files) with a FutureWarning. The first
# presets were named before protocols existed; they were trained under lmrnn-v1.
ALIASES = {model: f"{model}_lmrnn-v1" for model in TRAINED["lmrnn-v1"]}
