#!/bin/bash
# Understudy app guard. Usage: guard.sh TIMEOUT_SECONDS EXIT_FILE -- PROGRAM ARGS...
# Runs the program in this process group (the agent starts us with setsid) and kills the whole group
# when the agent stops refreshing us: no line on stdin within TIMEOUT seconds (agent paused, lease
# lost) or end of file (agent dead). This is how an app is fenced even when its agent cannot run.
timeout="$1"; exitfile="$2"; shift 3
exec 3<&0
"$@" </dev/null 3<&- &
app=$!
(
  while read -r -t "$timeout" line <&3; do
    [ "$line" = stop ] && break
  done
  kill -KILL -- -$$
) &
wait "$app"
rc=$?
echo "$rc" > "$exitfile"
kill -KILL -- -$$
