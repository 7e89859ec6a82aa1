#!/bin/bash
# Understudy fence: one per agent, guarding every app the agent runs. Usage: fence.sh TIMEOUT_SECONDS
# Lines on stdin: "+PGID" guards a process group, "-PGID" forgets one, anything else is a refresh.
# No line within TIMEOUT (agent paused, lease lost) kills every guarded group and forgets them; end of file (agent
# dead) kills them all and exits. This is how apps are fenced even when their agent cannot run. One process, woken
# by refreshes only, instead of one guard per app: kill is a bash builtin, nothing forks here.
timeout="$1"
declare -A groups=()
fire() {
  for g in "${!groups[@]}"; do kill -KILL -- "-$g" 2>/dev/null; done
  groups=()
}
# Asked to stop by a signal: leave nothing unguarded behind. (SIGKILL cannot be caught: the agent sees this process
# exit and stops every app itself.)
trap 'fire; exit 0' TERM INT HUP
while true; do
  if read -r -t "$timeout" line; then
    case "$line" in
      +*) groups["${line#+}"]=1 ;;
      -*) unset "groups[${line#-}]" ;;
    esac
  else
    rc=$?
    fire
    # read returns more than 128 on a timeout; 1 on end of file: the agent is gone
    [ "$rc" -gt 128 ] || exit 0
  fi
done
