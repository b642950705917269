"""kmnist.ui.component_protocol: the one protocol module both components' pages import, served by the app."""

from urllib.parse import urljoin

from streamlit.web.server.component_file_utils import build_safe_abspath

from kmnist.ui import component_protocol
from kmnist.ui.component_protocol import ASSETS, IMPORT, PROTOCOL, ROUTE, class_names
from kmnist.ui.map_hover import component as map_hover
from kmnist.ui.sketch_pad import component as sketch_pad

PAGES = {"sketch_pad": sketch_pad.ASSETS / "sketch_pad.js", "map_hover": map_hover.ASSETS / "map_hover.js"}


def test_both_component_pages_import_the_one_protocol_module():
    protocol = PROTOCOL.read_text()
    for message in ("componentReady", "render", "setComponentValue", "setFrameHeight"):
        assert f'"streamlit:{message}"' in protocol
    for name, page in PAGES.items():
        script = page.read_text()
        assert f'from "{IMPORT}";' in script, name
        assert "postMessage" not in script and "streamlit:" not in script, f"{name} has its own protocol code"


def test_the_import_resolves_to_the_route_the_app_serves():
    assert ROUTE == "kmnist.ui.component_protocol.assets" and component_protocol.ASSETS.name == "assets"
    for name, page in PAGES.items():
        here = f"http://app.test/component/kmnist.ui.{name}.component.{name}/{page.name}"
        assert urljoin(here, IMPORT) == f"http://app.test/component/{ROUTE}/protocol.js"
    assert build_safe_abspath(str(ASSETS), "protocol.js") == str(PROTOCOL)  # Streamlit's own path check


def test_class_names_are_by_class_index():
    names = class_names()
    assert len(names) == 10 and names[0] == "お (o)" and names[9] == "を (wo)"
