"""The reliability rig's serial link (tests/rel_rig.py) on the virtual board."""
import time

import rel_rig as R
from host_tools.vboard import start as vb_start


def test_a_link_opened_after_the_boot_line_still_finds_the_app(tmp_path):
    # pyserial clears the port's waiting input when it opens it: a link opened after the
    # board printed its boot line never sees that line, and must ask the board instead
    flash = R.install_firmware(tmp_path / "flash", mpy=True)
    with vb_start(board="pico", flash_dir=flash, log=tmp_path / "vb.log") as vb:
        time.sleep(3.0)
        link = R.Link(vb.port)
        try:
            line = link.wait_boot(20)
            assert R.is_boot(line) or '"cmd": "status"' in line
            assert link.command("status")["state"] == "idle"
        finally:
            link.close()
