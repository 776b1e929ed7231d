"""Sign a model folder's SHA256SUMS with the project's Ed25519 key: writes SHA256SUMS.sig.

    python packaging/sign_model.py models/osler-ddx --key /work/osler-release-key/ed25519.pem

Run by the release manager after retraining (the recipe rewrites SHA256SUMS and removes the
stale signature). The folder is checked first: every listed file must match SHA256SUMS and
nothing that could run code may be in it; the new signature is then verified with the
public key built into Osler, so a key that Osler does not know is caught here, not at a
clinic. The private key never enters the repository (docs/security.md, "Model folders").

Exit 0 signed, 2 bad input (one line naming what and where).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "app") not in sys.path:
    sys.path.insert(0, str(ROOT / "app"))


class KeyFileError(Exception):
    """The private key cannot be used (exit 2)."""


def load_private_key(path: Path):
    """An Ed25519 private key from a PEM file (unencrypted PKCS#8, as made by --generate)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise KeyFileError(f"{path}: cannot read the private key ({exc})") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path}: not an Ed25519 private key")
    return key


def generate_key(path: Path) -> str:
    """Write a new private key (mode 600, never over an existing file); returns the public
    key line to paste into osler/reasoning/signature.py PROJECT_KEYS."""
    import base64

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
        PublicFormat,
    )

    from osler.reasoning.signature import key_id

    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return f'"{key_id(raw)}": "{base64.b64encode(raw).decode()}",'


def sign(folder: Path, key_path: Path, keys: dict[str, str] | None = None) -> Path:
    """Check the folder, write SHA256SUMS.sig, verify it with Osler's own keys (or `keys`)."""
    from osler.reasoning.checksums import SUMS, verify_folder
    from osler.reasoning.folder_screen import screen_folder
    from osler.reasoning.signature import SIGNATURE, sign_sums, verify_sums_signature

    screen_folder(folder)
    verify_folder(folder)
    key = load_private_key(key_path)
    out = folder / SIGNATURE
    previous = out.read_bytes() if out.exists() else None
    out.write_text(sign_sums((folder / SUMS).read_bytes(), key), encoding="ascii")
    try:
        verify_sums_signature(folder, keys)
    except BaseException:  # never leave a signature Osler would refuse
        if previous is None:
            out.unlink()
        else:
            out.write_bytes(previous)
        raise
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sign_model.py", description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="model folder holding SHA256SUMS")
    parser.add_argument("--key", type=Path, required=True,
                        help="the project's Ed25519 private key (PEM)")
    parser.add_argument("--generate", action="store_true",
                        help="create a new key at --key (refuses to overwrite) and print its "
                        "public half; does not sign")
    args = parser.parse_args(argv)
    from osler.reasoning.errors import ModelLoadError

    if args.generate:
        try:
            line = generate_key(args.key)
        except FileExistsError:
            print(f"sign_model: error: {args.key}: exists; refusing to overwrite a key",
                  file=sys.stderr)
            return 2
        print(f"new key at {args.key}; add to PROJECT_KEYS in "
              f"app/osler/reasoning/signature.py:\n    {line}")
        return 0
    if not args.folder.is_dir():
        print(f"sign_model: error: {args.folder}: no such folder", file=sys.stderr)
        return 2
    try:
        out = sign(args.folder, args.key)
    except (ModelLoadError, KeyFileError) as exc:
        print(f"sign_model: error: {exc}", file=sys.stderr)
        return 2
    print(f"signed: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
