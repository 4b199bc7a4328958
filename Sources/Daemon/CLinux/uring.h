#ifndef CLINUX_URING_H
#define CLINUX_URING_H

/* A minimal io_uring: sends to many sockets submitted in one system call (RingWriter.swift).
 * In C because the rings shared with the kernel need acquire/release loads and stores, which C
 * has for any pointer (liburing is not ours to depend on). One thread owns a ring: the one that
 * created it (IORING_SETUP_SINGLE_ISSUER where the kernel has it). */
#include <errno.h>
#include <linux/io_uring.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>

struct clinux_ring {
    int fd;
    unsigned sq_entries;
    unsigned *sq_head, *sq_tail, *sq_mask, *sq_array;
    struct io_uring_sqe *sqes;
    unsigned *cq_head, *cq_tail, *cq_mask;
    struct io_uring_cqe *cqes;
    void *rings;
    size_t rings_size;
    size_t sqes_size;
    /* Prepared and not yet submitted. */
    unsigned queued;
};

/* A ring of `entries` submissions (and twice as many completions), or NULL with errno (a kernel
 * without io_uring, or with it turned off). */
static inline struct clinux_ring *clinux_ring_create(unsigned entries) {
    struct io_uring_params params;
    memset(&params, 0, sizeof params);
    params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
    int fd = (int)syscall(__NR_io_uring_setup, entries, &params);
    if (fd < 0) {
        memset(&params, 0, sizeof params);
        fd = (int)syscall(__NR_io_uring_setup, entries, &params);
    }
    if (fd < 0) return NULL;
    if (!(params.features & IORING_FEAT_SINGLE_MMAP)) {
        close(fd);
        errno = ENOSYS;
        return NULL;
    }
    struct clinux_ring *ring = calloc(1, sizeof *ring);
    if (ring == NULL) {
        close(fd);
        return NULL;
    }
    size_t sq_size = params.sq_off.array + params.sq_entries * sizeof(unsigned);
    size_t cq_size = params.cq_off.cqes + params.cq_entries * sizeof(struct io_uring_cqe);
    ring->rings_size = sq_size > cq_size ? sq_size : cq_size;
    ring->rings = mmap(NULL, ring->rings_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
    ring->sqes_size = params.sq_entries * sizeof(struct io_uring_sqe);
    ring->sqes = mmap(NULL, ring->sqes_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQES);
    if (ring->rings == MAP_FAILED || ring->sqes == MAP_FAILED) {
        int code = errno;
        if (ring->rings != MAP_FAILED) munmap(ring->rings, ring->rings_size);
        if (ring->sqes != MAP_FAILED) munmap(ring->sqes, ring->sqes_size);
        close(fd);
        free(ring);
        errno = code;
        return NULL;
    }
    char *base = ring->rings;
    ring->fd = fd;
    ring->sq_entries = params.sq_entries;
    ring->sq_head = (unsigned *)(base + params.sq_off.head);
    ring->sq_tail = (unsigned *)(base + params.sq_off.tail);
    ring->sq_mask = (unsigned *)(base + params.sq_off.ring_mask);
    ring->sq_array = (unsigned *)(base + params.sq_off.array);
    ring->cq_head = (unsigned *)(base + params.cq_off.head);
    ring->cq_tail = (unsigned *)(base + params.cq_off.tail);
    ring->cq_mask = (unsigned *)(base + params.cq_off.ring_mask);
    ring->cqes = (struct io_uring_cqe *)(base + params.cq_off.cqes);
    return ring;
}

static inline void clinux_ring_destroy(struct clinux_ring *ring) {
    munmap(ring->rings, ring->rings_size);
    munmap(ring->sqes, ring->sqes_size);
    close(ring->fd);
    free(ring);
}

/* Room for this many more submissions before the next submit. */
static inline unsigned clinux_ring_room(const struct clinux_ring *ring) {
    return ring->sq_entries - ring->queued;
}

/* Prepares a send of len bytes at buf to sock that never waits (MSG_DONTWAIT: a full socket
 * completes with -EAGAIN) and raises no SIGPIPE; `tag` comes back with its result. The caller
 * checked the room. */
static inline void clinux_ring_send(struct clinux_ring *ring, int sock, const void *buf, size_t len, uint64_t tag) {
    unsigned tail = *ring->sq_tail + ring->queued;
    unsigned index = tail & *ring->sq_mask;
    struct io_uring_sqe *sqe = &ring->sqes[index];
    memset(sqe, 0, sizeof *sqe);
    sqe->opcode = IORING_OP_SEND;
    sqe->fd = sock;
    sqe->addr = (uint64_t)(uintptr_t)buf;
    sqe->len = (uint32_t)len;
    sqe->msg_flags = MSG_DONTWAIT | MSG_NOSIGNAL;
    sqe->user_data = tag;
    ring->sq_array[index] = index;
    ring->queued++;
}

/* Submits what was prepared: returns how many the kernel took, or -1 with errno when it took none.
 * What it did not take is withdrawn (the caller's buffers are free of it). */
static inline int clinux_ring_submit(struct clinux_ring *ring) {
    unsigned count = ring->queued;
    if (count == 0) return 0;
    unsigned tail = *ring->sq_tail;
    __atomic_store_n(ring->sq_tail, tail + count, __ATOMIC_RELEASE);
    ring->queued = 0;
    long taken;
    do {
        taken = syscall(__NR_io_uring_enter, ring->fd, count, 0, IORING_ENTER_GETEVENTS, NULL, 0);
    } while (taken < 0 && errno == EINTR);
    unsigned kept = taken < 0 ? 0 : (unsigned)taken;
    if (kept < count) __atomic_store_n(ring->sq_tail, tail + kept, __ATOMIC_RELEASE);
    return taken < 0 ? -1 : (int)kept;
}

/* Waits until at least `count` completions are there to take. 0, or -1 with errno. */
static inline int clinux_ring_wait(struct clinux_ring *ring, unsigned count) {
    long result;
    do {
        result = syscall(__NR_io_uring_enter, ring->fd, 0, count, IORING_ENTER_GETEVENTS, NULL, 0);
    } while (result < 0 && errno == EINTR);
    return result < 0 ? -1 : 0;
}

/* The next completion's tag and result (a byte count or -errno); 0 when there is none. */
static inline int clinux_ring_next(struct clinux_ring *ring, uint64_t *tag, int32_t *result) {
    unsigned head = *ring->cq_head;
    if (head == __atomic_load_n(ring->cq_tail, __ATOMIC_ACQUIRE)) return 0;
    struct io_uring_cqe *cqe = &ring->cqes[head & *ring->cq_mask];
    *tag = cqe->user_data;
    *result = cqe->res;
    __atomic_store_n(ring->cq_head, head + 1, __ATOMIC_RELEASE);
    return 1;
}

#endif
