"""Soak, short: minutes instead of hours (8 h each in `make reliability`)."""
import rel_soak


def test_app_soak_keeps_schedule_and_streams(tmp_path):
    r = rel_soak.app_soak(tmp_path, hours=0.02)
    assert r["drift_ms"] == 0 and r["memory_errors"] == 0
    assert r["frames"] == int(0.02 * 3600 * 50)


def test_vm_soak_heap_is_flat(mpvm):
    r = rel_soak.vm_soak(hours=0.02)
    assert r["crash"] is None and r["memory_errors"] == 0
    assert r["drift_ms"] == 0 and r["frames"] == int(0.02 * 3600 * 50)
