#!/bin/sh
# Guest side of VirtioBlkIT: the virtio disks by serial, a checksum of the host-prepared disk, a pattern written and
# synced to the writable one, a write refused by the read-only one. With jvmm.blk-wait on the command line it then
# waits (the host stops jvmm with SIGTERM). Lines: JVMM-BLK-DEV, -READ, -WRITE, -RO, -SYNCED (POSIX sh, busybox).
for b in /sys/block/vd*; do
    [ -e "$b" ] || continue
    d=${b##*/}
    serial=$(cat "$b/serial" 2>/dev/null)
    echo "JVMM-BLK-DEV dev=$d serial=$serial ro=$(cat "$b/ro") sectors=$(cat "$b/size") pci=$(basename "$(readlink -f "$b/device/..")")"
    case $serial in
        disk-read) read_dev=$d ;;
        disk-write) write_dev=$d ;;
        disk-ro) ro_dev=$d ;;
    esac
done
echo "JVMM-BLK-READ sha256=$(sha256sum "/dev/$read_dev" | cut -d' ' -f1)"

yes 'jvmm virtio-blk pattern 0123456789abcdef' | head -c 1048576 > /tmp/pattern
dd if=/tmp/pattern of="/dev/$write_dev" bs=65536 conv=fsync 2>/dev/null
echo "JVMM-BLK-WRITE rc=$? sha256=$(sha256sum /tmp/pattern | cut -d' ' -f1)"
back=$(dd if="/dev/$write_dev" bs=65536 count=16 iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)
echo "JVMM-BLK-READBACK sha256=$back"

dd if=/tmp/pattern of="/dev/$ro_dev" bs=4096 count=1 conv=fsync 2>/dev/null
echo "JVMM-BLK-RO write-rc=$?"
sync
echo "JVMM-BLK-SYNCED"
case " $(cat /proc/cmdline) " in
    *" jvmm.blk-wait "*) sleep 600 ;;
esac
