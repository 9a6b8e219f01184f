#!/bin/sh
# Guest side of HardeningIT (POSIX sh for busybox ash). What it does depends on the kernel command line:
#   (default)          ldp and ldr from a virtio-rng's BAR (its driver unbound, so the BAR is not claimed and
#                      may be mapped: CONFIG_IO_STRICT_DEVMEM) and from an address no device claims; lines
#                      JVMM-HARD probe=... insn=... rc=...
#   jvmm.flood=N       N lines of 100 bytes on the console, then JVMM-HARD flooded
#   jvmm.flood-forever console lines until the VM is stopped
#   jvmm.fake-panic    prints Linux's panic line as a user would and reboots
#   jvmm.pvpanic       shows the pvpanic node and register, then writes PANICKED to it as the kernel's pvpanic
#                      notifier does in panic() (the cloud kernel has no pvpanic driver: CONFIG_PVPANIC is not set)
read -r cmdline < /proc/cmdline
arg() { for a in $cmdline; do case $a in "$1"=*) echo "${a#*=}"; return 0 ;; "$1") echo yes; return 0 ;; esac; done; return 1; }
line=$(printf '%099d' 0 | tr 0 x)

if n=$(arg jvmm.flood); then
    i=0
    while [ "$i" -lt "$n" ]; do echo "$line"; i=$((i + 1)); done
    echo "JVMM-HARD flooded lines=$n"
    exit 0
fi
if arg jvmm.flood-forever >/dev/null; then
    echo "JVMM-HARD flooding"
    while :; do echo "$line"; done
fi
if arg jvmm.fake-panic >/dev/null; then
    echo "Kernel panic - not syncing: printed by a guest user, not by the kernel"
    sleep 1
    reboot -f
    sleep 30
fi

if arg jvmm.pvpanic >/dev/null; then
    node=/proc/device-tree/pvpanic@9020000
    echo "JVMM-HARD pvpanic compatible=$(tr -d '\000' < "$node/compatible" 2>/dev/null || echo none)" \
        "offered=$(devmem 0x09020000 8)"
    devmem 0x09020000 8 1
    sleep 30
    echo "JVMM-HARD pvpanic-ignored"
fi

probe() { # name file offset insn
    /ldpprobe "$2" "$3" "$4"
    echo "JVMM-HARD probe=$1 insn=$4 rc=$?"
}
for d in /sys/bus/pci/devices/*; do
    if [ "$(cat "$d/vendor")" != 0x1af4 ] || [ "$(cat "$d/device")" != 0x1044 ]; then continue; fi
    [ -e "$d/driver" ] && echo "${d##*/}" > "$d/driver/unbind"
    echo "JVMM-HARD bar pci=${d##*/} driver=$(basename "$(readlink "$d/driver" 2>/dev/null)" 2>/dev/null)"
    probe bar "$d/resource4" 0 ldp
    probe bar "$d/resource4" 0 ldr
done
# 0x0905_0000: between the PL031 RTC and the segment ITS area, nothing there (MemoryMap).
probe unclaimed /dev/mem 0x09050000 ldp
probe unclaimed /dev/mem 0x09050000 ldr
echo "JVMM-HARD probes-done"
