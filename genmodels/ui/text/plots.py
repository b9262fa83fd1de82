"""Pure builders for the text tab's views of the model at work: the prompt's tokens, the data flow, every head's
attention and the logit lens. Data in, figure (or HTML) out."""
import html

import plotly.graph_objects as go

from genmodels.ui.plots import GREY, VERMILLION, show_token, styled

ATTENTION_COLORS = "Blues"  # white: ignored, dark blue: attended
TOKEN_TICKS = 24  # token labels an axis shows before it labels only every n-th token
VIEW_ANCHORS = {"tokens": "inside-tokens", "attention": "inside-heads", "lens": "inside-lens"}  # elem_ids in layout


def token_labels(tokens: list[str], start_token: str) -> list[str]:
    """Tokens with whitespace visible, the start token shortened to ⟨start⟩."""
    return ["⟨start⟩" if t == start_token else show_token(t) for t in tokens]


def tokens_html(labels: list[str], ids: list[int], note: str = "") -> str:
    """The prompt as the model reads it: one chip per token, its text above its id."""
    chips = "".join(f'<span class="gm-chip" title="position {i}, id {token_id}"><code>{html.escape(label)}</code>'
                    f"<small>{token_id}</small></span>" for i, (label, token_id) in enumerate(zip(labels, ids)))
    note = f'<p class="gm-note">{html.escape(note)}</p>' if note else ""
    return (f'<p><b>{len(ids)} tokens</b>: each piece of text above the id the model reads</p>'
            f'<div class="gm-chips">{chips}</div>{note}')


def flow_html(stages: list[dict]) -> str:
    """The forward pass as a table: each stage's output shape and parameters, linked to the view that shows it."""
    rows, explained = [], set()
    for stage in stages:
        detail = "" if stage["detail"] in explained else stage["detail"]  # said once, at the first block
        explained.add(stage["detail"])
        symbols, numbers = (f"({', '.join(map(str, v))}{',' * (len(v) == 1)})" for v in (stage["axes"], stage["shape"]))
        anchor = VIEW_ANCHORS[stage["view"]]
        rows.append(f'<tr><td><a href="#{anchor}">{html.escape(stage["name"])}</a><br>'
                    f'<small>{html.escape(detail)}</small></td><td>{symbols}<br>{numbers}</td>'
                    f'<td>{stage["params"]:,}</td></tr>')
    total = sum(stage["params"] for stage in stages)
    return ('<p><b>The forward pass</b> with this prompt\'s shapes: T tokens, d numbers per token, V tokens in the '
            'vocabulary.</p><table class="gm-flow"><thead><tr><th>stage (links to its view)</th><th>output shape</th>'
            f'<th>parameters</th></tr></thead><tbody>{"".join(rows)}</tbody><tfoot><tr><td>all of it</td><td></td>'
            f'<td>{total:,}</td></tr></tfoot></table>')


def token_axis(fig: go.Figure, labels: list[str], axis: str = "x") -> None:
    """Token labels on an axis of positions 0..T-1, every n-th one when there are many."""
    every = -(-len(labels) // TOKEN_TICKS)
    positions = list(range(len(labels)))
    getattr(fig, f"update_{axis}axes")(tickmode="array", tickvals=positions[::every], ticktext=labels[::every],
                                       tickangle=-60 if axis == "x" else 0)


def heads_figure(labels: list[str], last_token: list[list[list[float]]], layer: int, head: int) -> go.Figure:
    """Every head's attention from the last token over the context: one row per (block, head), one column per token;
    the chosen head (`layer`, `head`, 1-based) outlined."""
    heads = len(last_token[0])
    rows = [f"block {b + 1} · head {h + 1}" for b in range(len(last_token)) for h in range(heads)]
    z = [weights for block in last_token for weights in block]  # (L * H, T)
    fig = go.Figure(go.Heatmap(z=z, y=list(range(len(rows))), colorscale=ATTENTION_COLORS, zmin=0, showscale=False,
                               text=[labels] * len(rows),
                               customdata=[[row] * len(labels) for row in rows],
                               hovertemplate="%{customdata}<br>looks at %{text} (position %{x}): %{z:.1%}"
                                             "<extra></extra>"))
    for boundary in range(heads, len(rows), heads):  # a line between blocks
        fig.add_hline(y=boundary - 0.5, line=dict(color=GREY, width=1))
    chosen = (layer - 1) * heads + head - 1
    fig.add_shape(type="rect", x0=-0.5, x1=len(labels) - 0.5, y0=chosen - 0.5, y1=chosen + 0.5,
                  line=dict(color=VERMILLION, width=2))
    token_axis(fig, labels)
    fig.update_yaxes(tickmode="array", tickvals=list(range(len(rows))), ticktext=rows, autorange="reversed")
    return styled(fig, f"From the last token, {labels[-1]}", height=150 + 22 * len(rows)) \
        .update_layout(margin=dict(l=120, r=10, t=50, b=80))


def matrix_figure(labels: list[str], matrix: list[list[float]], layer: int, head: int) -> go.Figure:
    """One head's causal attention: row i is token i's weights over tokens 0..i; the masked future is left blank."""
    T = len(labels)
    z = [[w if j <= i else None for j, w in enumerate(row)] for i, row in enumerate(matrix)]
    fig = go.Figure(go.Heatmap(z=z, colorscale=ATTENTION_COLORS, zmin=0, zmax=1, showscale=False, text=[labels] * T,
                               customdata=[[label] * T for label in labels],
                               hovertemplate="%{customdata} (position %{y}) looks at %{text} (position %{x}): "
                                             "%{z:.1%}<extra></extra>", hoverongaps=False))
    token_axis(fig, labels, "x")
    token_axis(fig, labels, "y")
    fig.update_xaxes(title="looks at (key)", range=[-0.5, T - 0.5], constrain="domain")
    fig.update_yaxes(title="token (query)", autorange="reversed", scaleanchor="x", constrain="domain")
    fig.update_layout(plot_bgcolor="#F2F2F2")  # the future each row may not see
    return styled(fig, f"Block {layer}, head {head} (grey: the masked future)", height=560) \
        .update_layout(margin=dict(l=90, r=10, t=50, b=90))


def lens_html(rows: list[dict], start_token: str) -> str:
    """The logit lens as a table: per read-out (the embedding, then each block), the model's final pick's probability
    and rank, then the most likely tokens, shaded by probability; the pick outlined wherever it shows."""
    pick = rows[-1]["pick"]
    head = "".join(f"<th>#{rank}</th>" for rank in range(1, len(rows[0]["candidates"]) + 1))
    body = []
    for n, row in enumerate(rows):
        name = row["after"] + (" = the model" if n == len(rows) - 1 else "")
        cells = []
        for c in row["candidates"]:
            ink = "color: white; " if c["prob"] > 0.5 else ""
            mark = ' class="gm-pick"' if c["id"] == pick["id"] else ""
            cells.append(f'<td{mark} style="{ink}background: rgba(0, 114, 178, {0.9 * c["prob"]:.3f})">'
                         f'<code>{html.escape(token_labels([c["token"]], start_token)[0])}</code> '
                         f'{c["prob"]:.0%}</td>')
        body.append(f'<tr><th>{html.escape(name)}</th><td>{row["pick"]["prob"]:.0%} · #{row["pick"]["rank"]}</td>'
                    f'{"".join(cells)}</tr>')
    shown_pick = html.escape(token_labels([pick["token"]], start_token)[0])
    caption = ("<b>The logit lens</b>: the final norm and unembedding applied to the last token's stream after each "
               "block. Right after the embedding it mostly names the current token again (the unembedding is the "
               "embedding, tied); block by block the prediction forms, and the last row is the model's own "
               "distribution.")
    return (f'<p>{caption}</p><div class="gm-scroll"><table class="gm-lens"><thead><tr><th>read out after</th>'
            f'<th>the pick <code>{shown_pick}</code></th>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
            '</div>')
