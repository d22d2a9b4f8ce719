#!/usr/bin/env bash
# ./deploy.sh deploy production | status | rollback — the plan's words, served by `sophia`.
exec sophia "$@"
