"""axe-core's accessibility audit of a page and its component frames, for the browser tests.

axe-core is pinned in tests/browser/axe/package-lock.json and taken from that npm tarball (checked
against the lockfile's integrity, cached like the Sketch pad's runtime): the tests use it, the app never
serves it. Streamlit's own chrome (its header, sidebar navigation and toolbar) is audited too, but its
findings are reported apart from ours: we cannot change Streamlit's markup.
"""

import functools
import io
import tarfile
from pathlib import Path

from kmnist.ui.sketch_pad import vendor
from tests.browser.helpers import APP_IDLE

AXE = Path(__file__).resolve().parent / "axe"
STANDARDS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("critical", "serious")  # the impacts a page must have none of
# Streamlit's own elements: the header and its toolbar, the sidebar and its navigation, the deploy menu.
STREAMLIT_CHROME = ("[data-testid='stHeader']", "[data-testid='stSidebar']", "[data-testid='stToolbar']",
                    "[data-testid='stSidebarCollapsedControl']", "[data-testid='stMainMenu']")


@functools.cache
def axe_source() -> str:
    lock = vendor.pinned("axe-core", AXE / "package-lock.json")
    tarball = vendor.npm_package(lock["version"], lock["integrity"], package="axe-core")
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as tar:
        return tar.extractfile("package/axe.min.js").read().decode()


AUDIT = """async (standards) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: standards},
                                          resultTypes: ['violations'], iframes: false});
  const why = (node) => node.failureSummary.split('\\n').slice(1).join(' ');
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                      targets: v.nodes.map(n => n.target.join(' ')), why: v.nodes.map(why),
                                      html: v.nodes.map(n => n.html.slice(0, 160))}));
}"""


def audit_frame(frame) -> list[dict]:
    """axe's violations in one document: rule id, impact, help text and the CSS targets of each node."""
    if not frame.evaluate("() => typeof axe !== 'undefined'"):
        frame.add_script_tag(content=axe_source())
    return frame.evaluate(AUDIT, STANDARDS)


def in_streamlit_chrome(frame, target: str) -> bool:
    return frame.evaluate("([target, chrome]) => !!document.querySelector(target)?.closest(chrome)",
                          [target, ", ".join(STREAMLIT_CHROME)])


def audit(page) -> dict[str, list[dict]]:
    """The page's violations, one entry per node: {"ours": [...], "streamlit": [...]}; each entry names
    the frame ("page" or the component's title), the rule, its impact and the node. Audited once the
    script has finished and no element is left faded as stale (Streamlit fades them while it reruns)."""
    page.wait_for_selector(APP_IDLE)
    page.wait_for_function("() => !document.querySelector(\"[data-stale='true']\")")
    found = {"ours": [], "streamlit": []}
    for frame in page.frames:
        where = "page" if frame == page.main_frame else (frame.frame_element().get_attribute("title")
                                                         or frame.url)
        for violation in audit_frame(frame):
            for target, why, html in zip(violation["targets"], violation["why"], violation["html"],
                                         strict=True):
                whose = "streamlit" if where == "page" and in_streamlit_chrome(frame, target) else "ours"
                found[whose].append({"frame": where, "rule": violation["id"], "impact": violation["impact"],
                                     "help": violation["help"], "node": target, "why": why.strip(),
                                     "html": html})
    return found


def blocking(entries: list[dict]) -> list[str]:
    """The critical and serious ones, one readable line each."""
    return [f"{e['impact']} {e['rule']} ({e['help']}: {e['why']}) in {e['frame']}: {e['html']}"
            for e in entries if e["impact"] in BLOCKING]


def counts(entries: list[dict]) -> dict[str, int]:
    """How many nodes of each impact."""
    tally: dict[str, int] = {}
    for entry in entries:
        tally[entry["impact"]] = tally.get(entry["impact"], 0) + 1
    return tally
