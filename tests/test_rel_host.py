"""Host side, short: damaged files give one-line errors from the `pacer` CLI."""
import rel_host


def test_damaged_inputs_give_one_line_errors(tmp_path):
    bad = [x for x in rel_host.cli_errors(tmp_path) if not x[1]]
    assert not bad, bad
