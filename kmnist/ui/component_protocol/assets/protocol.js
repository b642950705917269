// The Streamlit component protocol (v1, the iframe one), shared by the app's component pages: both
// import it from the route kmnist/ui/component_protocol declares, "../<route>/protocol.js".

function send(type, data = {}) {
  window.parent.postMessage({ isStreamlitMessage: true, type, ...data }, "*");
}

// The page's value, as JSON: Python reads it as st.session_state[<the component's key>].
export const setValue = (value) => send("streamlit:setComponentValue", { value, dataType: "json" });

// The frame as tall as the page inside it: the body's height (its CSS makes it hold its children's margins),
// never the document's, which is at least the frame's own height and so could never shrink (a pad that
// became shorter when a phone turned into a tablet kept a blank band).
export const fitFrame = () => send("streamlit:setFrameHeight", { height: Math.ceil(document.body.scrollHeight) });

// Calls render(args) with the component's arguments on every render message from the app, keeps the
// frame as tall as the page, and then tells the app that the page is ready for its arguments.
export function connect(render) {
  new ResizeObserver(fitFrame).observe(document.body);
  window.addEventListener("message", (event) => {
    if (event.data?.type !== "streamlit:render") return;
    render(event.data.args);
    fitFrame();
  });
  send("streamlit:componentReady", { apiVersion: 1 });
}
