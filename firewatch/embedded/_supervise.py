"""Run one server process and take it down with us: `python _supervise.py [options] -- command...`.

Started by `process.spawn`, never by hand. It exists so that no embedded server outlives the
program that started it, even when that program is killed with SIGKILL:

- our stdin is a pipe from the parent; when the parent exits, however it dies, the kernel closes
  the pipe and we read end-of-file: we stop the server with its own clean-stop signal;
- on Linux the server also gets that signal if *we* die (PR_SET_PDEATHSIG). We set it here,
  in a process with a single thread, because `preexec_fn` is unsafe in a threaded parent;
- SIGTERM, SIGINT or SIGHUP sent to us also stop the server. Installing handlers for them also
  means the server starts with default dispositions, even if our parent ignored SIGINT.

Standard library only, and run by file path, so that starting it imports nothing else.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import pwd
import select
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from types import FrameType

_POLL_S = 0.2
_PR_SET_PDEATHSIG = 1


def _say(name: str, text: str) -> None:
    # Our stderr is the server's log file: these lines explain why the server stopped.
    print(f"[firewatch supervisor of {name}] {text}", file=sys.stderr, flush=True)


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="_supervise")
    parser.add_argument("--name", required=True)
    parser.add_argument("--stop-signal", default="SIGTERM", choices=["SIGTERM", "SIGINT"])
    parser.add_argument("--grace", type=float, default=10.0, help="seconds before SIGKILL")
    parser.add_argument("--user", help="run the server as this account (we are root)")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.command[:1] == ["--"]:
        args.command = args.command[1:]
    if not args.command:
        parser.error("a command is required after --")
    return args


def _die_with_us(stop_signal: int) -> Callable[[], None] | None:
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)  # loaded before fork: nothing to load in the child
    supervisor = os.getpid()

    def setup() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, stop_signal, 0, 0, 0)
        if os.getppid() != supervisor:  # the supervisor died between fork and prctl
            os.kill(os.getpid(), stop_signal)

    return setup


def _wait_for_stop(child: subprocess.Popen[bytes], requested: list[str]) -> str | None:
    """Why we must stop the server, or None when it exited on its own."""
    while child.poll() is None:
        if requested:
            return f"received {requested[0]}"
        readable, _, _ = select.select([sys.stdin], [], [], _POLL_S)
        if readable and not os.read(sys.stdin.fileno(), 64):
            return "the parent process closed the pipe (it stopped us or it exited)"
    return None


def _exit_code(returncode: int) -> int:
    return returncode if returncode >= 0 else 128 - returncode


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    stop_signal = signal.Signals[args.stop_signal]
    requested: list[str] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        requested.append(signal.Signals(signum).name)

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, on_signal)

    try:
        child = subprocess.Popen(  # noqa: S603 - our own command line, built by process.spawn
            args.command,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_us(stop_signal),  # noqa: PLW1509 - we are single-threaded
            user=args.user,
            group=args.user and _primary_group(args.user),
            extra_groups=[] if args.user else None,  # drop root's supplementary groups
        )
    except OSError as exc:  # the log file is where the parent looks for the cause
        _say(args.name, f"cannot start {args.command[0]}: {exc}")
        return 127
    reason = _wait_for_stop(child, requested)
    if reason is None:
        _say(args.name, f"the server exited by itself with code {child.returncode}")
        return _exit_code(child.returncode)
    _say(args.name, f"stopping the server with {stop_signal.name}: {reason}")
    child.send_signal(stop_signal)
    try:
        child.wait(args.grace)
    except subprocess.TimeoutExpired:
        _say(args.name, f"the server did not stop within {args.grace:g} s: killing it")
        child.kill()
        child.wait()
    return 0


def _primary_group(user: str) -> int:
    return pwd.getpwnam(user).pw_gid


if __name__ == "__main__":
    sys.exit(main())
