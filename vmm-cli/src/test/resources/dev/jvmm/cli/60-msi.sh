#!/bin/sh
# Guest side of MsiIT: every virtio-pci function jvmm gave the guest, the interrupt lines of their MSI-X vectors,
# and /dev/hwrng read through each virtio-rng in turn, with the interrupt counts before and after each read.
# Lines: JVMM-MSI-DEV, JVMM-MSI-READ, JVMM-MSI-IRQ (POSIX sh for busybox ash).
hw=/sys/class/misc/hw_random

for d in /sys/bus/pci/devices/*; do
    [ "$(cat "$d/vendor")" = 0x1af4 ] || continue
    v=$(ls -d "$d"/virtio* 2>/dev/null | head -n 1)
    drv=$(basename "$(readlink "$v/driver" 2>/dev/null)" 2>/dev/null)
    echo "JVMM-MSI-DEV pci=${d##*/} device=$(cat "$d/device") virtio=${v##*/} driver=${drv:-none}" \
        "msi-irqs=$(ls "$d/msi_irqs" 2>/dev/null | tr '\n' ',')"
done
echo "JVMM-MSI-RNGS available=$(tr ' ' ',' < $hw/rng_available)"

# Sum of the counts of the lines of /proc/interrupts for virtio device "$1"'s queues (virtio0-input ...), not its
# configuration vector.
count() {
    awk -v dev="$1" 'index($NF, dev "-") == 1 && $NF != dev "-config" {
        for (i = 2; i <= NF; i++) if ($i ~ /^[0-9]+$/) s += $i; else break
    } END { print s + 0 }' /proc/interrupts
}

for rng in $(cat $hw/rng_available); do
    [ "$rng" = none ] && continue
    echo "$rng" > $hw/rng_current
    before=""
    for v in $(ls /sys/bus/virtio/devices); do before="$before $v=$(count "$v")"; done
    data=$(timeout 20 dd if=/dev/hwrng bs=64 count=1 2>/dev/null | od -An -tx1 | tr -d ' \n')
    after=""
    for v in $(ls /sys/bus/virtio/devices); do after="$after $v=$(count "$v")"; done
    echo "JVMM-MSI-READ rng=$rng current=$(cat $hw/rng_current) data=${data:-none} before=$(echo $before | tr ' ' ',') after=$(echo $after | tr ' ' ',')"
done
grep -E 'virtio|MSI' /proc/interrupts | while read -r line; do echo "JVMM-MSI-IRQ $line"; done
