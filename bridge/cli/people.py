"""enroll (store a person's face templates) and people (list, rename, delete them)."""
from __future__ import annotations

import argparse
import logging
from pathlib import Path

log = logging.getLogger("avatar_bridge")


def add_commands(sub) -> None:
    """Add enroll and people to `sub` (build_parser's subparsers)."""
    from ..identity.store import default_store_path
    store_help = f"people file (default {default_store_path()})"
    enr = sub.add_parser("enroll", help="store your face's templates under a name, so `run` can tell who is who")
    enr.add_argument("name", help="the person's name, e.g. Ann")
    enr.add_argument("--source", default="0", help="camera index, video or image (default: camera 0)")
    enr.add_argument("--seconds", type=float, default=3.0, help="how much of a camera or video to use (default 3)")
    enr.add_argument("--store", type=Path, help=store_help)
    enr.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    enr.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    ppl = sub.add_parser("people", help="list, rename or delete enrolled people")
    ppl.add_argument("action", nargs="?", default="list", choices=("list", "rename", "delete"))
    ppl.add_argument("names", nargs="*", metavar="NAME", help="rename: OLD NEW; delete: NAME")
    ppl.add_argument("--store", type=Path, help=store_help)
    ppl.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    ppl.add_argument("-q", "--quiet", action="store_true", help="(accepted like the other commands)")


def cmd_enroll(args: argparse.Namespace, status) -> int:
    from ..errors import ConfigError
    from ..identity import store
    from ..identity.embedder import FaceEmbedder
    from ..identity.enrol import PER_SECOND, collect
    from ..progress import Progress
    from ..sources import open_source
    from ..tracking.enrol_faces import EnrolFaceFinder
    if not args.seconds > 0:
        raise ConfigError(f"--seconds {args.seconds:g} must be more than 0")
    store.check_name(args.name)
    path = args.store or store.default_store_path()
    people = store.read_store(path)  # an unreadable file is reported before the camera opens
    source = open_source(args.source, fast=not args.source.isdigit())
    try:
        embedder = FaceEmbedder()
        with EnrolFaceFinder() as finder, \
                Progress(total=None if source.still else int(args.seconds * PER_SECOND), desc=f"enrol {args.name}",
                         unit="faces", enabled=not args.quiet) as bar:
            if source.live:
                status.clear()
                print(f"Look at the camera for {args.seconds:g} s, turning your head a little ...", flush=True)
            got = collect(source, finder, embedder, args.seconds, progress=bar)
    finally:
        source.close()
    store.write_store(path, store.add(people, args.name, got.embeddings))
    log.info("enrolled %r from %d of %d frames (%d with more than one face skipped); saved to %s",
             args.name, len(got.embeddings), got.frames, got.several_faces, path)
    return 0


def cmd_people(args: argparse.Namespace, status) -> int:
    from ..errors import ConfigError
    from ..identity import store
    path = args.store or store.default_store_path()
    people = store.read_store(path)
    need = {"list": 0, "rename": 2, "delete": 1}[args.action]
    if len(args.names) != need:
        usage = {"list": "people list", "rename": "people rename OLD NEW", "delete": "people delete NAME"}
        raise ConfigError(f"`{usage[args.action]}` takes {need} name(s), got {len(args.names)}")
    if args.action == "list":
        if not people:
            print(f"nobody enrolled yet ({path}): `avatar-bridge enroll NAME`")
        for name, p in sorted(people.items()):
            print(f"{name}\t{len(p.embeddings)} templates\tenrolled {p.enrolled}")
        return 0
    if args.action == "rename":
        store.write_store(path, store.rename(people, *args.names))
        log.info("renamed %r to %r in %s", *args.names, path)
    else:
        store.write_store(path, store.delete(people, args.names[0]))
        log.info("deleted %r from %s", args.names[0], path)
    return 0


COMMANDS = {"enroll": cmd_enroll, "people": cmd_people}
