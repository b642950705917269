"""Max vs average pooling: the 2x2 arithmetic on a real feature map, or a max/avg pair compared."""

from dataclasses import replace

import pandas as pd
import streamlit as st

from kmnist.charts import layers as layers_charts
from kmnist.data import explore
from kmnist.data.classes import CLASSES
from kmnist.data.pixels import upscale
from kmnist.inspect import grids, pooling, probes
from kmnist.jobs import ledger as jobs
from kmnist.network import layers as layers_net
from kmnist.network.architectures import POOLING_WORDS, POOLINGS
from kmnist.network.config import BOUNDS, subset_limit
from kmnist.network.recipes import DEFAULT_RECIPE, quick_run, quick_run_words, recipe
from kmnist.registry import pairs as pairs_registry
from kmnist.registry import store
from kmnist.ui import pooling_state
from kmnist.ui.comparison_view import comparison_view
from kmnist.ui.figures import shared_figure
from kmnist.ui.jobs_view import start_job, training_monitor
from kmnist.ui.navigation import POOLING, page_header
from kmnist.ui.resources import get_data, get_model, provenance_note
from kmnist.ui.sections import open_section

# Part 1's three maps are each as tall as a square map in a column this wide (about what each of three
# columns gets on a 1,366-1,440 px wide screen) needs, with room for tick labels: no empty band around them.
PANEL, TICKS = 300, 25

page_header(POOLING)
st.markdown(
    "A **pooling** layer shrinks each feature map by summarising every 2x2 window with one number: "
    "**max pooling** keeps the strongest response (*was the pattern anywhere here?*), **average pooling** "
    "keeps the mean (*how much of the pattern is here overall?*). Either way the map becomes half as "
    "wide and half as tall, so later layers see a larger part of the character for the same cost and "
    "small shifts of the stroke matter less.")
data = get_data()
provenance_note(data)

entries = store.list_models()  # read once per rerun
pairs = pairs_registry.find_pairs(entries)
model = None

# -- The model and the test image both parts use ----------------------------------------------------------
usable = [entry for entry in entries if entry.usable]
if not usable:
    st.warning(f"No trained model yet: train one on the **Training** page, or retrain a max/avg pair in "
               f"\"{pooling_state.PAIR}\" below.")
else:
    default = pooling_state.first_model(usable, pairs)
    left, middle, right = st.columns([2, 2, 1])
    entry = left.selectbox("Model whose first feature maps are pooled", usable, index=usable.index(default),
                           format_func=lambda e: e.name, key="part1_model")
    if entry.problem:
        st.warning(f"{entry.name}: {entry.problem}")
    kana = middle.selectbox("Test image: class", CLASSES, format_func=lambda k: k.label, key="image_class")
    examples = explore.class_indices(data.y_test, [kana.index])
    number = right.number_input(f"index (0-{len(examples) - 1})", 0, len(examples) - 1, 0, key="image_index")
    image = data.x_test[examples[number]]
    model = get_model(entry)


def arithmetic() -> None:
    """Part 1: one feature map of `model` for `image`, max- and average-pooled, one window worked out."""
    if model is None:
        return
    source = layers_net.pooled_input_name(model)
    outputs = probes.layer_outputs(model, image)
    maps = outputs[source]
    first_pool = layers_net.pooling_layers(model)[0].name
    a, b, c = st.columns([1, 2, 2])
    a.image(upscale(image, 4), caption=f"test image #{examples[number]}: {kana.label}", clamp=True,
            alt=f"test image #{examples[number]}, a handwritten {kana.label}, whose maps are pooled here")
    state = st.session_state
    pooling_state.settle_channel(state, maps)
    channel = b.slider(f"Channel of `{source}` ({maps.shape[-1]} feature maps)", 0, maps.shape[-1] - 1,
                       key=pooling_state.CHANNEL, on_change=pooling_state.channel_changed, args=(state,))
    feature = maps[..., channel]
    rows, cols = pooling.pooled_shape(maps.shape)
    telling = pooling_state.settle_window(state, feature)
    row = c.slider("Window row (in the pooled map)", 0, rows - 1, key=pooling_state.ROW)
    col = c.slider("Window column (in the pooled map)", 0, cols - 1, key=pooling_state.COL)
    b.button("Jump to the window where max and average differ most", on_click=pooling_state.jump_to,
             args=(state, telling), key="telling_window")
    pooled = {mode: pooling.pool2x2(feature, mode) for mode in POOLINGS}
    window = pooling.window(feature, row, col)
    zrange = (float(feature.min()), float(feature.max()))
    panels = [("map", feature, f"{source} channel {channel} ({maps.shape[0]}×{maps.shape[1]})",
               (2 * row, 2 * col, 2)),
              ("max_map", pooled["max"], f"2×2 max pooled ({rows}×{cols})", (row, col, 1)),
              ("avg_map", pooled["avg"], f"2×2 average pooled ({rows}×{cols})", (row, col, 1))]
    for column, (chart, values, title, box) in zip(st.columns(3), panels, strict=True):
        column.plotly_chart(shared_figure(layers_charts.feature_map, values, title, highlight=box,
                                          zrange=zrange, showscale=False,
                                          fit=(values.shape, PANEL, TICKS)), key=chart)
    st.caption(f"One colour scale for all three, from {zrange[0]:.2f} (dark) to {zrange[1]:.2f} "
               "(yellow); the red box is the window worked out below: 2×2 in the feature map, one "
               "pixel of each pooled map.")

    st.subheader(f"Window ({row}, {col}) worked out")
    values = window.values
    (r0, r1), (c0, c1) = window.input_rows, window.input_cols
    grid, sums = st.columns([1, 2])
    grid.dataframe(pd.DataFrame(values.round(4), index=[f"row {r0}", f"row {r1}"],
                                columns=[f"col {c0}", f"col {c1}"]), width="stretch")
    grid.caption(f"rows {r0}-{r1}, columns {c0}-{c1} of the {maps.shape[0]}×{maps.shape[1]} map")
    flat = [f"{v:.4f}" for v in values.ravel()]
    sums.markdown(
        f"- **max** ({', '.join(flat)}) = **{window.max:.4f}** → pixel ({row}, {col}) of the "
        "max-pooled map\n"
        f"- **average** ({' + '.join(flat)}) / 4 = {values.sum():.4f} / 4 = **{window.mean:.4f}** → "
        f"pixel ({row}, {col}) of the average-pooled map")
    kind = layers_net.pooling_kind(model)
    network = outputs[first_pool][..., channel]
    gap = pooling.largest_gap(network, pooled[kind])
    sums.caption(f"Check: this model's own `{first_pool}` layer ({POOLING_WORDS[kind]} "
                 f"pooling) gives the same numbers as the {kind} map above (largest difference "
                 f"{gap:.1e}). Where the window holds one strong response among weak ones, max keeps "
                 "it whole while average dilutes it.")


def pair_compared() -> None:
    """Part 2: a max/avg pair side by side, its maps after the first pooling layer, and retraining one."""
    st.markdown("Each pair below was trained with the same data, seed, epochs and settings; only the "
                "pooling layers differ.")
    if not pairs:
        st.info("No max/avg pair found in the models folder. The shipped pair is `studio-max` + "
                "`studio-avg`; train a fresh pair with the button below.")
    else:
        pair = st.selectbox("Pair", pairs, format_func=lambda p: f"{p[0].name} vs {p[1].name}", key="pair")
        pair = next((p for p in pairs if [e.name for e in p] == [e.name for e in pair]), pair)  # as now
        comparison_view(list(pair), key="pair", cause="pooling")  # says whether a gap shows, and why
        st.caption("The same comparison, for any models, is on the **Compare runs** page.")

        if model is not None:
            st.subheader("After the first pooling layer, same input")
            columns = st.columns(2)
            for column, entry in zip(columns, pair, strict=True):
                member = get_model(entry)
                if member is None:
                    continue
                pool_name = layers_net.pooling_layers(member)[0].name
                grid_maps = probes.layer_outputs(member, image)[pool_name][..., :16]
                column.plotly_chart(shared_figure(
                    layers_charts.grid_heatmap, grids.feature_grid(grid_maps, columns=8),
                    f"{entry.name}: {pool_name}, first {grid_maps.shape[-1]} channels"),
                    key=f"grid_{entry.name}")
            st.caption("Each tile is one channel, stretched to its own range. The two models learned "
                       "different filters, so compare the texture, not tile by tile: max-pooled maps tend to "
                       "be sparse and sharp, average-pooled maps smoother.")

    with st.expander("Retrain a max/avg pair (in the background, same live charts as the Training page)",
                     icon=":material/refresh:"):
        base = pair[0].card.config if pairs else recipe(DEFAULT_RECIPE)
        train_size = len(data.y_train)
        quick = quick_run(base, train_size)  # the selected pair's settings as a quick run
        with st.form("pair-form"):
            a, b, c, d = st.columns(4)
            epochs = a.number_input("Epochs", BOUNDS["epochs"].low, BOUNDS["epochs"].high, quick.epochs,
                                    key="pair_epochs")
            limit = b.number_input("Training images", min(BOUNDS["limit"].low, train_size), train_size,
                                   quick.limit or train_size, step=100, key="pair_limit")
            seed = c.number_input("Seed (shared)", BOUNDS["seed"].low, BOUNDS["seed"].high, quick.seed,
                                  key="pair_seed")
            suggested = pairs_registry.free_prefix("pair", entries)
            saved = [pairs_registry.pair_name("<prefix>", p) + store.MODEL_SUFFIX for p in POOLINGS]
            prefix = d.text_input("Name prefix", suggested, key="pair_prefix",
                                  help=f"Saved as {' and '.join(saved)}.")
            st.caption(f"A quick run of the selected pair's settings ({quick_run_words(train_size)}, "
                       f"learning rate {quick.learning_rate}, dropout {quick.dropout}, augmentation "
                       f"{'on' if quick.augment else 'off'}, {quick.architecture} architecture). Both runs "
                       "use the same seed, data and epochs.")
            retrain = st.form_submit_button("Train the pair", icon=":material/play_arrow:", key="pair_start")
        if retrain:
            config = replace(quick, epochs=int(epochs), seed=int(seed),
                             limit=subset_limit(limit, train_size))
            start_job(jobs.pair_runs(prefix.strip(), config), data, pair=True,  # the suggested name is
                      free_names=prefix.strip() == suggested)                   # numbered if a job takes it


# -- One part at a time (tabs): only the open one is computed and drawn -----------------------------------
PARTS = {pooling_state.ARITHMETIC: arithmetic, pooling_state.PAIR: pair_compared}
if not usable:  # nothing to pool yet: open on the pair part, where a pair can be retrained
    st.session_state.setdefault(pooling_state.VIEW_KEY, pooling_state.PAIR)
view, section = open_section(list(PARTS), pooling_state.VIEW_KEY, keep=pooling_state.VIEW_WIDGETS)
with section:
    PARTS[view]()
if pooling_state.shows_monitor(jobs.current(), jobs.waiting()):
    training_monitor("pooling", detail=False)
