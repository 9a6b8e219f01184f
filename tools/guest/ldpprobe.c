/*
 * ldpprobe: loads from a device address the way that gives KVM no instruction syndrome, for jvmm's hardening test.
 *
 *   ldpprobe FILE OFFSET [ldr]
 *
 * Maps the page of FILE (/dev/mem, or a PCI BAR's /sys/bus/pci/devices/.../resourceN) that holds OFFSET and loads
 * from OFFSET with `ldp` (a pair of registers: ESR_EL2.ISV = 0, so KVM reports KVM_EXIT_ARM_NISV and the VMM decides)
 * or, with `ldr`, with a plain load KVM can decode. Prints "LDPPROBE mapped ..." before the access and
 * "LDPPROBE survived ..." after it. A VMM that answers an undecodable access with an external data abort kills this
 * process with SIGBUS (status 135 in the shell) and the guest goes on.
 *
 * Build: aarch64-linux-gnu-gcc -static -O2 -o ldpprobe ldpprobe.c (HardeningIT does)
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: ldpprobe FILE OFFSET [ldr]\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    unsigned long offset = strtoul(argv[2], NULL, 0);
    int plain = argc > 3 && strcmp(argv[3], "ldr") == 0;
    long page = sysconf(_SC_PAGESIZE);
    int fd = open(argv[1], O_RDONLY | O_SYNC);
    if (fd < 0) {
        perror(argv[1]);
        return 1;
    }
    void *map = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, offset & ~(page - 1));
    if (map == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    const volatile uint64_t *p = (const volatile uint64_t *) ((char *) map + (offset & (page - 1) & ~7UL));
    printf("LDPPROBE mapped %s offset=0x%lx insn=%s\n", argv[1], offset, plain ? "ldr" : "ldp");
    uint64_t a = 0, b = 0;
    if (plain) {
        __asm__ volatile("ldr %0, [%1]" : "=r"(a) : "r"(p) : "memory");
    } else {
        __asm__ volatile("ldp %0, %1, [%2]" : "=r"(a), "=r"(b) : "r"(p) : "memory");
    }
    printf("LDPPROBE survived a=0x%llx b=0x%llx\n", (unsigned long long) a, (unsigned long long) b);
    return 0;
}
