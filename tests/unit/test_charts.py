from decimal import Decimal

from app.web.charts import bar_chart, column_chart


def test_bar_chart_scales_bars_and_prints_values():
    svg = str(bar_chart([("1–30", Decimal("100.00")), ("31–60", Decimal("50.00"))], title="Atraso",
                        value_label=lambda v: f"R$ {v}", highlight={"31–60"}))
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    widths = [float(part.split('"')[0]) for part in svg.split('width="')[2:]]
    assert widths[0] == 2 * widths[1]  # 100 vs 50
    assert "R$ 100.00" in svg and "R$ 50.00" in svg
    assert 'fill="#b42318"' in svg  # highlighted (late) bar in red


def test_labels_are_escaped_and_empty_data_says_so():
    svg = str(bar_chart([("<script>", 1)], title="x & y"))
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "x &amp; y" in svg
    assert "Sem dados" in str(bar_chart([], title="vazio"))


def test_column_chart_stacks_series():
    svg = str(column_chart([("01/11", [2, 1]), ("02/11", [0, 0])], title="Execuções", series=["ok", "erro"]))
    assert svg.count("<rect") == 2 + 4  # 2 legend swatches + 2 columns x 2 series
    assert "01/11 — ok: 2, erro: 1" in svg
