#!/bin/sh
# Understudy app launcher (POSIX sh: dash starts in a fraction of bash's time, once per app start).
# Usage: launch.sh CGROUP|- -- PROGRAM ARGS...   (the agent starts us with setsid)
# Moves itself into the app's cgroup (when there is one), so that the program and everything it starts are born in it.
# Each launcher moves itself, not the agent one launcher after another: a move waits for an RCU grace period unless
# another is under way, and hundreds of launchers moving at once share them (1,000 moved by the agent one at a time
# added 18 s to a mass failover). Then waits for "go" on stdin, which the agent sends only once the fence guards this
# process group and cgroup, and becomes the program (exec: no shell is left behind, the program leads its own group).
# End of file or anything else before "go" (the agent died, or changed its mind) exits without running anything.
cg=$1
shift
if [ "$cg" != - ]; then
  echo $$ > "$cg/cgroup.procs" || exit 126
fi
IFS= read -r go || exit 125
[ "$go" = go ] || exit 125
shift
exec "$@" </dev/null
