#!/bin/sh
# Guest side of PcieTopologyIT (runs as /jvmm.d/50-pcie.sh in the test guest, busybox ash).
# Prints the guest's view of PCI as lines the test parses:
#   JVMM-PCI dev=DDDD:BB:DD.F vendor=0x.. device=0x.. class=0x...... parent=NAME header=HH [buses=PP,SS,UU] bar0=START-END
#   JVMM-PCI-IOMEM <a /proc/iomem line about PCI, indentation kept>
#   JVMM-PCI-DMESG <a kernel line about the host bridges>
#   JVMM-PCI-BAR dev=... bar0=ADDR before=V enabled=V readback=V   (devmem through BAR 0 of each endpoint)
#   JVMM-PCI-END functions=N
cd /sys/bus/pci/devices 2>/dev/null || { echo "JVMM-PCI-END functions=0"; exit 0; }
n=0
for d in *; do
    [ -e "$d/vendor" ] || continue
    n=$((n + 1))
    p=$(readlink -f "$d")
    p=${p%/*}
    hdr=$(hexdump -s 14 -n 1 -e '1/1 "%02x"' "$d/config")
    read -r s e _ < "$d/resource"
    extra=""
    case $hdr in
        01|81) b=$(hexdump -s 24 -n 3 -e '3/1 "%02x,"' "$d/config"); extra=" buses=${b%,}" ;;
    esac
    echo "JVMM-PCI dev=$d vendor=$(cat "$d/vendor") device=$(cat "$d/device") class=$(cat "$d/class") parent=${p##*/} header=$hdr$extra bar0=$s-$e"
done
grep -E 'pci|PCI|[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]' /proc/iomem | sed 's/^/JVMM-PCI-IOMEM /'
dmesg | grep -E 'pci-host-generic|PCI host bridge|root bus resource' | sed 's/^\[[ 0-9.]*\] //; s/^/JVMM-PCI-DMESG /'
for d in *; do
    hdr=$(hexdump -s 14 -n 1 -e '1/1 "%02x"' "$d/config")
    case $hdr in 00|80) ;; *) continue ;; esac
    read -r s e _ < "$d/resource"
    before=$(devmem "$s" 32)
    echo 1 > "$d/enable"
    enabled=$(devmem "$s" 32)
    devmem $((s + 16)) 32 0xcafef00d
    back=$(devmem $((s + 16)) 32)
    echo "JVMM-PCI-BAR dev=$d bar0=$s before=$before enabled=$enabled readback=$back"
done
echo "JVMM-PCI-END functions=$n"
