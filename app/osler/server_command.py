"""The clinic server on the command line: the `--server URL` options of `osler ddx` and
`osler selfcheck`, and `osler server key|forget URL` to keep this workstation's API key in
the OS keyring (or the passphrase-protected file) instead of a script or settings."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from osler.reasoning.server.config import DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT, ServerConfig


class ServerInputError(Exception):
    """Bad server options (the CLI maps it to exit 2)."""


def add_server_options(p: argparse.ArgumentParser, concurrency: bool = True) -> None:
    g = p.add_argument_group("clinic server (an OpenAI-compatible llama.cpp or vLLM server)")
    g.add_argument("--server", metavar="URL",
                   help="use the clinic's LLM server at URL (https://host:port; plain http "
                        "only to this machine unless --allow-http)")
    g.add_argument("--server-model", metavar="NAME",
                   help="the served model to use (default: the one the server lists first)")
    g.add_argument("--ca-bundle", metavar="PEM",
                   help="CA certificates that sign the clinic server's certificate "
                        "(verification is always on)")
    g.add_argument("--allow-http", action="store_true",
                   help="allow plain HTTP to another machine: findings and the API key then "
                        "cross the network unencrypted")
    g.add_argument("--api-key-file", metavar="FILE",
                   help="read the API key from the first line of FILE (default: "
                        "$OSLER_SERVER_KEY, else the key stored with `osler server key`)")
    g.add_argument("--server-timeout", type=float, default=DEFAULT_TIMEOUT, metavar="S",
                   help=f"seconds one request may take (default {DEFAULT_TIMEOUT:g})")
    if concurrency:
        g.add_argument("--server-concurrency", type=int, default=DEFAULT_CONCURRENCY,
                       metavar="N", help="requests in flight at once (default "
                       f"{DEFAULT_CONCURRENCY})")


def _read_key_file(path: str) -> str:
    try:
        lines = Path(path).expanduser().read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ServerInputError(f"--api-key-file {path}: {exc.strerror or exc}") from None
    if not lines or not lines[0].strip():
        raise ServerInputError(f"--api-key-file {path}: the first line is empty")
    return lines[0].strip()


def server_config(args: argparse.Namespace) -> ServerConfig | None:
    """The ServerConfig the options ask for, or None without --server."""
    from osler.reasoning.server.config import parse_server_url
    from osler.server_keys import ServerKeyError, api_key_for

    if not getattr(args, "server", None):
        for opt in ("server_model", "ca_bundle", "api_key_file"):
            if getattr(args, opt, None):
                raise ServerInputError(f"--{opt.replace('_', '-')} needs --server URL")
        if getattr(args, "allow_http", False):
            raise ServerInputError("--allow-http needs --server URL")
        return None
    url = parse_server_url(args.server, args.allow_http)
    if args.api_key_file:
        key = _read_key_file(args.api_key_file)
    else:
        try:
            key = api_key_for(url.origin)
        except ServerKeyError as exc:
            raise ServerInputError(f"the API key for {url.origin}: {exc}") from None
    return ServerConfig.build(args.server, key, args.ca_bundle, args.server_model,
                              args.server_timeout,
                              concurrency=getattr(args, "server_concurrency",
                                                  DEFAULT_CONCURRENCY),
                              allow_plain_http=args.allow_http)


def add_server_parser(sub: Any) -> None:
    p = sub.add_parser("server", help="this workstation's API key for a clinic LLM server")
    ssub = p.add_subparsers(dest="server_command", required=True, metavar="SERVER_COMMAND")
    k = ssub.add_parser("key", help="store the API key for URL (OS keyring, else encrypted "
                        "with a passphrase); asks for it, or reads --api-key-file")
    k.add_argument("url")
    k.add_argument("--api-key-file", metavar="FILE", help="read the key from FILE's first line")
    k.add_argument("--allow-http", action="store_true", help=argparse.SUPPRESS)
    f = ssub.add_parser("forget", help="delete the stored API key for URL")
    f.add_argument("url")
    f.add_argument("--allow-http", action="store_true", help=argparse.SUPPRESS)


def cmd_server(args: argparse.Namespace) -> int:
    from osler.reasoning.server.config import parse_server_url
    from osler.server_keys import ServerKeyError, ServerKeyStore

    # plain-http origins are allowed here: storing a key sends nothing anywhere
    origin = parse_server_url(args.url, allow_plain_http=True).origin
    ask = None
    if sys.stdin.isatty():
        from osler.audit.keys import terminal_ask

        ask = terminal_ask
    store = ServerKeyStore(ask=ask)
    try:
        if args.server_command == "forget":
            gone = store.delete(origin)
            print(f"{'forgot' if gone else 'no key was stored for'} {origin}")
            return 0
        if args.api_key_file:
            key = _read_key_file(args.api_key_file)
        elif sys.stdin.isatty():
            import getpass

            key = getpass.getpass(f"API key for {origin}: ").strip()
        else:
            key = sys.stdin.readline().strip()
        if not key:
            raise ServerInputError("no API key given")
        ServerConfig.build(args.url, key, allow_plain_http=True)  # checks the key's form
        where = store.set(origin, key)
    except ServerKeyError as exc:
        raise ServerInputError(str(exc)) from None
    print(f"stored the API key for {origin} in {where}")
    return 0
