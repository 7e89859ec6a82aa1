#!/bin/sh
# Understudy's driver of a resource agent run as an app (POSIX sh).
# Usage: agent-run.sh ocf|lsb|systemd TARGET START_S STOP_S STARTED_FILE
# Runs the agent's start action, creates STARTED_FILE when it succeeded, then waits; SIGTERM (the agent stopping the
# app) runs its stop action and exits with its result. Everything the actions start is in this process group and
# cgroup, so it is fenced with the app. A failed start exits with the agent's own code (OCF and LSB: 2 bad arguments,
# 4 no permission, 5 not installed, 6 not configured), which the agent reads. The agent's monitor is run by the agent
# itself, as the app's health check. The OCF environment comes from the agent, and so does SYSTEMCTL (systemctl's
# path) for a unit, whose processes systemd runs in the unit's cgroup, which the agent guards with the app's.
kind=$1 target=$2 start_s=$3 stop_s=$4 started=$5
child=
stopping=
on_stop() {
  stopping=1
  [ -n "$child" ] && kill -TERM "$child" 2>/dev/null
}
trap on_stop TERM INT HUP

# Runs one action, bounded by SECONDS, in the background so that a stop request interrupts the wait; sets rc.
action() { # ACTION SECONDS
  OCF_RESKEY_CRM_meta_timeout=$(( $2 * 1000 )) OCF_RESKEY_CRM_meta_interval=0
  export OCF_RESKEY_CRM_meta_timeout OCF_RESKEY_CRM_meta_interval
  if [ "$kind" = systemd ]; then
    timeout -s KILL "$2" "${SYSTEMCTL:-systemctl}" "$1" "$target" &
  else
    timeout -s KILL "$2" "$target" "$1" &
  fi
  child=$!
  wait "$child"
  rc=$?
  # wait returns early (above 128) when a signal's trap ran; the action may still run, or be a zombie to reap
  while kill -0 "$child" 2>/dev/null; do wait "$child"; rc=$?; done
  child=
}

stop_and_exit() {
  echo "understudy: $kind $target stop"
  action stop "$stop_s"
  [ "$rc" -eq 0 ] || echo "understudy: $kind $target stop failed (exit $rc)"
  exit "$rc"
}

echo "understudy: $kind $target start"
# a unit the fence killed is left failed; that state (and its start rate limit) is not this start's business
[ "$kind" = systemd ] && "${SYSTEMCTL:-systemctl}" reset-failed "$target" 2>/dev/null
action start "$start_s"
[ -n "$stopping" ] && stop_and_exit
if [ "$rc" -ne 0 ]; then
  [ "$rc" -eq 137 ] && echo "understudy: $kind $target start timed out after ${start_s}s" \
    || echo "understudy: $kind $target start failed (exit $rc)"
  exit "$rc"
fi
: > "$started"
echo "understudy: $kind $target started"
while [ -z "$stopping" ]; do
  sleep 3600 &
  child=$!
  wait "$child"
  kill "$child" 2>/dev/null
  child=
done
stop_and_exit
