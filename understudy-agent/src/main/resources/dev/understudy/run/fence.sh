#!/bin/bash
# Understudy fence: one per agent, guarding every app the agent runs. Usage: fence.sh
# Lines on stdin: "@CS" sets the deadline (CS: /proc/uptime in hundredths of a second), "+PGID [CGROUP...]" guards a
# process group (and the app's cgroup v2 directories, whose processes cannot leave them: its own, and a systemd unit's),
# "-PGID" forgets one, "R TAG FILE"
# registers the release of an app's managed resources (a script), "r TAG" forgets it. At the deadline every guarded
# group is killed, then every registered release runs, and all are forgotten: the agent moves the
# deadline on with every lease renewal, so a paused agent, or one whose lease has run out, cannot move it, and its apps
# die when its lease does. End of file (agent dead) kills them all and exits. The deadline is absolute, so no line
# postpones it but a new deadline (a "-PGID" sent while the agent stops its apps after losing its lease must not), and
# a line read late does not make the kill late. /proc/uptime is the boot-time clock: never set back, not even by NTP.
# One process, woken by lines only, instead of one guard per app: kill and read are bash builtins, nothing forks here.
# no globbing: the cgroup lists below are split on blanks, and a unit's path may hold any other character
set -f
deadline=0
declare -A groups=()
declare -A releases=()
# The group, and its leader by pid: a launcher not yet through setsid (spawned a moment ago) is in no group of its own
# yet, and a kill of the group alone would miss it.
fire() {
  for g in "${!groups[@]}"; do
    kill -KILL -- "-$g" "$g" 2>/dev/null
    # the kernel kills every process of each cgroup, those that called setsid or detached included
    if [ "${groups[$g]}" != 1 ]; then
      for cg in ${groups[$g]}; do echo 1 2>/dev/null > "$cg/cgroup.kill"; done
    fi
  done
  groups=()
  # then the managed resources (a virtual IP, a mount), in parallel: the taker acquires them a margin after the lease
  # ends. Taking the script by rename decides who releases: an agent that comes back takes what is left, never twice.
  for t in "${!releases[@]}"; do
    r=${releases[$t]}
    if mv -- "$r" "$r.fence" 2>/dev/null; then
      ( if bash "$r.fence"; then mv -- "$r.fence" "$r.released"; else mv -- "$r.fence" "$r.failed"; fi ) 2>/dev/null &
    fi
  done
  releases=()
}
# Asked to stop by a signal: leave nothing unguarded behind. (SIGKILL cannot be caught: the agent sees this process
# exit and stops every app itself.)
trap 'fire; exit 0' TERM INT HUP
# "H" (the agent stops to restart): at end of file keep guarding until the deadline instead of firing at once. The
# next agent guards what it adopts in its own fence, then sends SIGUSR1: this fence exits without killing anything.
hold=
trap 'kill "$napping" 2>/dev/null; exit 0' USR1
napping=
held() {
  while true; do
    read -r up _ < /proc/uptime
    up=${up/./}
    left=$(( deadline - 10#$up ))
    if [ "$left" -le 0 ]; then
      fire
      exit 0
    fi
    [ "${#groups[@]}" -eq 0 ] && [ "${#releases[@]}" -eq 0 ] && exit 0
    printf -v wait '%d.%02d' $(( left / 100 )) $(( left % 100 ))
    # a child sleep, waited for: the USR1 trap runs as soon as it arrives
    sleep "$wait" & napping=$!
    wait "$napping"
  done
}
while true; do
  if [ "${#groups[@]}" -eq 0 ] && [ "${#releases[@]}" -eq 0 ]; then
    # nothing guarded: sleep until told something
    read -r line || exit 0
  else
    read -r up _ < /proc/uptime
    up=${up/./}
    left=$(( deadline - 10#$up ))
    if [ "$left" -le 0 ]; then
      fire
      continue
    fi
    printf -v wait '%d.%02d' $(( left / 100 )) $(( left % 100 ))
    read -r -t "$wait" line
    rc=$?
    # read returns more than 128 on a timeout (the loop then fires), anything else non-zero at end of file
    [ "$rc" -gt 128 ] && continue
    if [ "$rc" -ne 0 ]; then
      [ -n "$hold" ] && held
      fire
      exit 0
    fi
  fi
  case "$line" in
    @*) deadline=$(( 10#${line#@} )) ;;
    H) hold=1 ;;
    +*)
      g=${line#+}
      if [ "$g" = "${g#* }" ]; then groups["$g"]=1; else groups["${g%% *}"]=${g#* }; fi
      ;;
    -*) unset "groups[${line#-}]" ;;
    R\ *) r=${line#R }; releases["${r%% *}"]=${r#* } ;;
    r\ *) unset "releases[${line#r }]" ;;
  esac
done
