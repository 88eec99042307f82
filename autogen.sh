#!/bin/sh
# Regenerates the autotools build files (configure, Makefile.in, aux scripts).
set -e
cd "$(dirname "$0")"
autoreconf --install --force --warnings=all
