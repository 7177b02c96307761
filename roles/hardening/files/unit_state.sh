#!/bin/sh
# Print "UNIT=ENABLEMENT,ACTIVITY" for each unit given, in one round trip,
# for example "ssh.service=enabled,active".
for unit in "$@"; do
    printf '%s=%s,%s\n' "$unit" "$(systemctl is-enabled "$unit" 2>/dev/null)" "$(systemctl is-active "$unit" 2>/dev/null)"
done
