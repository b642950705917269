"""Training page: pick a recipe, change its settings, train in the background, watch it live, read results."""

import streamlit as st

from kmnist.jobs import ledger as jobs
from kmnist.jobs import snapshots
from kmnist.network import config as config_net
from kmnist.network import recipes
from kmnist.network.architectures import ARCHITECTURE_NOTES, ARCHITECTURES, POOLING_WORDS, POOLINGS
from kmnist.registry import store
from kmnist.ui.classroom import default_model_name, name_field, training_place, where_training_runs
from kmnist.ui.jobs_view import start_job, training_monitor
from kmnist.ui.navigation import TRAINING, page_header
from kmnist.ui.resources import get_data, owner_id, provenance_note

page_header(TRAINING)
st.markdown(
    "Training shows the network the training images in small **batches**; after each batch the optimizer "
    "nudges every weight to lower the **loss** (how wrong the predictions are), and one pass over all "
    "images is an **epoch**. After every epoch, **callbacks** (code Keras runs during training) measure "
    "the model on held-out **validation** images it never trains on, keep the best epoch, and **stop "
    "early** when the validation accuracy has not improved for *patience* epochs. Besides accuracy we "
    "report **AUC**: for each class, the chance that a random image of that class scores higher for it "
    "than a random image of another class (1.0 = perfect ranking, 0.5 = coin flip), averaged over the "
    "10 classes.")
data = get_data()
provenance_note(data)
# A student with a run of their own watches it first, above the form: its Stop is a few Tab presses away
# and its results stay where the run was; everyone else finds the server's runs under the form.
mine_first = jobs.latest_of(owner_id()) is not None
if mine_first:
    training_monitor("training")
    st.divider()
place = training_place()
name_field()
folder = store.models_dir()
train_size = len(data.y_train)
state = st.session_state
DEFAULT_NAME = default_model_name("<pooling>")  # this session's model name when none is typed


def load_recipe() -> None:
    """Fill the form with the chosen recipe, as a quick run (fewer epochs on a subset)."""
    state.update(recipes.quick_run_settings(state.get("recipe", recipes.DEFAULT_RECIPE), train_size))


if "epochs" not in state:
    load_recipe()
chosen = st.selectbox("Recipe", list(recipes.RECIPES), key="recipe", on_change=load_recipe,
                      help="A named set of settings; the form below starts from it and you can change any of "
                           "them.")
st.caption(f"**{chosen}** sets: {config_net.describe(recipes.RECIPES[chosen])}. The form starts from a quick "
           f"run of it: {recipes.quick_run_words(train_size)}.")
BOUNDS = config_net.BOUNDS  # the ranges TrainConfig allows: the number inputs offer the same

with st.form("train-form"):
    # Start comes first, beside the one choice most runs change: a quick run is a few Tab presses away.
    first, go = st.columns([2, 1], vertical_alignment="bottom")
    pooling = first.radio("Pooling", POOLINGS, horizontal=True, key="pooling",
                          format_func=lambda p: f"{POOLING_WORDS[p]} pooling",
                          help="How each 2x2 window of a feature map is shrunk to one number: its "
                               "largest value or its mean (see the Max vs average pooling page).")
    submitted = go.form_submit_button("Start training", icon=":material/play_arrow:", type="primary",
                                      key="start", disabled=place is None)
    st.markdown("**Hyperparameters**")
    left, middle, right = st.columns(3)
    left.number_input("Epochs", min_value=BOUNDS["epochs"].low, max_value=BOUNDS["epochs"].high, step=1,
                      key="epochs",
                      help="Passes over the training images (early stopping may end sooner).")
    left.number_input("Batch size", min_value=BOUNDS["batch_size"].low, max_value=BOUNDS["batch_size"].high,
                      step=16, key="batch_size",
                      help="Images per weight update.")
    middle.number_input("Learning rate", min_value=BOUNDS["learning_rate"].low,
                        max_value=BOUNDS["learning_rate"].high, step=0.0005, format="%.4f",
                        key="learning_rate",
                        help="Step size of each update (peak of the warm-up + cosine schedule). Typical: "
                             "0.001-0.005 for AdamW, 1.0 for Adadelta.")
    middle.slider("Dropout", 0.0, 0.9, step=0.05, key="dropout",
                  help="Fraction of activations randomly silenced after each pooling block during training, "
                       "so the network cannot rely on any single feature.")
    middle.slider("Label smoothing", 0.0, 0.5, step=0.05, key="label_smoothing",
                  help="Trains towards 90 % sure instead of 100 % (at 0.1): a softer target that keeps the "
                       "network from becoming over-confident.")
    middle.toggle("Data augmentation", key="augment",
                  help="Train on randomly shifted, rotated and zoomed copies of the images.")
    right.slider("Validation fraction", 0.05, 0.5, step=0.05, key="val_fraction",
                 help="Share of the training images held out to validate each epoch.")
    right.number_input("Early-stopping patience (epochs)", min_value=BOUNDS["patience"].low,
                       max_value=BOUNDS["patience"].high, step=1, key="patience",
                       help="Training stops early once the validation accuracy has not improved for this "
                            "many epochs in a row; the best epoch is kept either way. At or above the epochs "
                            "it never stops early.")
    limit = right.number_input(f"Training images (subset of {train_size:,})",
                               min_value=min(BOUNDS["limit"].low, train_size), max_value=train_size, step=100,
                               key="limit",
                               help="A stratified subset for quick runs; the maximum uses them all.")
    with st.expander("More: architecture, optimizer, seed, names"):
        a, b, c = st.columns(3)
        a.selectbox("Architecture", ARCHITECTURES, key="architecture",
                    help="; ".join(f"{name}: {note}" for name, note in ARCHITECTURE_NOTES.items()) + ".")
        b.selectbox("Optimizer", config_net.OPTIMIZERS, key="optimizer")
        c.number_input("Seed", min_value=BOUNDS["seed"].low, max_value=BOUNDS["seed"].high, step=1,
                       key="seed",
                       help="Same seed + same settings = same subset, split and initial weights.")
        name = a.text_input("Model name", value="", key="model_name", placeholder=DEFAULT_NAME,
                            help=f"Saved as <name>{store.MODEL_SUFFIX} in the models folder; "
                                 f"leave empty for {DEFAULT_NAME} (numbered if taken). Existing models are "
                                 "never overwritten.")

config = config_net.with_settings(recipes.RECIPES[chosen], pooling=pooling,
                                limit=config_net.subset_limit(limit, train_size),
                                **{name: state[name] for name in config_net.SETTINGS})
changed = config_net.differences(config, recipes.RECIPES[chosen])
st.caption(f"Models are saved in `{folder}`. This run changes {chosen}'s "
           + (", ".join(f"{key} to {value}" for key, value in changed.items()) or "nothing")
           + ". Runs wait in one line for a place to train; you watch yours live below, only you can stop "
             "it, and it keeps running when you change page.")
if place is not None:
    where_training_runs(place)

if submitted:
    typed = name.strip()
    start_job([snapshots.Run(typed or default_model_name(pooling), config)], data, free_names=not typed)

if not mine_first:
    st.divider()
    if jobs.current() is None:
        st.info("No training has run on this server yet: choose settings above and press **Start "
                f"training**. The form starts as a quick run ({recipes.quick_run_words(train_size)}), the "
                "fastest way to a first model.")
    training_monitor("training")
