#!/bin/sh
# Razor-style discovery: collect hardware facts once at boot and keep them where an
# agent (or a person on the console) can fetch them.
facts=/tmp/mk-facts
mkdir -p "$facts"
dmidecode > "$facts/dmidecode.txt" 2>&1
lshw -quiet > "$facts/lshw.txt" 2>&1
lsusb > "$facts/lsusb.txt" 2>&1
cat /proc/cpuinfo > "$facts/cpuinfo.txt"
ip addr > "$facts/ip-addr.txt" 2>&1
echo "mk-discover: facts written to $facts"
