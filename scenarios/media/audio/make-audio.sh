#!/bin/sh
# Regenerates the reference audio of the media library (needs espeak-ng and sox).
set -e
cd "$(dirname "$0")"
espeak-ng -v en -s 150 -w /tmp/sipscen-hello-22k.wav \
  "Hello, this is sipscen. One two three, testing."
sox /tmp/sipscen-hello-22k.wav -r 8000 -c 1 -b 16 hello.wav
rm -f /tmp/sipscen-hello-22k.wav
