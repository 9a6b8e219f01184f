/*
 * blkbench: block-device read benchmark for the test guest (scripts/bench-blk).
 *
 *   blkbench DEVICE seq  SECONDS   128 KiB sequential reads from offset 0, wrapping at the end of the device
 *   blkbench DEVICE rand SECONDS   4 KiB random reads (4 KiB-aligned offsets drawn from a fixed-seed xorshift64*
 *                                  generator: every run reads the same sequence of blocks)
 *
 * The device is opened O_RDONLY | O_DIRECT, so every read goes to the virtio disk (no guest page cache): one
 * synchronous pread(2) at a time (queue depth 1) into a 4 KiB-aligned posix_memalign'ed buffer, for SECONDS of
 * CLOCK_MONOTONIC. Each read's latency is the time from the end of the previous read to the end of this one (the
 * loop does nothing else). Prints one machine-readable line on stdout:
 *
 *   BLKBENCH mode=rand bs=4096 ops=N bytes=B secs=S mibps=M iops=I lat_us_mean=L lat_us_min=A lat_us_max=Z
 *
 * Exit status 0, or 1 with a message on stderr (open, size, short read, bad arguments).
 *
 * Build: aarch64-linux-gnu-gcc -static -O2 -o blkbench blkbench.c (scripts/bench-blk does)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SEQ_BS (128 * 1024)
#define RAND_BS 4096
#define SEED 0x9E3779B97F4A7C15ull

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t rng_state = SEED;

static uint64_t xorshift64s(void) {
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

static void die(const char *what, const char *dev) {
    fprintf(stderr, "blkbench: %s %s: %s\n", what, dev, strerror(errno));
    exit(1);
}

struct result {
    uint64_t ops, bytes;
    double secs, lat_sum, lat_min, lat_max;
};

/* Reads for `secs` seconds; `seq` picks the pattern. */
static struct result run(int fd, const char *dev, void *buf, int seq, uint64_t size, double secs) {
    size_t bs = seq ? SEQ_BS : RAND_BS;
    uint64_t blocks = size / bs;
    struct result r = {0, 0, 0, 0, 1e30, 0};
    uint64_t pos = 0;
    double start = now(), t = start, end = start + secs;
    while (t < end) {
        uint64_t off;
        if (seq) {
            if (pos + bs > size) pos = 0;
            off = pos;
            pos += bs;
        } else {
            off = (xorshift64s() % blocks) * bs;
        }
        ssize_t n = pread(fd, buf, bs, (off_t) off);
        if (n < 0) die("pread", dev);
        if ((size_t) n != bs) {
            fprintf(stderr, "blkbench: short read of %zd bytes at %llu on %s\n", n, (unsigned long long) off, dev);
            exit(1);
        }
        double t2 = now();
        double lat = t2 - t;
        t = t2;
        r.ops++;
        r.bytes += bs;
        r.lat_sum += lat;
        if (lat < r.lat_min) r.lat_min = lat;
        if (lat > r.lat_max) r.lat_max = lat;
    }
    r.secs = t - start;
    return r;
}

int main(int argc, char **argv) {
    if (argc != 4 || (strcmp(argv[2], "seq") != 0 && strcmp(argv[2], "rand") != 0)) {
        fprintf(stderr, "usage: %s DEVICE seq|rand SECONDS\n", argv[0]);
        return 1;
    }
    const char *dev = argv[1];
    int seq = strcmp(argv[2], "seq") == 0;
    double secs = atof(argv[3]);
    if (!(secs > 0)) {
        fprintf(stderr, "blkbench: SECONDS must be > 0\n");
        return 1;
    }
    int fd = open(dev, O_RDONLY | O_DIRECT);
    if (fd < 0) die("open", dev);
    uint64_t size = 0;
    struct stat st;
    if (fstat(fd, &st) != 0) die("fstat", dev);
    if (S_ISBLK(st.st_mode)) {
        if (ioctl(fd, BLKGETSIZE64, &size) != 0) die("BLKGETSIZE64", dev);
    } else {
        size = (uint64_t) st.st_size;
    }
    size_t bs = seq ? SEQ_BS : RAND_BS;
    if (size < bs) {
        fprintf(stderr, "blkbench: %s has %llu bytes, less than one %zu-byte block\n", dev,
                (unsigned long long) size, bs);
        return 1;
    }
    void *buf;
    int e = posix_memalign(&buf, 4096, bs);
    if (e != 0) {
        errno = e;
        die("posix_memalign for", dev);
    }
    memset(buf, 0, bs);
    struct result r = run(fd, dev, buf, seq, size, secs);
    printf("BLKBENCH mode=%s bs=%zu ops=%llu bytes=%llu secs=%.3f mibps=%.2f iops=%.1f lat_us_mean=%.1f "
           "lat_us_min=%.1f lat_us_max=%.1f\n",
           seq ? "seq" : "rand", bs, (unsigned long long) r.ops, (unsigned long long) r.bytes, r.secs,
           r.bytes / r.secs / (1024.0 * 1024.0), r.ops / r.secs, r.lat_sum / r.ops * 1e6, r.lat_min * 1e6,
           r.lat_max * 1e6);
    fflush(stdout);
    close(fd);
    return 0;
}
