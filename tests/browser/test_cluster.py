"""A class on a Dask cluster, in the browser: the app started with KMNIST_CLUSTER naming a scheduler with one
worker; two students press Start, one trains on the worker while the other waits behind them."""

import re
import uuid

import pytest

from kmnist.jobs.cluster import CLUSTER_ENV
from tests.browser.conftest import copy_models, streamlit_server
from tests.browser.helpers import assert_no_errors, open_page, wait_for_app
from tests.browser.test_training import start_training
from tests.dask_lab import LocalCluster


@pytest.mark.browser
def test_two_students_on_the_cluster_one_trains_on_the_worker_the_other_waits(profile, data_dir, tmp_path,
                                                                              request):
    lab = LocalCluster(workers=1)
    try:
        lab.connect(workers=1).cluster.close()
        models = copy_models(tmp_path, request)
        with streamlit_server(data_dir, models, "cluster-server.log", {CLUSTER_ENV: lab.address}) as server:
            first, second = profile.new_page(), profile.new_page()  # two Streamlit sessions
            try:
                tag = uuid.uuid4().hex[:6]
                open_page(first, server, "training")
                first.get_by_text(re.compile(rf"Training runs on the Dask cluster at {lab.address}: 1 worker "
                                             r"\(lab-1\), 1 job at a time")).wait_for()
                start_training(first, f"first-{tag}", epochs=30, batch_size=16, limit=600)
                first.get_by_text("autorenew training").wait_for(timeout=120_000)

                open_page(second, server, "training")
                start_training(second, f"second-{tag}", epochs=1, batch_size=64, limit=300, wait=False)
                second.get_by_text(re.compile(r"Queued, number 1 in line")).wait_for()
                second.get_by_text(re.compile(rf"Your run second-{tag} is number 1 in line")).wait_for()
                assert second.get_by_role("button", name="Stop training").is_disabled()  # the first's run
                first.get_by_text(re.compile(rf"^second-{tag} · by")).wait_for()  # the first sees the line
                wait_for_app(first)  # the page redrawn for the line: no stale copy of its Stop button left
                first.get_by_role("button", name="Stop training").click()

                # The second student's run starts on the worker by itself; its model comes back here.
                second.get_by_text(re.compile(rf"^Training job second-{tag}")).wait_for(timeout=180_000)
                second.get_by_text(re.compile(rf"^second-{tag} saved to ")).wait_for(timeout=240_000)
                assert all((models / f"second-{tag}{suffix}").is_file() for suffix in (".keras", ".onnx"))
                wait_for_app(second)
                assert_no_errors(second)
            finally:
                first.close()
                second.close()
    finally:
        lab.stop()
