#!/bin/sh
# Job hook of Keel's runners, installed as job-started and job-completed
# (ACTIONS_RUNNER_HOOK_JOB_STARTED / _COMPLETED in each runner's .env).
# Both empty the work folder, so no job sees another's files; job-completed
# also prunes what the job left in Docker when the runner may use Docker.
set -eu
if [ "${KEEL_RUNNER_CLEAN_WORK:-1}" = 1 ] && [ -d "${KEEL_RUNNER_WORK:-}" ]; then
    # _actions and _tool are the runner's caches, kept between jobs.
    find "$KEEL_RUNNER_WORK" -mindepth 1 -maxdepth 1 ! -name _actions ! -name _tool -exec rm -rf {} +
fi
if [ "$(basename "$0")" = job-completed ] && [ "${KEEL_RUNNER_DOCKER_PRUNE:-0}" = 1 ] && command -v docker >/dev/null; then
    docker container prune --force >/dev/null
    docker network prune --force >/dev/null
    docker volume prune --force >/dev/null
    docker image prune --force >/dev/null
fi
