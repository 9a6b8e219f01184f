/**
 * Virtqueues, device side: the split virtqueue of virtio 1.2 §2.7 ({@link dev.jvmm.core.virtio.queue.SplitQueue}).
 *
 * <p>Everything the guest wrote (ring indices, ring entries, descriptors, indirect tables) is untrusted: it is
 * read once, checked, and a violation surfaces as {@link dev.jvmm.core.virtio.queue.VirtqueueException}, never
 * as another exception. A queue is confined to one thread at a time (the transport serializes its accesses);
 * the only concurrency it handles is the guest's vCPUs writing the rings while the device reads them, with the
 * fences the spec asks for.
 */
package dev.jvmm.core.virtio.queue;
