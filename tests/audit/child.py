"""A separate process working on a store, for the crash and concurrency tests.

    python -m tests.audit.child append DB TAG N    append N entries (0: until killed),
                                                    printing "seq<TAB>text" after each commit
    python -m tests.audit.child rekey DB           rekey back and forth between two
                                                    passphrases until killed, printing each
    python -m tests.audit.child rekey-keyring DB   rekey to fresh OS-keyring keys until killed
    python -m tests.audit.child create-stall DB    create a store, but stop (printing
                                                    "stalled") just before moving it into
                                                    place, until killed
"""

from __future__ import annotations

import sys

from osler.audit import AuditStore, KeyProvider
from tests.audit.sample import PASSPHRASE, provider, record

OTHER_PASSPHRASE = "the other passphrase"


def append(db: str, tag: str, n: int) -> None:
    with AuditStore.open(db, provider()) as store:
        i = 0
        while n == 0 or i < n:
            text = f"{tag}-{i}"
            entry = store.append(record(i, text=text))
            sys.stdout.write(f"{entry.seq}\t{text}\n")
            sys.stdout.flush()
            i += 1


def rekey(db: str) -> None:
    current = PASSPHRASE
    for candidate in (PASSPHRASE, OTHER_PASSPHRASE):
        try:
            store = AuditStore.open(db, provider(candidate), create=False)
            current = candidate
            break
        except Exception:
            continue
    else:
        raise SystemExit("cannot open the store with either passphrase")
    with store:
        while True:
            new = OTHER_PASSPHRASE if current == PASSPHRASE else PASSPHRASE
            store.rekey(passphrase=new)
            current = new
            sys.stdout.write(f"{new}\n")
            sys.stdout.flush()


def rekey_keyring(db: str) -> None:
    with AuditStore.open(db, KeyProvider(environ={}), create=False) as store:
        while True:
            store.rekey(to="keyring")
            sys.stdout.write("rekeyed\n")
            sys.stdout.flush()


def create_stall(db: str) -> None:
    import time

    def stall(tmp, path):
        sys.stdout.write("stalled\n")
        sys.stdout.flush()
        while True:
            time.sleep(60)

    AuditStore._place = staticmethod(stall)
    AuditStore.open(db, provider())


if __name__ == "__main__":
    if sys.argv[1] == "create-stall":
        create_stall(sys.argv[2])
    elif sys.argv[1] == "append":
        append(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif sys.argv[1] == "rekey-keyring":
        rekey_keyring(sys.argv[2])
    else:
        rekey(sys.argv[2])
