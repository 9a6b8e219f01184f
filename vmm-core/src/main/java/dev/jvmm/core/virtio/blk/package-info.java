/**
 * The virtio block device (virtio 1.2 §5.2): {@link dev.jvmm.core.virtio.blk.VirtioBlk} serves requests from its
 * queues on a pool of I/O threads against a {@link dev.jvmm.core.virtio.blk.BlockBackend}, today a raw image or
 * host block device ({@link dev.jvmm.core.virtio.blk.FileBackend}, through vmm-kvm's {@code HostFile}).
 *
 * <p>Everything the guest puts in a request (header, sector numbers, lengths, discard segments) is untrusted: it is
 * checked against the disk's capacity and the limits the device advertised, and a bad request completes with an
 * error status; nothing a guest sends throws into the transport.
 */
package dev.jvmm.core.virtio.blk;
