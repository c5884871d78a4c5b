/* A probe, not part of the build: how long the kernel takes to copy 570 MB of a file with
 * copy_file_range, depending on where the copy starts in the source and in the destination.
 * W2 (docs/benchmarks.md, bench/notes.md) compares Graft's convert with `cp`: cp copies the
 * whole file from offset 0 to offset 0 of an empty file; Graft writes each leaf's header with
 * write() and copies its data after it.
 *
 *   gcc -O2 -o /tmp/cfr bench/copy_file_range_probe.c
 *   /tmp/cfr build/bench/work/vgg19.pth /tmp/cfr.out 0 0      # as cp does
 *   /tmp/cfr build/bench/work/vgg19.pth /tmp/cfr.out 0 4096   # 4096 bytes written first
 *   /tmp/cfr build/bench/work/vgg19.pth /tmp/cfr.out 4032 0   # a source offset off the page
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s SOURCE DESTINATION SOURCE_OFFSET BYTES_WRITTEN_FIRST\n", argv[0]);
        return 2;
    }
    const long sourceOffset = atol(argv[3]), first = atol(argv[4]);
    const int in = open(argv[1], O_RDONLY);
    const int out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0 || first < 0 || first > 65536) {
        perror("open");
        return 1;
    }
    static char zeros[65536];
    if (first > 0 && write(out, zeros, (size_t)first) != first) {
        perror("write");
        return 1;
    }
    loff_t offset = sourceOffset;
    const long total = 570L << 20;
    long done = 0;
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (done < total) {
        const ssize_t n = copy_file_range(in, &offset, out, NULL, (size_t)(total - done), 0);
        if (n <= 0)
            break;
        done += n;
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    printf("source offset %ld, %ld bytes written first: %ld bytes copied in %.1f ms\n", sourceOffset, first, done,
           (double)(end.tv_sec - start.tv_sec) * 1e3 + (double)(end.tv_nsec - start.tv_nsec) / 1e6);
    close(in);
    close(out);
    return 0;
}
