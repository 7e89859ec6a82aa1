#!/bin/sh
# Understudy app launcher (POSIX sh: dash starts in a fraction of bash's time, once per app start).
# Usage: launch.sh -- PROGRAM ARGS...   (the agent starts us with setsid)
# Waits for "go" on stdin, which the agent sends only once the fence guards this process group, then becomes the
# program (exec: no shell is left behind, the program leads its own group). End of file or anything else before
# "go" (the agent died, or changed its mind) exits without running anything.
IFS= read -r go || exit 125
[ "$go" = go ] || exit 125
shift
exec "$@" </dev/null
