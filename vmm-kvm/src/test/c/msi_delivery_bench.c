/*
 * MSI deliveries per second from C: the reference for dev.jvmm.kvm.bench.MsiDeliveryBench, which does the same
 * set-up and the same loops through jvmm's Java API. Run by scripts/bench-msi; both print
 *   ROUND <lang> <benchmark> <ops per wall-clock s> <ops per CPU s of the calling thread>
 * for each timed round, after untimed warm-up rounds, and
 *   RESULT <lang> <benchmark> <median> <min> <max>       (ops per wall-clock second) over them.
 *
 *   x86_64:  VM + KVM_CREATE_IRQCHIP + one vCPU whose LAPIC a 3-instruction real-mode guest enabled;
 *            signal_msi  = KVM_SIGNAL_MSI to that LAPIC (address 0xFEE00000, fixed, vector 0x30)
 *            irqfd_msi   = write(2) to an eventfd bound by KVM_IRQFD to a GSI routed as that same MSI
 *   aarch64: VM + vGICv3 + one vCPU (never run) + an ITS at 0x08080000 that no guest has enabled;
 *            irq_line_spi = KVM_IRQ_LINE raise + lower of one SPI (what jvmm's GICv2m frame does per MSI)
 *            irqfd_spi    = write(2) to an eventfd bound by KVM_IRQFD to a GSI routed to that SPI
 *            signal_msi_its_off = KVM_SIGNAL_MSI with a devid to that ITS's GITS_TRANSLATER: KVM answers EBUSY
 *                           (vgic_its_resolve_lpi: the ITS is not enabled), so this is the ioctl's path up to
 *                           the ITS lookup, not a delivery
 *   always:  eventfd_write = write(2) to an eventfd nobody listens to (the syscall alone)
 *
 * Without a usable /dev/kvm only eventfd_write runs (a "NOTE" line says why).
 * --only NAME runs only that benchmark (after the whole set-up): MsiDeliveryBench --peer pairs its rounds with
 * such runs.
 * Usage: msi_delivery_bench [--calls N] [--rounds R] [--warmup W] [--only NAME]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static long calls = 100000;
static int rounds = 5;
static int warmup = 3;
static const char *only;

static void die(const char *what) {
    fprintf(stderr, "msi_delivery_bench: %s: %s\n", what, strerror(errno));
    exit(1);
}

static int xioctl(int fd, unsigned long req, void *arg, const char *what) {
    int r = ioctl(fd, req, arg);
    if (r < 0) die(what);
    return r;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

typedef void (*loop_fn)(long n);

static double thread_cpu(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/*
 * Warm-up rounds, then timed rounds of `calls` iterations. Each round reports operations per second of wall-clock
 * time and per second of this thread's CPU time (user + system, which includes the kernel work done on the
 * thread's behalf but not the time other processes held the CPU); the summary gives median, min and max of the
 * wall-clock figure.
 */
static void bench(const char *name, loop_fn loop) {
    if (only && strcmp(only, name) != 0) return;
    double *ops = calloc(rounds, sizeof(double));
    for (int i = 0; i < warmup; i++) loop(calls);
    for (int i = 0; i < rounds; i++) {
        double c0 = thread_cpu(), t0 = now();
        loop(calls);
        double t1 = now(), c1 = thread_cpu();
        ops[i] = calls / (t1 - t0);
        printf("ROUND c %s %.0f %.0f\n", name, ops[i], calls / (c1 - c0));
    }
    qsort(ops, rounds, sizeof(double), cmp_double);
    printf("RESULT c %s %.0f %.0f %.0f\n", name, ops[rounds / 2], ops[0], ops[rounds - 1]);
    fflush(stdout);
    free(ops);
}

static int vm_fd = -1, plain_efd = -1, irq_efd = -1;
static struct kvm_msi msi;

static void loop_eventfd_write(long n) {
    uint64_t one = 1;
    for (long i = 0; i < n; i++) {
        if (write(plain_efd, &one, sizeof one) != sizeof one) die("eventfd write");
    }
    uint64_t v;
    if (read(plain_efd, &v, sizeof v) != sizeof v) die("eventfd read"); /* keep the counter far from its limit */
}

static void loop_irqfd(long n) {
    uint64_t one = 1;
    for (long i = 0; i < n; i++) {
        if (write(irq_efd, &one, sizeof one) != sizeof one) die("irqfd write");
    }
}

static void loop_signal_msi(long n) {
    for (long i = 0; i < n; i++) {
        /* jvmm fills the struct on every call (a per-thread buffer); do the same work here */
        memset(&msi, 0, sizeof msi);
        msi.address_lo = 0xFEE00000u;
        msi.data = 0x30;
        if (ioctl(vm_fd, KVM_SIGNAL_MSI, &msi) < 0) die("KVM_SIGNAL_MSI");
    }
}

#ifdef __aarch64__
static uint32_t spi_irq;
static struct kvm_irq_level irq_level;
#define ARM_ITS_BASE 0x08080000ul
#define ARM_ITS_TRANSLATER (ARM_ITS_BASE + 0x10040)
#define ARM_DEVID 0x0008 /* 00:01.0; no guest ever maps it */

static void fill_its_msi(void) {
    memset(&msi, 0, sizeof msi);
    msi.address_lo = (uint32_t) ARM_ITS_TRANSLATER;
    msi.address_hi = (uint32_t) (ARM_ITS_TRANSLATER >> 32);
    msi.data = 0;
    msi.flags = KVM_MSI_VALID_DEVID;
    msi.devid = ARM_DEVID;
}

static void loop_signal_msi_its_off(long n) {
    for (long i = 0; i < n; i++) {
        fill_its_msi(); /* as jvmm does per call */
        if (ioctl(vm_fd, KVM_SIGNAL_MSI, &msi) >= 0 || errno != EBUSY) die("KVM_SIGNAL_MSI to a disabled ITS: not EBUSY");
    }
}

static void loop_irq_line(long n) {
    for (long i = 0; i < n; i++) {
        irq_level.irq = spi_irq;
        irq_level.level = 1;
        if (ioctl(vm_fd, KVM_IRQ_LINE, &irq_level) < 0) die("KVM_IRQ_LINE 1");
        irq_level.irq = spi_irq;
        irq_level.level = 0;
        if (ioctl(vm_fd, KVM_IRQ_LINE, &irq_level) < 0) die("KVM_IRQ_LINE 0");
    }
}
#endif

static void set_gsi_route(struct kvm_irq_routing_entry e) {
    struct {
        struct kvm_irq_routing table;
        struct kvm_irq_routing_entry entry[1];
    } r;
    memset(&r, 0, sizeof r);
    r.table.nr = 1;
    r.entry[0] = e;
    xioctl(vm_fd, KVM_SET_GSI_ROUTING, &r, "KVM_SET_GSI_ROUTING");
}

static void bind_irqfd(int gsi) {
    irq_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (irq_efd < 0) die("eventfd");
    struct kvm_irqfd f;
    memset(&f, 0, sizeof f);
    f.fd = irq_efd;
    f.gsi = gsi;
    xioctl(vm_fd, KVM_IRQFD, &f, "KVM_IRQFD");
}

#ifdef __x86_64__
/* The guest of KvmX86Test's MSI test: 16 KiB of RAM at 0, code at 0x1000, DS based at the LAPIC page. */
static void x86_setup(int kvm) {
    xioctl(vm_fd, KVM_SET_TSS_ADDR, (void *) 0xfffbd000ul, "KVM_SET_TSS_ADDR");
    xioctl(vm_fd, KVM_CREATE_IRQCHIP, 0, "KVM_CREATE_IRQCHIP");
    uint8_t *ram = mmap(NULL, 0x4000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (ram == MAP_FAILED) die("mmap");
    static const uint8_t code[] = {
        0x66, 0xC7, 0x06, 0xF0, 0x00, 0xFF, 0x01, 0x00, 0x00, /* mov dword [ds:0xF0], 0x1FF: LAPIC SVR enable */
        0xE6, 0x10,                                           /* out 0x10, al: exit to us */
        0xF4,                                                 /* hlt (never reached: we stop running it) */
    };
    memcpy(ram + 0x1000, code, sizeof code);
    struct kvm_userspace_memory_region region = {
        .slot = 0, .guest_phys_addr = 0, .memory_size = 0x4000, .userspace_addr = (uint64_t) (uintptr_t) ram,
    };
    xioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &region, "KVM_SET_USER_MEMORY_REGION");
    int vcpu = ioctl(vm_fd, KVM_CREATE_VCPU, 0);
    if (vcpu < 0) die("KVM_CREATE_VCPU");
    int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (run_size < 0) die("KVM_GET_VCPU_MMAP_SIZE");
    struct kvm_run *run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
    if (run == MAP_FAILED) die("mmap kvm_run");
    struct kvm_sregs sregs;
    xioctl(vcpu, KVM_GET_SREGS, &sregs, "KVM_GET_SREGS");
    sregs.cs.base = 0;
    sregs.cs.selector = 0;
    sregs.ds.base = 0xFEE00000ul;
    xioctl(vcpu, KVM_SET_SREGS, &sregs, "KVM_SET_SREGS");
    struct kvm_regs regs;
    memset(&regs, 0, sizeof regs);
    regs.rip = 0x1000;
    regs.rflags = 0x2;
    regs.rsp = 0x3000;
    xioctl(vcpu, KVM_SET_REGS, &regs, "KVM_SET_REGS");
    xioctl(vcpu, KVM_RUN, 0, "KVM_RUN");
    if (run->exit_reason != KVM_EXIT_IO || run->io.port != 0x10) {
        fprintf(stderr, "msi_delivery_bench: guest exit %u, expected port I/O to 0x10\n", run->exit_reason);
        exit(1);
    }
    /* the vCPU stays stopped in userspace from here on: MSIs only set its IRR */
    struct kvm_irq_routing_entry e;
    memset(&e, 0, sizeof e);
    e.gsi = 24;
    e.type = KVM_IRQ_ROUTING_MSI;
    e.u.msi.address_lo = 0xFEE00000u;
    e.u.msi.data = 0x30;
    set_gsi_route(e);
    bind_irqfd(24);
    memset(&msi, 0, sizeof msi);
    msi.address_lo = 0xFEE00000u;
    msi.data = 0x30;
    int delivered = ioctl(vm_fd, KVM_SIGNAL_MSI, &msi);
    printf("# c: x86_64, first KVM_SIGNAL_MSI returned %d (1 = delivered to one LAPIC)\n", delivered);
}
#endif

#ifdef __aarch64__
static void set_attr_u64(int dev, uint32_t group, uint64_t attr, uint64_t value, const char *what) {
    struct kvm_device_attr a = { .group = group, .attr = attr, .addr = (uint64_t) (uintptr_t) &value };
    xioctl(dev, KVM_SET_DEVICE_ATTR, &a, what);
}

static void arm64_setup(void) {
    struct kvm_create_device cd = { .type = KVM_DEV_TYPE_ARM_VGIC_V3 };
    xioctl(vm_fd, KVM_CREATE_DEVICE, &cd, "KVM_CREATE_DEVICE vGICv3");
    set_attr_u64(cd.fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_DIST, 0x08000000ul, "vGIC dist");
    set_attr_u64(cd.fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST, 0x080A0000ul, "vGIC redist");
    uint32_t nr = 128;
    struct kvm_device_attr a = { .group = KVM_DEV_ARM_VGIC_GRP_NR_IRQS, .addr = (uint64_t) (uintptr_t) &nr };
    xioctl(cd.fd, KVM_SET_DEVICE_ATTR, &a, "vGIC NR_IRQS");
    int vcpu = ioctl(vm_fd, KVM_CREATE_VCPU, 0);
    if (vcpu < 0) die("KVM_CREATE_VCPU");
    struct kvm_vcpu_init init;
    memset(&init, 0, sizeof init);
    xioctl(vm_fd, KVM_ARM_PREFERRED_TARGET, &init, "KVM_ARM_PREFERRED_TARGET");
    xioctl(vcpu, KVM_ARM_VCPU_INIT, &init, "KVM_ARM_VCPU_INIT");
    struct kvm_device_attr ctrl = { .group = KVM_DEV_ARM_VGIC_GRP_CTRL, .attr = KVM_DEV_ARM_VGIC_CTRL_INIT };
    xioctl(cd.fd, KVM_SET_DEVICE_ATTR, &ctrl, "vGIC CTRL_INIT");
    /* SPI 10 = INTID 42, edge-style as jvmm's GICv2m frame drives it */
    spi_irq = (KVM_ARM_IRQ_TYPE_SPI << KVM_ARM_IRQ_TYPE_SHIFT) | ((32 + 10) << KVM_ARM_IRQ_NUM_SHIFT);
    struct kvm_irq_routing_entry e;
    memset(&e, 0, sizeof e);
    e.gsi = 10;
    e.type = KVM_IRQ_ROUTING_IRQCHIP;
    e.u.irqchip.irqchip = 0;
    e.u.irqchip.pin = 10; /* the SPI index: KVM adds the 32 private interrupts */
    set_gsi_route(e);
    bind_irqfd(10);
    struct kvm_create_device its = { .type = KVM_DEV_TYPE_ARM_VGIC_ITS };
    xioctl(vm_fd, KVM_CREATE_DEVICE, &its, "KVM_CREATE_DEVICE ITS");
    set_attr_u64(its.fd, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_ITS_ADDR_TYPE, ARM_ITS_BASE, "ITS base");
    struct kvm_device_attr its_init = { .group = KVM_DEV_ARM_VGIC_GRP_CTRL, .attr = KVM_DEV_ARM_VGIC_CTRL_INIT };
    xioctl(its.fd, KVM_SET_DEVICE_ATTR, &its_init, "ITS CTRL_INIT");
    fill_its_msi();
    int r = ioctl(vm_fd, KVM_SIGNAL_MSI, &msi);
    if (r < 0) printf("# c: aarch64, vGICv3 + an ITS the guest never enabled; first KVM_SIGNAL_MSI to it failed: %s\n",
                      strerror(errno));
    else printf("# c: aarch64, vGICv3 + an ITS the guest never enabled; first KVM_SIGNAL_MSI to it returned %d\n", r);
}
#endif

int main(int argc, char **argv) {
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--calls")) calls = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--rounds")) rounds = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--warmup")) warmup = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--only")) only = argv[i + 1];
        else { fprintf(stderr, "usage: %s [--calls N] [--rounds R] [--warmup W] [--only NAME]\n", argv[0]); return 2; }
    }
    if (argc % 2 == 0 || calls < 1 || rounds < 1 || warmup < 0) { fprintf(stderr, "bad numbers\n"); return 2; }
    plain_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (plain_efd < 0) die("eventfd");

    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0) {
        printf("NOTE c: no usable /dev/kvm (%s): only eventfd_write is measured\n", strerror(errno));
        bench("eventfd_write", loop_eventfd_write);
        return 0;
    }
    vm_fd = ioctl(kvm, KVM_CREATE_VM, 0);
    if (vm_fd < 0) die("KVM_CREATE_VM");
#if defined(__x86_64__)
    x86_setup(kvm);
    bench("eventfd_write", loop_eventfd_write);
    bench("signal_msi", loop_signal_msi);
    bench("irqfd_msi", loop_irqfd);
#elif defined(__aarch64__)
    arm64_setup();
    bench("eventfd_write", loop_eventfd_write);
    bench("irq_line_spi", loop_irq_line);
    bench("irqfd_spi", loop_irqfd);
    bench("signal_msi_its_off", loop_signal_msi_its_off);
    (void) loop_signal_msi;
#else
#error "x86_64 or aarch64 only"
#endif
    return 0;
}
