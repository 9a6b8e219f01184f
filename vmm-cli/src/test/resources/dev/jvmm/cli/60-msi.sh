#!/bin/sh
# Guest side of MsiIT: every virtio-pci function jvmm gave the guest, the interrupt lines of their MSI-X vectors,
# and /dev/hwrng read through each virtio-rng in turn, with the interrupt counts before and after each read.
# Lines: JVMM-MSI-DEV, JVMM-MSI-READ, JVMM-MSI-IRQ (POSIX sh for busybox ash).
hw=/sys/class/misc/hw_random

for d in /sys/bus/pci/devices/*; do
    [ "$(cat "$d/vendor")" = 0x1af4 ] || continue
    v=""
    for x in "$d"/virtio*; do [ -e "$x" ] && v=$x && break; done
    drv=$(basename "$(readlink "$v/driver" 2>/dev/null)" 2>/dev/null)
    echo "JVMM-MSI-DEV pci=${d##*/} device=$(cat "$d/device") virtio=${v##*/} driver=${drv:-none}" \
        "msi-irqs=$(for i in "$d"/msi_irqs/*; do [ -e "$i" ] && printf '%s,' "${i##*/}"; done)"
done
echo "JVMM-MSI-RNGS available=$(tr ' ' ',' < "$hw/rng_available")"

# Sum of the counts of the lines of /proc/interrupts for virtio device "$1"'s queues (virtio0-input ...), not its
# configuration vector.
count() {
    awk -v dev="$1" 'index($NF, dev "-") == 1 && $NF != dev "-config" {
        for (i = 2; i <= NF; i++) if ($i ~ /^[0-9]+$/) s += $i; else break
    } END { print s + 0 }' /proc/interrupts
}

read -r available < "$hw/rng_available"
for rng in $available; do
    [ "$rng" = none ] && continue
    echo "$rng" > "$hw/rng_current"
    before=""
    for p in /sys/bus/virtio/devices/*; do v=${p##*/}; before="$before $v=$(count "$v")"; done
    data=$(timeout 20 dd if=/dev/hwrng bs=64 count=1 2>/dev/null | od -An -tx1 | tr -d ' \n')
    after=""
    for p in /sys/bus/virtio/devices/*; do v=${p##*/}; after="$after $v=$(count "$v")"; done
    echo "JVMM-MSI-READ rng=$rng current=$(cat "$hw/rng_current") data=${data:-none} before=$(echo "${before# }" | tr ' ' ',') after=$(echo "${after# }" | tr ' ' ',')"
done
grep -E 'virtio|MSI' /proc/interrupts | while read -r line; do echo "JVMM-MSI-IRQ $line"; done
