"""One-line errors and a non-zero exit, never a traceback: bad ports, busy ports, silent devices,
missing and malformed files, wrong boards and wrong firmware images (no hardware needed)."""
import errno
import os
import struct
import tty
from types import SimpleNamespace

import pytest
import serial

from host_tools import cli, device
from host_tools.commands import install_micropython as im


def fails(capsys, *argv, code=2):   # 2: bad input; 3: no board (host_tools.errors)
    rc = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert rc == code, (rc, out, err)
    assert "Traceback" not in out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture
def pty():
    master, slave = os.openpty()
    tty.setraw(slave)
    name = os.ttyname(slave)
    os.close(slave)
    yield name
    os.close(master)


@pytest.mark.parametrize("argv", [
    ["flash"], ["log", "--duration", "1"], ["sessions", "list"], ["config", "show"],
    ["test"]])
def test_missing_port(capsys, argv):
    # every command tells "no board" (3) from a failed check (1) for scripts
    msg = fails(capsys, *argv, "--port", "/dev/ttyNOPE9", code=3)
    assert "/dev/ttyNOPE9 does not exist" in msg


def test_no_board_found_lists_ports(capsys, monkeypatch):
    ports = [SimpleNamespace(device="/dev/ttyS0", description="n/a", vid=None),
             SimpleNamespace(device="/dev/ttyUSB3", description="Arduino", vid=0x2341)]
    monkeypatch.setattr(serial.tools.list_ports, "comports", lambda: ports)
    monkeypatch.delenv("PACER_PORT", raising=False)
    msg = fails(capsys, "sessions", "list", code=3)
    assert "no board found" in msg and "/dev/ttyS0" in msg and "/dev/ttyUSB3 (Arduino)" in msg


def test_find_port_by_vid(monkeypatch):
    monkeypatch.delenv("PACER_PORT", raising=False)
    ports = [SimpleNamespace(device="/dev/ttyS0", description="", vid=None),
             SimpleNamespace(device="/dev/ttyACM0", description="Board in FS mode", vid=0x2E8A)]
    monkeypatch.setattr(serial.tools.list_ports, "comports", lambda: ports)
    assert device.find_port(None) == "/dev/ttyACM0"
    assert device.find_port("/dev/other") == "/dev/other"
    ports.append(SimpleNamespace(device="/dev/ttyUSB0", description="CP2102", vid=0x10C4))
    with pytest.raises(device.CliError, match="several boards"):
        device.find_port(None)


def test_busy_port(capsys, pty):
    held = serial.Serial(pty, timeout=0.1, exclusive=True)
    try:
        msg = fails(capsys, "config", "show", "--port", pty, code=3)
        assert "busy" in msg and "close mpremote" in msg
        msg = fails(capsys, "flash", "--port", pty, "--board", "pico", code=3)
        assert "busy" in msg
    finally:
        held.close()


def test_error_mapping():
    e = device._open_error("/dev/ttyACM0", serial.SerialException(
        errno.EACCES, "could not open port /dev/ttyACM0: [Errno 13] Permission denied"))
    assert "permission denied" in str(e) and "dialout" in str(e)
    e = device._open_error("/dev/ttyACM0", OSError(errno.EBUSY, "busy"))
    assert "busy" in str(e)


def test_silent_device_is_not_micropython(capsys, pty):
    msg = fails(capsys, "config", "show", "--port", pty, code=3)
    assert "no answer" in msg and "install-micropython" in msg
    msg = fails(capsys, "flash", "--port", pty, "--board", "pico", code=3)
    assert "not running MicroPython" in msg


def test_unknown_board(capsys):
    assert "unknown board 'pico9'" in fails(capsys, "flash", "--board", "pico9", "--port", "x")


def test_report_bad_inputs(capsys, tmp_path):
    assert "not found" in fails(capsys, "report", tmp_path / "none.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"t_ms": 0, "type": "phase"}\n{not json\n')
    assert "line 2 is not JSON" in fails(capsys, "report", bad)
    empty = tmp_path / "empty.jsonl"
    empty.write_text('{"t_ms": 0, "type": "boot"}\n')
    assert "no session events" in fails(capsys, "report", empty)
    good = tmp_path / "log-1.jsonl"
    good.write_text('{"t_ms": 0, "type": "phase", "step": 0, "muscle": "rest", '
                    '"duration_ms": 1000}\n')
    (tmp_path / "log-1.csv").write_text("t_ms,pressure_cmH2O,target_cmH2O,step\n1,2\n")
    assert "line 2 has 2 fields" in fails(capsys, "report", good)
    (tmp_path / "log-1.csv").write_text("a,b\n1,2\n")
    assert "not a `pacer log` telemetry CSV" in fails(capsys, "report", good)


def test_config_and_program_files(capsys, tmp_path):
    assert "not found" in fails(capsys, "config", "push", tmp_path / "no.json", "--port", "x")
    bad = tmp_path / "c.json"
    bad.write_text("{'vibration_pct': 1}")
    assert "not valid JSON" in fails(capsys, "config", "push", bad, "--port", "x")
    bad.write_text('{"vibration_pct": 900, "nonsense": 1}')
    msg = fails(capsys, "config", "push", bad, "--port", "x")
    assert "vibration_pct" in msg and "nonsense" in msg
    assert "not found" in fails(capsys, "programs", "push", tmp_path / "p.json", "--port", "x")
    p = tmp_path / "p.json"
    p.write_text('{"name": "kegel", "blocks": [{"steps": [{"s": 5}]}]}')
    assert "built-in" in fails(capsys, "programs", "push", p, "--port", "x")


# -- install-micropython ------------------------------------------------------------------------

def uf2(path, families, blocks=4):
    with open(path, "wb") as f:
        for fam in families:
            for i in range(blocks):
                b = bytearray(512)
                struct.pack_into("<IIIIIIII", b, 0, im.UF2_MAGIC0, im.UF2_MAGIC1,
                                 im.UF2_FAMILY_FLAG, 0x10000000 + 256 * i, 256, i, blocks, fam)
                struct.pack_into("<I", b, 508, im.UF2_MAGIC_END)
                f.write(b)
    return path


def drive(root, name, board_id):
    d = root / name
    d.mkdir(parents=True)
    (d / "INFO_UF2.TXT").write_text("UF2 Bootloader v3.0\nModel: Raspberry Pi RP2\n"
                                    "Board-ID: %s\n" % board_id)
    return d


def test_uf2_to_the_right_drive(capsys, tmp_path, monkeypatch):
    media = tmp_path / "media"
    drive(media, "RP2350", "RP2350")
    d = drive(media, "RPI-RP2", "RPI-RP2")
    monkeypatch.setenv("PACER_UF2_ROOTS", str(media))
    fw = uf2(tmp_path / "RPI_PICO.uf2", [0xE48BFF56])
    assert cli.main(["install-micropython", "--board", "pico", str(fw)]) == 0
    assert (d / "RPI_PICO.uf2").read_bytes() == fw.read_bytes()
    fw2 = uf2(tmp_path / "RPI_PICO2.uf2", [0xE48BFF57, 0xE48BFF59])   # absolute block first
    assert cli.main(["install-micropython", "--board", "pico2", str(fw2)]) == 0
    assert (media / "RP2350" / "RPI_PICO2.uf2").exists()
    capsys.readouterr()


def test_uf2_errors(capsys, tmp_path, monkeypatch):
    media = tmp_path / "media"
    media.mkdir()
    monkeypatch.setenv("PACER_UF2_ROOTS", str(media))
    assert "not found" in fails(capsys, "install-micropython", "--board", "pico",
                                tmp_path / "none.uf2")
    pico2 = uf2(tmp_path / "RPI_PICO2.uf2", [0xE48BFF59])
    msg = fails(capsys, "install-micropython", "--board", "pico", pico2)
    assert "RP2350 ARM secure (0xe48bff59)" in msg and "RP2040" in msg
    junk = tmp_path / "junk.uf2"
    junk.write_bytes(b"x" * 100)
    assert "not a UF2 file" in fails(capsys, "install-micropython", "--board", "pico", junk)
    junk.write_bytes(b"x" * 512)
    assert "no UF2 magic" in fails(capsys, "install-micropython", "--board", "pico", junk)
    fw = uf2(tmp_path / "RPI_PICO.uf2", [0xE48BFF56])
    assert "no RPI-RP2 drive found" in fails(capsys, "install-micropython", "--board", "pico", fw,
                                             code=3)
    drive(media, "RP2350", "RP2350")
    assert "is a rp2350, not a RP2040" in fails(capsys, "install-micropython", "--board",
                                                "pico", fw)
    assert "not a BOOTSEL drive" in fails(capsys, "install-micropython", "--board", "pico",
                                          fw, "--drive", tmp_path)


def esp_image(path, chip_id):
    head = bytearray(64)
    head[0] = 0xE9
    struct.pack_into("<H", head, 12, chip_id)
    path.write_bytes(bytes(head))
    return path


def test_esp32_checks_and_command(capsys, tmp_path):
    s3 = esp_image(tmp_path / "ESP32_GENERIC_S3.bin", 9)
    classic = esp_image(tmp_path / "ESP32_GENERIC.bin", 0)
    msg = fails(capsys, "install-micropython", "--board", "esp32", s3, "--port", "/dev/x")
    assert "built for ESP32S3" in msg and "this board is ESP32" in msg
    not_img = tmp_path / "x.bin"
    not_img.write_bytes(b"\0" * 64)
    assert "0xE9" in fails(capsys, "install-micropython", "--board", "esp32s3", not_img)
    assert cli.main(["install-micropython", "--board", "esp32s3", str(s3), "--port", "/dev/x",
                     "--dry-run", "--erase"]) == 0
    out = capsys.readouterr().out
    assert "--chip esp32s3 --port /dev/x --baud 460800 erase-flash" in out
    assert "write-flash 0x0 " in out
    cmds = im.esptool_command("esp32", "/dev/y", 115200, im.ESP_OFFSETS["esp32"], str(classic))
    assert cmds[-1][-3:] == ["write-flash", "0x1000", str(classic)]


def test_every_board_command_has_help_and_example(capsys):
    for name in ("flash", "install-micropython", "log", "test", "sessions", "report", "config"):
        with pytest.raises(SystemExit) as e:
            cli.main([name, "--help"])
        assert e.value.code == 0
        out = capsys.readouterr().out
        assert "example:" in out and "pacer " + name in out, name
