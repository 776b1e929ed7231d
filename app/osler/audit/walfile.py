"""Reading a SQLite WAL file without SQLite, to tell damage from the normal end of the log.

SQLite's recovery stops at the first frame whose salt or cumulative checksum is wrong and
treats it as the end of the log: committed frames after a damaged one are silently
dropped, and the next checkpoint deletes the evidence. SQLCipher encrypts page contents
only; the WAL header and frame headers are plain SQLite format (checked on real stores),
so their salts and checksums can be read here (https://www.sqlite.org/fileformat.html).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

WAL_MAGIC_LE = 0x377F0682
WAL_MAGIC_BE = 0x377F0683
WAL_VERSION = 3007000
WAL_HEADER = 32
FRAME_HEADER = 24
DEFAULT_PAGE_SIZE = 4096
_MASK = 0xFFFFFFFF


def wal_checksum(data: bytes, s0: int, s1: int, big_endian: bool) -> tuple[int, int]:
    """SQLite's WAL checksum of DATA (a multiple of 8 bytes), continuing from (S0, S1)."""
    words = struct.unpack(f"{'>' if big_endian else '<'}{len(data) // 4}I", data)
    for i in range(0, len(words), 2):
        s0 = (s0 + words[i] + s1) & _MASK
        s1 = (s1 + words[i + 1] + s0) & _MASK
    return s0, s1


@dataclass(frozen=True)
class WalReport:
    """What the WAL beside a database holds: frames SQLite will use, and frames it would lose.

    `first_invalid` is the 1-based number of the frame where SQLite's recovery stops (None:
    every frame is valid); `lost` counts the frames from there on that belong to the
    current generation of the log (same salt). Damage means a transaction was committed
    after the invalid frame (`lost_commits`): the frame was valid when written. Without a
    later commit it can be a transaction cut short by a crash, which SQLite rightly drops.
    """

    path: Path
    size: int
    frames: int
    first_invalid: int | None = None
    lost: int = 0
    lost_commits: int = 0
    header_damaged: bool = False
    cut_short: bool = False

    @property
    def damaged(self) -> bool:
        return self.lost_commits > 0

    @property
    def suspect(self) -> bool:
        """The log ends in an invalid frame of its own (not a stale one from before a restart):
        the last transaction was cut short by a crash, or damaged. Only the witness can say
        which: it knows whether that transaction had been committed."""
        return self.cut_short and not self.damaged

    def describe(self, committed: bool = False) -> str:
        """One line for an error message or a verify problem; COMMITTED: the witness shows
        that a transaction cut short in the log had been committed."""
        if committed and not self.damaged:
            return (f"{self.path}: WAL frame {self.first_invalid} of {self.frames} is damaged: "
                    "SQLite would drop the log's last transaction, which the witness shows "
                    "had been committed")
        if self.header_damaged:
            return (f"{self.path}: the WAL header is damaged, so SQLite would ignore all "
                    f"{self.frames} frames of the log, which hold {self.lost_commits} committed "
                    "transactions")
        if not self.damaged:
            return (f"{self.path}: WAL frame {self.first_invalid} of {self.frames} is invalid, "
                    "so SQLite would drop the log's last transaction")
        return (f"{self.path}: WAL frame {self.first_invalid} of {self.frames} is damaged; "
                f"SQLite would stop reading there and drop it and the {self.lost - 1} later "
                f"frames of this log, which hold {self.lost_commits} committed transactions")


def inspect_wal(path: Path) -> WalReport | None:
    """Inspect the WAL file at PATH (None when there is none); OSError if it cannot be read."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    if len(data) < WAL_HEADER:
        return WalReport(path, len(data), 0)
    magic, version, page_size, _ckpt, salt1, salt2, c0, c1 = struct.unpack(
        ">8I", data[:WAL_HEADER])
    header_ok = (magic in (WAL_MAGIC_LE, WAL_MAGIC_BE) and version == WAL_VERSION
                 and 512 <= page_size <= 65536 and page_size & (page_size - 1) == 0)
    big = magic == WAL_MAGIC_BE
    if header_ok:
        header_ok = wal_checksum(data[:24], 0, 0, big) == (c0, c1)
    if not header_ok:
        return _damaged_header(path, data)
    frame = FRAME_HEADER + page_size
    frames = (len(data) - WAL_HEADER) // frame
    s0, s1 = c0, c1
    for i in range(frames):
        ok, s0, s1 = _frame_ok(data, WAL_HEADER + i * frame, page_size, (salt1, salt2),
                               s0, s1, big)
        if not ok:
            lost, commits = _same_salt_after(data, i, frames, page_size, (salt1, salt2))
            off = WAL_HEADER + i * frame + 8
            own = _bits_apart(struct.unpack(">2I", data[off:off + 8]), (salt1, salt2)) <= 2
            return WalReport(path, len(data), frames, first_invalid=i + 1,
                             lost=1 + lost if lost else 0, lost_commits=commits,
                             cut_short=own or lost > 0)
    return WalReport(path, len(data), frames)


def _bits_apart(a: tuple[int, int], b: tuple[int, int]) -> int:
    """Bits in which two salts differ: a stale frame's salt2 is random, a damaged one's is not."""
    return sum(bin(x ^ y).count("1") for x, y in zip(a, b, strict=True))


def _frame_ok(data: bytes, off: int, page_size: int, salt: tuple[int, int], s0: int,
              s1: int, big: bool) -> tuple[bool, int, int]:
    pgno, _commit, f1, f2, k0, k1 = struct.unpack(">6I", data[off:off + FRAME_HEADER])
    if pgno == 0 or (f1, f2) != salt:
        return False, s0, s1
    s0, s1 = wal_checksum(data[off:off + 8], s0, s1, big)
    s0, s1 = wal_checksum(data[off + FRAME_HEADER:off + FRAME_HEADER + page_size], s0, s1,
                          big)
    return (s0, s1) == (k0, k1), s0, s1


def _same_salt_after(data: bytes, index: int, frames: int, page_size: int,
                     salt: tuple[int, int]) -> tuple[int, int]:
    """(frames after frame INDEX carrying SALT, how many of them end a transaction)."""
    frame = FRAME_HEADER + page_size
    lost = commits = 0
    for j in range(index + 1, frames):
        off = WAL_HEADER + j * frame
        _pgno, commit, f1, f2 = struct.unpack(">4I", data[off:off + 16])
        if (f1, f2) == salt:
            lost += 1
            commits += commit != 0
    return lost, commits


def _damaged_header(path: Path, data: bytes) -> WalReport:
    """A header SQLite rejects: damage if the frames after it chain from it (one was written
    under this header), else a torn or foreign header with nothing of this log after it."""
    frames = (len(data) - WAL_HEADER) // (FRAME_HEADER + DEFAULT_PAGE_SIZE)
    if frames == 0:
        return WalReport(path, len(data), 0)
    stored = struct.unpack(">2I", data[24:32])
    salt = struct.unpack(">2I", data[WAL_HEADER + 8:WAL_HEADER + 16])
    for big in (False, True):
        for seed in (stored, wal_checksum(data[:24], 0, 0, big)):
            ok, _s0, _s1 = _frame_ok(data, WAL_HEADER, DEFAULT_PAGE_SIZE, salt, *seed, big)
            if ok:
                lost, commits = _same_salt_after(data, -1, frames, DEFAULT_PAGE_SIZE, salt)
                return WalReport(path, len(data), frames, first_invalid=1, lost=lost,
                                 lost_commits=commits, header_damaged=True)
    return WalReport(path, len(data), frames)
