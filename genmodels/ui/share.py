"""Shareable settings: a tab's controls go into the page URL's query string, and opening that URL restores them."""
import json
import math
from collections.abc import Mapping

import gradio as gr

from genmodels.ui.lessons import accepts

MAX_SHARED_TEXT = 2000  # characters of a text control a link carries (URLs past ~8 KB break in proxies)

SHARE_CSS = ".gm-share:has(.gm-share-link textarea:placeholder-shown) .gm-share-link { display: none; }\n"
COPY_LINK_JS = """
async (...values) => {
  const tab = %s, keys = %s, limit = %d, viewKey = %s;
  const params = new URLSearchParams({tab: tab});
  // the open sub-tab: the selected tab button inside this tab's panel (the top tab bar is outside it)
  const panel = document.getElementById("tab-" + tab);
  const open = panel && panel.querySelector("[role=tablist] [role=tab][aria-selected=true]");
  if (viewKey && open) { params.set(viewKey, open.dataset.tabId); }
  const skipped = [];
  keys.forEach((key, i) => {
    const value = values[i] === null || values[i] === undefined ? "" : String(values[i]);
    if (value.length > limit) { skipped.push(key); } else { params.set(key, value); }
  });
  const url = location.origin + location.pathname + "?" + params.toString();
  history.replaceState(null, "", url);
  let status = "Copied to the clipboard.";
  try {
    await navigator.clipboard.writeText(url);
  } catch (error) {
    status = "This browser did not let the page copy (it allows that only on https or localhost): select the " +
             "link below and copy it by hand.";
  }
  return [skipped.length ? url + "  (left out, too long for a link: " + skipped.join(", ") + ")" : url, status];
}
"""


def sub_tab_ids(tabs: gr.Tabs) -> list[str]:
    """The ids of a gr.Tabs' own tabs, in order."""
    return [child.id for child in tabs.children if isinstance(child, gr.Tab)]


def key(tab: str, name: str) -> str:
    """The query-string key of control `name` on tab `tab`."""
    return f"{tab}.{name}"


def encode(value) -> str:
    """A control's value as query-string text, the way the browser's String() writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (list, tuple)):
        return ",".join(encode(item) for item in value)
    return "" if value is None else str(value)


def settings_query(tab: str, values: Mapping[str, object]) -> dict[str, str]:
    """The query parameters a Copy link button writes for these control values."""
    return {"tab": tab} | {key(tab, name): encode(value) for name, value in values.items()}


def decode(control, raw: str):
    """The value query text `raw` stands for in `control`, or a ValueError saying why it cannot be used."""
    if isinstance(control, gr.Tabs):  # a tab's sub-tabs: the link names the one that was open
        if raw not in sub_tab_ids(control):
            raise ValueError("is not one of the sub-tabs")
        return raw
    if isinstance(control, gr.CheckboxGroup):  # the browser's String() of a list: "a,b"
        picked = [item for item in raw.split(",") if item]
        if any(item not in [choice[1] for choice in control.choices] for item in picked):
            raise ValueError("names a choice that does not exist")
        return picked
    if isinstance(control, gr.Checkbox):
        if raw not in ("true", "false"):
            raise ValueError("must be true or false")
        return raw == "true"
    if isinstance(control, (gr.Slider, gr.Number)):
        try:
            value = float(raw)
        except ValueError:
            raise ValueError("is not a number") from None
        low, high = (control.minimum, control.maximum)
        if not math.isfinite(value) or (low is not None and value < low) or (high is not None and value > high):
            raise ValueError(f"must be between {low:g} and {high:g}" if low is not None and high is not None
                             else "is out of range")
        whole = control.precision == 0 if isinstance(control, gr.Number) else float(control.step).is_integer()
        if whole:
            if not value.is_integer():
                raise ValueError("must be a whole number")
            return int(value)
        return value
    if isinstance(control, gr.Textbox) and len(raw) > MAX_SHARED_TEXT:
        raise ValueError(f"is longer than {MAX_SHARED_TEXT} characters")
    if not accepts(control, raw):
        raise ValueError("is not one of the choices")
    return raw


def restore(query: Mapping[str, str], shared: Mapping[str, Mapping[str, object]]):
    """(tab or None, {(tab, name): value}, problems) from a page's query parameters; unknown keys are ignored."""
    tab = query.get("tab")
    values, problems = {}, []
    for tab_id, controls in shared.items():
        for name, control in controls.items():
            raw = query.get(key(tab_id, name))
            if raw is None:
                continue
            try:
                values[(tab_id, name)] = decode(control, raw)
            except ValueError as err:
                problems.append(f"{key(tab_id, name)}={raw[:40]!r} {err}")
    return (tab if tab in shared else None), values, problems


def add_copy_link(tab: str, controls: Mapping[str, object]) -> None:
    """A Copy link button and the link it makes from the tab's current settings (call inside the tab)."""
    with gr.Group(elem_classes="gm-share"):  # the link box stays hidden until it holds a link (SHARE_CSS)
        button = gr.Button("Copy link to these settings", variant="secondary", size="sm", elem_id=f"{tab}-copy-link")
        status = gr.Markdown(elem_id=f"{tab}-link-status")
        link = gr.Textbox(label="Link: opening it restores these settings", lines=1,
                          max_lines=3, interactive=False, buttons=["copy"], placeholder=" ", elem_id=f"{tab}-link",
                          elem_classes="gm-share-link")
    values = {name: control for name, control in controls.items() if not isinstance(control, gr.Tabs)}
    views = [name for name, control in controls.items() if isinstance(control, gr.Tabs)]  # read from the page
    view_key = json.dumps(key(tab, views[0]) if views else None)
    keys = json.dumps([key(tab, name) for name in values])
    button.click(None, list(values.values()), [link, status],
                 js=COPY_LINK_JS % (json.dumps(tab), keys, MAX_SHARED_TEXT, view_key))


def restored_value(control, value):
    """What a restored value becomes as an output: a sub-tab id selects that sub-tab."""
    if isinstance(control, gr.Tabs) and isinstance(value, str):
        return gr.Tabs(selected=value)
    return value


def restore_message(tab: str | None, values: Mapping, problems: list[str]) -> str:
    """What the top of the page says about a link: what it restored, what it ignored, or that it restored nothing."""
    if values:
        message = f"**Settings restored from the link** ({len(values)} value{'s' * (len(values) != 1)})."
        if tab is not None:
            message += (" Press the tab's button (Generate, Next token, ...) to reproduce the output: same seed, "
                        "same result.")
    elif tab is not None:
        message = "**The link opened its tab**, but it held no settings to restore."
    else:
        message = "**Nothing in this link could be restored**: the page shows its usual settings."
    if problems:
        message += " Ignored: " + "; ".join(problems) + "."
    return message


def restore_on_load(demo: gr.Blocks, tabs: gr.Tabs, notice: gr.Markdown,
                    shared: Mapping[str, Mapping[str, object]]) -> None:
    """When a page opens with settings in its URL, select their tab, set the controls and say what happened."""
    controls = [(tab_id, name, control) for tab_id, named in shared.items() for name, control in named.items()]

    def on_load(request: gr.Request):
        tab, values, problems = restore(dict(request.query_params), shared)
        updates = [restored_value(control, values.get((tab_id, name), gr.skip())) for tab_id, name, control in controls]
        if not values and not problems and (tab is None or not shared[tab]):  # a plain page, or a tab without settings
            return [gr.Tabs(selected=tab) if tab else gr.skip(), gr.skip(), *updates]
        return [gr.Tabs(selected=tab) if tab else gr.skip(), restore_message(tab, values, problems), *updates]

    demo.load(on_load, None, [tabs, notice, *[control for _, _, control in controls]], api_name="ui_restore_link",
              api_visibility="private", show_progress="hidden")
