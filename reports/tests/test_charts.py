from reports import charts


def test_bar_chart_escapes_labels_and_shows_values():
    svg = charts.bar_chart(["<b>Acme</b>", "Beta"], [("Score", [90, None])], title="Scores")
    assert svg.startswith("<svg") and "&lt;b&gt;Acme&lt;/b&gt;" in svg and "<b>" not in svg
    assert svg.count("<rect") == 1  # None draws no bar


def test_line_chart_breaks_at_missing_values():
    svg = charts.line_chart(["Jan", "Feb", "Mar", "Apr"], [("A", [1, None, 3, 4]), ("B", [2, 2, 2, 2])], unit="%")
    assert svg.count("<polyline") == 3  # A: two segments, B: one
    assert "A · Mar: 3%" in svg


def test_empty_input_draws_nothing():
    assert charts.bar_chart([], []) == ""
    assert charts.line_chart(["Jan"], []) == ""


def test_axis_steps_are_round():
    assert charts._scale([("x", [220])], None) == (0.0, 250, 50)
    assert charts._scale([("x", [2])], None)[2] == 1  # counts: whole-number ticks
    assert charts._scale([("x", [33.3])], 100) == (0.0, 100.0, 25)
