"""Training page: choose hyperparameters, train in the background, watch the curves live, read the results."""

import streamlit as st

from kmnist import jobs, store, ui
from kmnist.training import OPTIMIZERS, TrainConfig

ui.ensure_navigation()  # a first request straight to this page still gets the app's navigation
st.title("📈 Training")
st.markdown(
    "Training shows the network the training images in small **batches**; after each batch the optimizer "
    "nudges every weight to lower the **loss** (how wrong the predictions are), and one pass over all "
    "images is an **epoch**. After every epoch, **callbacks** (code Keras runs during training) measure "
    "the model on held-out **validation** images it never trains on, keep the best epoch, and **stop "
    "early** when the validation loss has not improved for *patience* epochs. Besides accuracy we "
    "report **AUC**: for each class, the chance that a random image of that class scores higher for it "
    "than a random image of another class (1.0 = perfect ranking, 0.5 = coin flip), averaged over the "
    "10 classes.")
data = ui.get_data()
ui.provenance_note(data)
folder = store.models_dir()
train_size = len(data.y_train)


defaults = TrainConfig()
with st.form("train-form"):
    st.markdown("**Hyperparameters**")
    left, middle, right = st.columns(3)
    pooling = left.radio("Pooling", ["max", "avg"], horizontal=True, key="pooling",
                         format_func={"max": "max pooling", "avg": "average pooling"}.get,
                         help="How each 2x2 window of a feature map is shrunk to one number: its "
                              "largest value or its mean (see the Max vs average pooling page).")
    epochs = left.number_input("Epochs", min_value=1, max_value=1000, value=5, step=1, key="epochs",
                               help="Passes over the training images (early stopping may end sooner).")
    batch_size = left.number_input("Batch size", min_value=1, max_value=8192, value=64, step=16,
                                   key="batch_size", help="Images per weight update.")
    learning_rate = middle.number_input("Learning rate", min_value=0.0, max_value=100.0,
                                        value=defaults.learning_rate, step=0.0005, format="%.4f",
                                        key="learning_rate",
                                        help="Step size of each update (peak of the warm-up + cosine "
                                             "schedule). Typical: 0.001-0.005 for AdamW, 1.0 for Adadelta.")
    dropout = middle.slider("Dropout", 0.0, 0.9, defaults.dropout, 0.05, key="dropout",
                            help="Fraction of activations randomly silenced after each pooling block "
                                 "during training, so the network cannot rely on any single feature.")
    augment = middle.toggle("Data augmentation", value=True, key="augment",
                            help="Train on randomly shifted, rotated and zoomed copies of the images.")
    val_fraction = right.slider("Validation fraction", 0.05, 0.5, defaults.val_fraction, 0.05,
                                key="val_fraction",
                                help="Share of the training images held out to validate each epoch.")
    patience = right.number_input("Early-stopping patience (epochs)", min_value=1, max_value=1000,
                                  value=defaults.patience, step=1, key="patience")
    limit = right.number_input(f"Training images (subset of {train_size:,})", min_value=1,
                               max_value=train_size, value=min(3000, train_size), step=100, key="limit",
                               help="A stratified subset for quick runs; the maximum uses them all.")
    with st.expander("More: architecture, optimizer, seed, names"):
        a, b, c = st.columns(3)
        architecture = a.selectbox("Architecture", ["studio", "classic"], key="architecture",
                                   help="studio: 2 blocks of Conv-BN-ReLU x2 + pooling; classic: the Keras "
                                        "simple CNN (2 convs, 1 pooling).")
        optimizer = b.selectbox("Optimizer", OPTIMIZERS, key="optimizer")
        seed = c.number_input("Seed", min_value=0, max_value=2**31 - 1, value=0, step=1, key="seed",
                              help="Same seed + same settings = same subset, split and initial weights.")
        name = a.text_input("Model name", value="", key="model_name", placeholder="my-model-<pooling>",
                            help="Saved as <name>.keras in the models folder; leave empty for "
                                 "my-model-<pooling> (numbered if taken). Existing models are never "
                                 "overwritten.")
        owner = b.text_input("Your name (shown to others while it trains)", value="", key="owner")
    submitted = st.form_submit_button("▶️ Start training", type="primary", key="start")

st.caption(f"Models are saved in `{folder}`. One training job runs at a time on this server; everybody "
           "can watch it live below, and it keeps running when you change page.")

if submitted:
    config = TrainConfig(pooling=pooling, architecture=architecture, epochs=int(epochs),
                         batch_size=int(batch_size), learning_rate=float(learning_rate), optimizer=optimizer,
                         dropout=float(dropout), augment=bool(augment), val_fraction=float(val_fraction),
                         patience=int(patience), limit=None if limit >= train_size else int(limit),
                         seed=int(seed))
    run = jobs.Run(name.strip() or store.free_name(f"my-model-{pooling}"), config)
    try:
        jobs.start([run], owner.strip() or ui.session_label(), data)
    except jobs.JobBusy as busy:
        st.warning(f"**Not started.** {busy}.")
    except jobs.JobError as error:
        st.error("**Nothing was started.** Fix these settings and press Start again:\n\n"
                 + "\n".join(f"- {problem}" for problem in error.problems))

st.divider()
if jobs.current() is None:
    st.info("No training has run on this server yet: choose settings above and press **Start training**. "
            "A quick first run: 1-2 epochs on 1,000 images takes well under a minute.")
ui.training_monitor("training")
