#!/bin/sh
# Builds the C echo baseline (server and load generator) against the system's OpenSSL 3.
set -eu
cd "$(dirname "$0")"
mkdir -p .build
gcc -O2 -Wall -Wextra -o .build/echo_server echo_server.c -lssl -lcrypto -lpthread
gcc -O2 -Wall -Wextra -o .build/loadgen loadgen.c -lssl -lcrypto -lpthread
