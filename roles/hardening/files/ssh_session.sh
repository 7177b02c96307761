#!/bin/sh
# Print the login user and the SSH_CONNECTION of the SSH session this process
# runs in, as "login_user=..." and "ssh_connection=..." lines (become may add
# its own warnings to the output). Asked of the process tree, not of our own
# environment: become (sudo, su) resets the environment and the user, but the
# shell sshd started for the session still carries both.
pid=$$
while [ "${pid:-0}" -gt 1 ]; do
    connection=$(tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | sed -n 's/^SSH_CONNECTION=//p')
    if [ -n "$connection" ]; then
        user=$(tr '\0' '\n' <"/proc/$pid/environ" | sed -n 's/^USER=//p')
        printf 'login_user=%s\nssh_connection=%s\n' "${user:-$(stat -c %U "/proc/$pid")}" "$connection"
        exit 0
    fi
    pid=$(sed -n 's/^PPid:[[:space:]]*//p' "/proc/$pid/status" 2>/dev/null)
done
# Not inside an SSH session: report who we are and no client.
printf 'login_user=%s\nssh_connection=\n' "${SUDO_USER:-$(id -un)}"
